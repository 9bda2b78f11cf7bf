"""Gunicorn settings for the API: ``gunicorn -c api/gunicorn_conf.py api.wsgi:app``.

Sizes come from the environment (``PORT``, ``GUNICORN_WORKERS``, ``GUNICORN_THREADS``,
``GUNICORN_TIMEOUT``); docs/deploy.md says how to choose them. With
``PROMETHEUS_MULTIPROC_DIR`` set, each worker process writes its metric samples there:
the directory is emptied when the master starts (stale files of an earlier run would add
to the counters) and a dead worker's live gauges are retired.
"""
import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = None  # api.logs writes one JSON access line per request, with its request id
errorlog = "-"


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        if path.exists():
            for child in path.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
