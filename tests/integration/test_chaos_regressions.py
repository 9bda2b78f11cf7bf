"""Faults that scripts/chaos.py (``make chaos``) found, each kept from coming back:

- PostgreSQL stopped → its Unix socket is gone → libpq says "No such file or directory":
  that is the database being unavailable (503 with Retry-After), not an internal error.
- Redis restarted while a worker held unacknowledged messages → the worker died
  ("Unrecoverable error": kombu's close of the lost connection, or a late ack on it);
  it must reconnect and go on.
"""
from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery
from sqlalchemy import create_engine, exc as sa_exc, text

from api.db import is_connection_error
from scripts.services import EmbeddedRedis
from tests.integration.test_worker import Worker, _env


def _connect_error(url: str) -> sa_exc.OperationalError:
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            pass
    except sa_exc.OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{url} answered")


def test_database_without_its_socket_is_unavailable_not_an_error(app, tmp_path):
    # A socket directory with no server in it: what a stopped PostgreSQL leaves behind.
    error = _connect_error(f"postgresql+psycopg2://postgres@/ioc?host={tmp_path}")
    assert "No such file or directory" in str(error)
    assert is_connection_error(error)
    with app.test_request_context("/api/v1/reports/PA-2026-000001"):
        response = app.make_response(app.handle_user_exception(error))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["code"] == "SERVICE_UNAVAILABLE"


def test_a_query_error_is_still_an_internal_error(app, app_config):
    """Not every OperationalError is an outage: a statement timeout (57014) is a 500."""
    engine = create_engine(app_config.DATABASE_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET statement_timeout = 10"))
            with pytest.raises(sa_exc.OperationalError) as caught:
                conn.execute(text("SELECT pg_sleep(1)"))
    finally:
        engine.dispose()
    assert not is_connection_error(caught.value)
    with app.test_request_context("/api/v1/reports"):
        response = app.make_response(app.handle_user_exception(caught.value))
    assert response.status_code == 500


def _wait_for(worker: Worker, marker: str, timeout: float, after: int = 0) -> None:
    deadline = time.monotonic() + timeout
    while marker not in worker.log.read_text(errors="replace")[after:]:
        assert worker.proc.poll() is None, worker.log.read_text()[-4000:]
        assert time.monotonic() < deadline, worker.log.read_text()[-4000:]
        time.sleep(0.2)


@pytest.mark.slow
def test_worker_lives_through_a_broker_restart_with_unacked_messages(app_config, tmp_path,
                                                                     monkeypatch):
    # Celery prefers CELERY_BROKER_URL from the environment over its broker argument.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    redis = EmbeddedRedis(tmp_path / "redis").start()
    env = _env(app_config, CELERY_BROKER_URL=redis.url, REDIS_URL=redis.url)
    worker = Worker(env, tmp_path / "worker.log", "worker", "-l", "info", "-c", "1",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-n", f"broker-restart-{uuid.uuid4().hex[:6]}@%h")
    sender = Celery("chaos-regression", broker=redis.url, set_as_current=False)
    try:
        worker.wait_ready()
        # ETA tasks are held by the worker, unacknowledged, until their time comes: the
        # first outlives the test (the lost connection is closed with it unacked), the
        # second runs after the restart and is acknowledged on the lost connection's channel.
        sender.send_task("push.deliver", args=[-1], countdown=600)
        sender.send_task("push.deliver", args=[-3], countdown=12)
        _wait_for(worker, "push.deliver", 30)
        time.sleep(1)
        redis.stop()
        time.sleep(3)
        redis.process = None
        redis.start()
        mark = len(worker.log.read_text(errors="replace"))
        time.sleep(14)  # the second ETA has come and gone
        assert worker.proc.poll() is None, worker.log.read_text()[-4000:]
        # Reconnected and consuming: a new task runs (-2 names no delivery: "skipped").
        sender = Celery("chaos-regression-2", broker=redis.url, set_as_current=False)
        sender.send_task("push.deliver", args=[-2])
        _wait_for(worker, "succeeded", 60, after=mark)
        assert "Unrecoverable error" not in worker.log.read_text(errors="replace")
    finally:
        worker.stop()
        redis.stop()
