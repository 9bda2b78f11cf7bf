"""The whole fan-out with a real Celery worker and beat on the real broker: a status change
reaches the citizen's phone (FCM stub) and the IOC (webhook receiver) once; a receiver that
is down during a burst gets every event after it comes back."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.api.helpers import report_body, staff_headers, submit, upload
from tests.conftest import FCM_TOKEN
from tests.integration.test_worker import Worker, _env, purge_queue  # noqa: F401 (fixture)
from tests.stubs.webhook import WebhookReceiver

# Another quiet corner (Sơn Động side), away from the other committed tests' points.
SPOT = (21.3400, 106.8500)
SECRET = "integration-webhook-secret-42"
pytestmark = pytest.mark.slow


@pytest.fixture()
def pipeline(app_config, fcm_server, tmp_path, purge_queue):
    env = _env(app_config, FCM_URL=fcm_server.url, FCM_STATIC_TOKEN=FCM_TOKEN,
               WEBHOOK_RETRY_BASE_SECONDS="1", WEBHOOK_RETRY_MAX_SECONDS="2",
               WEBHOOK_MAX_ATTEMPTS="60", PUSH_RETRY_BASE_SECONDS="1")
    worker = Worker(env, tmp_path / "worker.log", "worker", "-B", "-l", "info", "-c", "2",
                    "-P", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "-s", str(tmp_path / "beat-schedule"), "-n", f"fanout-{uuid.uuid4().hex[:6]}@%h")
    worker.wait_ready()
    yield worker
    worker.stop()


@pytest.fixture()
def subscription(committed_client):
    receiver = WebhookReceiver(SECRET)
    admin = staff_headers(committed_client, "admin@bacninh-ioc.test")
    sub = committed_client.post("/api/v1/admin/webhooks", headers=admin, json={
        "url": receiver.url, "secret": SECRET, "name": "integration receiver"}).json
    yield receiver, sub
    committed_client.delete(f"/api/v1/admin/webhooks/{sub['id']}", headers=admin)
    receiver.stop()


def _wait(predicate, timeout: float, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    raise AssertionError("timed out" + (f"\n{log.read_text()[-4000:]}" if log else ""))


def _submit(client, headers, offset: float) -> str:
    photo = upload(client, headers, lat=SPOT[0] + offset, lon=SPOT[1])
    r = submit(client, headers, report_body([photo.json["id"]], lat=SPOT[0] + offset,
                                            lon=SPOT[1], category="illegal_dumping"))
    assert r.status_code == 201, r.json
    return r.json["code"]


def _ioc_event_ids(url: str, codes: list[str]) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT e.id FROM ioc_event e JOIN report r ON r.id = e.report_id"
                                " WHERE r.code = ANY(:codes)"), {"codes": codes}).scalars().all()
    engine.dispose()
    return {str(i) for i in ids}


def test_a_status_change_reaches_the_phone_and_the_ioc_once(
        app_config, committed_client, citizen_token, fcm, pipeline, subscription):
    receiver, _sub = subscription
    citizen = {"Authorization": f"Bearer {citizen_token()}"}
    token = f"fcm-int-{uuid.uuid4().hex}{'y' * 100}"
    device = committed_client.post("/api/v1/me/devices", headers=citizen,
                                   json={"token": token, "platform": "android", "locale": "vi"})
    assert device.status_code == 201
    code = _submit(committed_client, citizen, 0.0)
    _wait(lambda: len(fcm.to(token)) == 1, 30, pipeline.log)  # routed by the worker, pushed
    assert fcm.to(token)[0]["data"]["kind"] == "routed"
    unit = committed_client.get(f"/api/v1/reports/{code}").json["unit"]["code"]
    officer = staff_headers(committed_client, f"officer.{unit.lower()}@bacninh-ioc.test")
    r = committed_client.post(f"/api/v1/staff/reports/{code}/transitions", headers=officer,
                              json={"to": "accepted"})
    assert r.status_code == 200
    _wait(lambda: len(fcm.to(token)) == 2, 20, pipeline.log)
    _wait(lambda: {e["type"] for e in receiver.unique().values() if e["subject"] == code} >= {
        "report.created", "report.routed", "report.status_changed"}, 20, pipeline.log)
    time.sleep(3)  # the sweeps run meanwhile: nothing is sent twice
    assert [m["data"]["kind"] for m in fcm.to(token)] == ["routed", "accepted"]
    mine = [r for r in receiver.received if r["event"]["subject"] == code]
    assert len(mine) == len({r["event"]["id"] for r in mine}) == 4
    assert receiver.bad_signatures == 0


def test_every_event_arrives_after_the_receiver_comes_back(
        app_config, committed_client, device, pipeline, subscription):
    receiver, sub = subscription
    receiver.stop()  # down: connections refused
    codes = [_submit(committed_client, device, 0.004 * (i + 1)) for i in range(12)]
    # Routing goes on while the receiver is down: 3 events per report.
    _wait(lambda: len(_ioc_event_ids(app_config.DATABASE_URL, codes)) == 36, 60, pipeline.log)
    time.sleep(2)
    receiver.start()
    expected = _ioc_event_ids(app_config.DATABASE_URL, codes)
    _wait(lambda: expected <= set(receiver.unique()), 60, pipeline.log)
    assert receiver.bad_signatures == 0
    admin = staff_headers(committed_client, "admin@bacninh-ioc.test")
    counts = next(s for s in committed_client.get("/api/v1/admin/webhooks", headers=admin).json[
        "items"] if s["id"] == sub["id"])["counts"]
    assert counts["dead"] == 0
