"""``make run``: the whole system on one machine, on embedded defaults.

1. PostgreSQL and Redis: the URLs from the environment, else embedded servers
   under DATA_DIR (data survives a restart).
2. Migrations to head, then reference and demo data on first start.
3. The chatbot's model, trained when the bot changed (cached by content hash).
4. The API under gunicorn on 127.0.0.1:PORT, the Celery worker and beat, the Rasa server
   and the action server — see ``processes()``. BOT_ENABLED=false leaves the bot out.
Ctrl-C (or SIGTERM) stops every child, then the embedded servers.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts import bot, services

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


def bot_enabled(env: dict) -> bool:
    wanted = env.get("BOT_ENABLED", "true").lower() not in ("0", "false", "no", "off")
    if wanted and not bot.available():
        step("chatbot: not available (bot/.venv or the bot project is missing); "
             "POST /api/v1/chat answers 503")
        return False
    return wanted


def _bot_endpoints(env: dict, external_db: bool, external_redis: bool) -> str:
    """Real servers on TCP → the tracker store in PostgreSQL (database ``rasa``) and the lock
    store in Redis; the embedded ones (Unix sockets) → Rasa's in-memory stores."""
    if not (external_db and external_redis):
        return "endpoints.yml"
    from sqlalchemy.engine import make_url
    url = make_url(services.normalise_db_url(env["DATABASE_URL"])).set(database="rasa")
    if not url.host:
        return "endpoints.yml"
    services.ensure_database(url.render_as_string(hide_password=False))
    env.update(bot.production_endpoints_env(url.render_as_string(hide_password=False),
                                            env.get("RASA_LOCK_REDIS_URL") or env["REDIS_URL"]))
    return "endpoints.prod.yml"


def _metrics_env(env: dict, name: str) -> dict:
    """The API's and the worker's processes write Prometheus samples to a directory of their
    own (emptied at start); the worker serves them on WORKER_METRICS_PORT (9101 here)."""
    if name not in ("api", "worker"):
        return env
    directory = services.data_dir() / "metrics" / name
    if directory.exists():
        for stale in directory.iterdir():
            stale.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    extra = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    if name == "worker":
        extra["WORKER_METRICS_PORT"] = env.get("WORKER_METRICS_PORT", "9101")
    return env | extra


def processes(env: dict, model: Path | None = None, endpoints: str = "endpoints.yml"
              ) -> dict[str, list[str]]:
    port = env.get("PORT", "8000")
    chat = {}
    if model is not None:
        chat = {f"bot-{name}": cmd for name, cmd in bot.commands(
            model, rasa_port=int(env.get("RASA_PORT", "5005")),
            actions_port=int(env.get("ACTIONS_PORT", "5055")), endpoints=endpoints).items()}
    return chat | {
        "api": [PY, "-m", "gunicorn", "-c", str(ROOT / "api" / "gunicorn_conf.py"), "--bind", f"127.0.0.1:{port}", "--workers",
                env.get("WEB_CONCURRENCY", "2"), "--threads", "4", "--timeout", "60",
                "--access-logfile", "-", "--error-logfile", "-", "api.wsgi:app"],
        "worker": [PY, "-m", "celery", "-A", "workers.celery_app", "worker", "-l", "info",
                   "-c", env.get("WORKER_CONCURRENCY", "2"), "--without-gossip", "--without-mingle"],
        "beat": [PY, "-m", "celery", "-A", "workers.celery_app", "beat", "-l", "info",
                 "-s", str(services.data_dir() / "celerybeat-schedule")],
    }


def main() -> int:
    external_db = bool(os.environ.get("DATABASE_URL"))
    external_redis = bool(os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL"))
    env, embedded_redis = _env_with_services()
    step("migrations: alembic upgrade head")
    _run([PY, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"], env)
    step("reference and demo data (first start only)")
    _run([PY, "-m", "flask", "--app", "api", "ref", "load", "--if-empty"], env)
    _run([PY, "-m", "flask", "--app", "api", "tourism", "load", "--if-empty"], env)

    model, endpoints = None, "endpoints.yml"
    if bot_enabled(env):
        step("chatbot model")
        model = bot.ensure_model()
        endpoints = _bot_endpoints(env, external_db, external_redis)
        env.setdefault("RASA_URL", f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}")
    else:
        step("chatbot: off (BOT_ENABLED=false); POST /api/v1/chat answers 503")

    children: dict[str, subprocess.Popen] = {}
    for name, cmd in processes(env, model, endpoints).items():
        step(f"starting {name}")
        if name.startswith("bot-"):
            child_env = bot.base_env(**{k: v for k, v in env.items() if k.startswith("RASA_")},
                                     IOC_API_URL=f"http://127.0.0.1:{env.get('PORT', '8000')}",
                                     IOC_PUBLIC_URL=env.get("IOC_PUBLIC_URL")
                                     or env["PUBLIC_BASE_URL"],
                                     ACTION_ENDPOINT_URL=f"http://127.0.0.1:"
                                     f"{env.get('ACTIONS_PORT', '5055')}/webhook")
            children[name] = subprocess.Popen(cmd, cwd=bot.BOT, env=child_env,
                                              start_new_session=True)
        else:
            children[name] = subprocess.Popen(cmd, cwd=ROOT, env=_metrics_env(env, name),
                                              start_new_session=True)
    port = env.get("PORT", "8000")
    step(f"ready: http://127.0.0.1:{port}/docs (API docs), /healthz, /readyz — Ctrl-C stops"
         + ("; the bot answers at POST /api/v1/chat once Rasa has loaded (~30 s)" if model else ""))

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
