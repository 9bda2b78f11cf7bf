"""``make run``: the whole system on one machine, on embedded defaults.

1. PostgreSQL and Redis: the URLs from the environment, else embedded servers
   under DATA_DIR (data survives a restart).
2. Migrations to head, then reference and demo data on first start.
3. The API under gunicorn on 127.0.0.1:PORT, the Celery worker and beat (and,
   as it lands, the bot) — see ``processes()``.
Ctrl-C (or SIGTERM) stops every child, then the embedded servers.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts import services

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _env_with_services() -> tuple[dict, services.EmbeddedRedis | None]:
    env = dict(os.environ)
    step("database: " + ("DATABASE_URL" if env.get("DATABASE_URL") else "embedded PostgreSQL "
                         f"({services.data_dir() / 'pg'})"))
    env["DATABASE_URL"] = services.database_url()
    step("broker: " + ("CELERY_BROKER_URL" if env.get("CELERY_BROKER_URL") else
                       f"embedded Redis ({services.data_dir() / 'redis'})"))
    redis_url, embedded = services.redis_url()
    env.setdefault("CELERY_BROKER_URL", redis_url)
    env.setdefault("REDIS_URL", redis_url)
    env.setdefault("PYTHONPATH", str(ROOT))
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env.get('PORT', '8000')}")
    return env, embedded


def _run(cmd: list[str], env: dict) -> None:
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")


def processes(env: dict) -> dict[str, list[str]]:
    port = env.get("PORT", "8000")
    return {
        "api": [PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                env.get("WEB_CONCURRENCY", "2"), "--threads", "4", "--timeout", "60",
                "--access-logfile", "-", "--error-logfile", "-", "api.wsgi:app"],
        "worker": [PY, "-m", "celery", "-A", "workers.celery_app", "worker", "-l", "info",
                   "-c", env.get("WORKER_CONCURRENCY", "2"), "--without-gossip", "--without-mingle"],
        "beat": [PY, "-m", "celery", "-A", "workers.celery_app", "beat", "-l", "info",
                 "-s", str(services.data_dir() / "celerybeat-schedule")],
    }


def main() -> int:
    env, embedded_redis = _env_with_services()
    step("migrations: alembic upgrade head")
    _run([PY, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"], env)
    step("reference and demo data (first start only)")
    _run([PY, "-m", "flask", "--app", "api", "ref", "load", "--if-empty"], env)
    _run([PY, "-m", "flask", "--app", "api", "tourism", "load", "--if-empty"], env)

    children: dict[str, subprocess.Popen] = {}
    for name, cmd in processes(env).items():
        step(f"starting {name}")
        children[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    port = env.get("PORT", "8000")
    step(f"ready: http://127.0.0.1:{port}/docs (API docs), /healthz, /readyz — Ctrl-C stops")

    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                print(f"!! {name} exited with {proc.returncode}; stopping", flush=True)
                exit_code = proc.returncode or 1
                stopping = True
        time.sleep(0.5)

    step("stopping")
    for proc in children.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in children.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    if embedded_redis:
        embedded_redis.stop()
    step("stopped")  # the embedded PostgreSQL stops when this process exits
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
