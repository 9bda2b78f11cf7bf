# The API image. The same image runs the Celery worker, beat and the one-shot migrate job
# (docker-compose.yml). Every dependency is a binary wheel (libvips, libjpeg-turbo, libpq
# ship inside them): no compiler and no apt packages are needed.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    DATA_DIR=/data \
    PHOTO_STORAGE_URL=file:///data/photos \
    PROMETHEUS_MULTIPROC_DIR=/run/metrics \
    PORT=8000

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the pinned tree changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY alembic.ini ./
COPY migrations ./migrations
COPY scripts ./scripts
COPY workers ./workers
# api/ carries its seed data (reference, tourism), the console and wall static files and
# the gunicorn settings.
COPY api ./api

# A fixed numeric uid so that volumes and the host agree on who owns photos.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app app \
    && mkdir -p /data/photos /run/metrics /var/lib/ioc/beat \
    && chown -R 10001:10001 /data /run/metrics /var/lib/ioc
USER 10001:10001

EXPOSE 8000
# Ready = the database and the broker answer (GET /readyz). The worker and beat services
# override this in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app"]
