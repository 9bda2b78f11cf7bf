"""A real Celery worker on the real broker: reports get routed, exactly once, even when a
worker is killed mid-task. These tests commit; they use their own corner of the province."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.api.helpers import report_body, submit, upload
from tests.stubs.nominatim import NominatimStub

ROOT = Path(__file__).resolve().parents[2]
# A quiet spot (Lục Ngạn area) so committed reports stay clear of other tests' points.
SPOT = (21.3867, 106.6100)
pytestmark = pytest.mark.slow


def _env(app_config, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "APP_ENV": "test", "SECRET_KEY": app_config.SECRET_KEY, "DATABASE_URL": app_config.DATABASE_URL,
        "CELERY_BROKER_URL": app_config.CELERY_BROKER_URL, "REDIS_URL": app_config.REDIS_URL,
        "DATA_DIR": app_config.DATA_DIR, "PHOTO_STORAGE_URL": app_config.PHOTO_STORAGE_URL,
        "FIREBASE_PROJECT_ID": app_config.FIREBASE_PROJECT_ID,
        "FIREBASE_CERTS_URL": app_config.FIREBASE_CERTS_URL, "LOG_JSON": "false",
        "PYTHONPATH": str(ROOT), "OUTBOX_LEASE_SECONDS": "3"})
    env.update(extra)
    return env


class Worker:
    def __init__(self, env: dict, log: Path, *args: str):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, marker: str = "ready.", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.log.read_text(errors="replace"):
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture()
def purge_queue(app):
    app.extensions["task_sender"].control.purge()


def _start_worker(env, tmp_path, name="worker") -> Worker:
    worker = Worker(env, tmp_path / f"{name}.log", "worker", "-l", "info", "-c", "2", "-P", "prefork",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h")
    worker.wait_ready()
    return worker


def _routed_events(url: str, code: str) -> tuple[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT r.status, (SELECT count(*) FROM report_event e WHERE e.report_id = r.id"
            " AND e.type = 'routed') FROM report r WHERE r.code = :c"), {"c": code}).one()
    engine.dispose()
    return row[0], row[1]


def _wait_routed(url: str, code: str, timeout: float) -> tuple[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, count = _routed_events(url, code)
        if status == "routed":
            return status, count
        time.sleep(0.2)
    return _routed_events(url, code)


def _submit(client, lat_offset=0.0) -> str:
    device = {"X-Device-Id": f"worker-test-{uuid.uuid4().hex[:10]}"}
    photo = upload(client, device, lat=SPOT[0] + lat_offset, lon=SPOT[1])
    r = submit(client, device, report_body([photo.json["id"]], lat=SPOT[0] + lat_offset, lon=SPOT[1],
                                           category="illegal_dumping"))
    assert r.status_code == 201, r.json
    return r.json["code"]


def test_submitted_report_is_routed_by_a_real_worker(app_config, committed_client, purge_queue,
                                                      tmp_path):
    worker = _start_worker(_env(app_config), tmp_path)
    try:
        code = _submit(committed_client)
        status, count = _wait_routed(app_config.DATABASE_URL, code, 20)
        assert (status, count) == ("routed", 1), worker.log.read_text()[-3000:]
    finally:
        worker.stop()


def test_killed_worker_loses_nothing_and_routes_once(app_config, committed_client, purge_queue,
                                                     tmp_path):
    """kill -9 the whole worker while it is inside the routing task (held by a slow geocoder);
    the outbox lease runs out, the relay re-sends, a new worker routes it exactly once."""
    slow = NominatimStub()
    slow.delay = 8.0
    env = _env(app_config, NOMINATIM_URL=slow.url)
    worker = _start_worker(env, tmp_path, "doomed")
    try:
        code = _submit(committed_client, lat_offset=0.01)
        deadline = time.monotonic() + 20
        while not slow.calls:  # the task is now inside route_report, holding the row lock
            assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
            time.sleep(0.1)
        worker.kill()
        assert _routed_events(app_config.DATABASE_URL, code) == ("new", 0)
    finally:
        worker.kill()
    slow.delay = 0.0
    survivor = _start_worker(env, tmp_path, "survivor")
    beat = Worker(env, tmp_path / "beat.log", "beat", "-l", "info", "-s",
                  str(tmp_path / "beat-schedule"))
    try:
        status, count = _wait_routed(app_config.DATABASE_URL, code, 40)
        assert (status, count) == ("routed", 1), survivor.log.read_text()[-3000:]
        time.sleep(4)  # a second lease period: nothing routes it again
        assert _routed_events(app_config.DATABASE_URL, code) == ("routed", 1)
    finally:
        beat.stop()
        survivor.stop()
        slow.stop()
