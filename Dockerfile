FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY api ./api
COPY migrations ./migrations
COPY scripts ./scripts
COPY workers ./workers
COPY alembic.ini ./
RUN useradd --system --uid 10001 app && mkdir -p /data/photos && chown app /data/photos
USER app
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "api.wsgi:app"]
