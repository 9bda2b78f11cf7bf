"""The real bot for end-to-end tests: the trained model (scripts/bot.py trains it when the bot
changed; `make test` does that before pytest), the Rasa server and the action server on loopback
ports, and the API on a live loopback server so that the bot's actions call it over HTTP.

On real servers (TEST_DATABASE_URL / REDIS_URL on TCP) Rasa keeps its trackers in PostgreSQL
and its locks in Redis, as in production; on the embedded ones it keeps them in memory.
"""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from scripts import bot, services

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _production_stores(database_url: str, redis_url: str) -> dict | None:
    from sqlalchemy.engine import make_url
    url = make_url(services.normalise_db_url(database_url))
    if not url.host or not redis_url.startswith("redis://"):
        return None
    tracker = url.set(database=f"{url.database}_rasa").render_as_string(hide_password=False)
    services.ensure_database(tracker)
    return {"url": tracker, "env": bot.production_endpoints_env(tracker, redis_url)}


@pytest.fixture(scope="session")
def tourism_loaded(app):
    from api.db import db
    from api.tourism import loaders
    with app.app_context(), db.unit_of_work() as session:
        loaders.load_all(session, app.config["APP"].PROVINCE_CODE)


@pytest.fixture(scope="session")
def bot_stack(app, tourism_loaded, database_url, redis_url, tmp_path_factory):
    """(api_url, BotProcesses, stores) — the whole chat path on loopback."""
    if not bot.available():
        if os.environ.get("CI") == "true" and bot.RASA.exists() and (bot.BOT / "domain.yml").exists():
            pytest.fail("the bot project is incomplete")
        pytest.skip("the chatbot is not available (bot/.venv or its project files are missing)")
    model = bot.ensure_model(quiet=True)
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api_url = f"http://127.0.0.1:{server.server_port}"
    stores = _production_stores(database_url, redis_url)
    rasa_port, actions_port = _free_port(), _free_port()
    logs = tmp_path_factory.mktemp("bot-logs")
    processes = bot.start(model, api_url=api_url, rasa_port=rasa_port, actions_port=actions_port,
                          endpoints="endpoints.prod.yml" if stores else "endpoints.yml",
                          log_dir=logs, extra_env=stores["env"] if stores else None)
    cfg = app.config["APP"]
    previous = cfg.RASA_URL
    cfg.RASA_URL = processes.rasa_url
    try:
        try:
            processes.wait_ready(timeout=300)
        except (RuntimeError, TimeoutError) as exc:
            tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:]
                              for p in sorted(logs.glob("*.log")))
            pytest.fail(f"the bot did not start: {exc}\n{tails}")
        yield {"api_url": api_url, "bot": processes, "stores": stores, "logs": logs}
    finally:
        cfg.RASA_URL = previous
        processes.stop()
        server.shutdown()
