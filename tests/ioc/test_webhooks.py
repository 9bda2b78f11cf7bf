"""IOC webhooks: admin registration, CloudEvents signed with HMAC, type filters, backoff,
the dead-letter state, retry and replay — against a loopback receiver that verifies."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from api.ioc.models import IocEvent, WebhookDelivery
from api.reports.models import Report
from api.sla import service as sla
from tests.api.helpers import routed_report, new_report, run_publishing, staff_headers
from tests.stubs.webhook import WebhookReceiver

SECRET = "test-webhook-secret-0123456789"



@pytest.fixture()
def receiver():
    server = WebhookReceiver(SECRET)
    yield server
    server.stop()


@pytest.fixture()
def admin(client):
    return staff_headers(client, "admin@bacninh-ioc.test")


def _subscribe(client, admin, receiver, **extra):
    r = client.post("/api/v1/admin/webhooks", headers=admin,
                    json={"url": receiver.url, "secret": SECRET, "name": "IOC wall vendor", **extra})
    assert r.status_code == 201, r.json
    return r.json




def test_admin_registers_lists_and_disables_subscribers(client, admin, receiver):
    created = _subscribe(client, admin, receiver, types=["sla.breached", "report.created"])
    assert created["secret"] == SECRET and created["types"] == ["report.created", "sla.breached"]
    generated = client.post("/api/v1/admin/webhooks", headers=admin,
                            json={"url": "https://ioc.example.vn/hook"}).json
    assert generated["secret"].startswith("whsec_") and len(generated["secret"]) > 30
    listed = client.get("/api/v1/admin/webhooks", headers=admin).json["items"]
    mine = next(i for i in listed if i["id"] == created["id"])
    assert "secret" not in mine and mine["counts"] == {"pending": 0, "delivered": 0, "dead": 0}
    assert client.delete(f"/api/v1/admin/webhooks/{created['id']}", headers=admin).status_code == 204
    listed = client.get("/api/v1/admin/webhooks", headers=admin).json["items"]
    assert next(i for i in listed if i["id"] == created["id"])["active"] is False


def test_subscriber_input_is_checked(client, admin):
    for body in ({"url": "not a url"}, {"url": "ftp://x.example/h"},
                 {"url": "https://x.example/h", "types": ["report.deleted"]},
                 {"url": "https://x.example/h", "types": []},
                 {"url": "https://x.example/h", "secret": "short"}):
        r = client.post("/api/v1/admin/webhooks", headers=admin, json=body)
        assert r.status_code == 422 and r.json["code"] == "VALIDATION_ERROR", body
    assert client.post("/api/v1/admin/webhooks/999999/replay", headers=admin,
                       json={"from_event_id": 1}).json["code"] == "WEBHOOK_NOT_FOUND"


def test_only_admins_manage_webhooks(client):
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    assert client.get("/api/v1/admin/webhooks", headers=dispatcher).status_code == 403
    assert client.get("/api/v1/admin/webhooks").status_code == 401


def test_events_arrive_signed_as_cloudevents(client, admin, device, receiver, session):
    _subscribe(client, admin, receiver)
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    events = [r["event"] for r in receiver.received]
    assert [e["type"] for e in events] == ["report.created", "report.routed",
                                           "report.status_changed"]
    created = events[0]
    assert created["specversion"] == "1.0" and created["subject"] == report.code
    assert created["source"] == "http://testserver/api/v1/reports"
    assert created["datacontenttype"] == "application/json"
    assert created["time"].endswith("+07:00")
    assert created["slastate"] in ("on_time", "due_soon")
    routed = events[1]["data"]
    assert routed["unit_code"] == report.unit.code and routed["status"] == "routed"
    assert routed["change"]["from_status"] == "new" and routed["change"]["to_status"] == "routed"
    assert routed["resolve_due_at"].endswith("+07:00")
    # No personal data leaves for the IOC.
    flat = str(events)
    assert "contact" not in flat and "phone" not in flat
    headers = receiver.received[0]["headers"]
    assert headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    assert headers["X-Event-Id"] == created["id"] and receiver.bad_signatures == 0
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_a_subscriber_gets_only_its_types(client, admin, device, receiver, session):
    _subscribe(client, admin, receiver, types=["sla.breached"])
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    assert receiver.count() == 0
    sla.sweep(session, now=datetime.now(timezone.utc) + timedelta(days=40))
    run_publishing(session, [report.id])
    types = {r["event"]["type"] for r in receiver.received}
    assert types == {"sla.breached"}
    levels = {r["event"]["data"]["change"].get("level") for r in receiver.received}
    assert "leadership" in levels  # breach + 1 working day escalates, and says so


def test_a_failing_receiver_is_retried_then_dead_lettered_then_retried_by_hand(
        app, client, admin, device, receiver, session):
    sub = _subscribe(client, admin, receiver, types=["report.created"])
    receiver.status = 500
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    delivery = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.subscription_id == sub["id"]))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at > datetime.now(timezone.utc)  # backoff, not a hot loop
    for _ in range(app.config["APP"].WEBHOOK_MAX_ATTEMPTS):
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
                        .values(next_attempt_at=datetime.now(timezone.utc)))
        run_publishing(session, [report.id])
    session.refresh(delivery)
    assert delivery.status == "dead"
    assert delivery.attempts == app.config["APP"].WEBHOOK_MAX_ATTEMPTS
    dead = client.get(f"/api/v1/admin/webhooks/{sub['id']}/deliveries?status=dead",
                      headers=admin).json["items"]
    assert [d["id"] for d in dead] == [delivery.id] and dead[0]["last_error"] == "HTTP 500"
    receiver.status = 200
    r = client.post(f"/api/v1/admin/webhooks/{sub['id']}/retry-dead", headers=admin)
    assert r.status_code == 202 and r.json == {"queued": 1}
    run_publishing(session, [report.id])
    assert [e["type"] for e in receiver.unique().values()] == ["report.created"]


def test_an_unreachable_receiver_is_retried_until_it_returns(client, admin, device, receiver, session):
    _subscribe(client, admin, receiver)
    receiver.stop()
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    pending = session.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "pending")).all()
    assert len(pending) >= 3 and all("ConnectionError" in d.last_error for d in pending)
    receiver.start()
    session.execute(update(WebhookDelivery).where(WebhookDelivery.status == "pending")
                    .values(next_attempt_at=datetime.now(timezone.utc)))
    run_publishing(session, [report.id])
    assert len(receiver.unique()) == 3


def test_replay_from_an_event_id_sends_again_and_ids_let_receivers_deduplicate(
        client, admin, device, receiver, session):
    sub = _subscribe(client, admin, receiver)
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    first = sorted(int(i) for i in receiver.unique())
    r = client.post(f"/api/v1/admin/webhooks/{sub['id']}/replay", headers=admin,
                    json={"from_event_id": first[1]})
    assert r.status_code == 202 and r.json["queued"] >= 2
    run_publishing(session, [report.id])
    assert receiver.count() == 3 + r.json["queued"]
    assert sorted(int(i) for i in receiver.unique()) == first  # nothing new, only repeats
    assert client.post(f"/api/v1/admin/webhooks/{sub['id']}/replay", headers=admin,
                       json={"from_event_id": 0}).status_code == 422


def test_a_disabled_subscriber_gets_nothing_more(client, admin, device, receiver, session):
    sub = _subscribe(client, admin, receiver)
    client.delete(f"/api/v1/admin/webhooks/{sub['id']}", headers=admin)
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    assert receiver.count() == 0
    r = client.post(f"/api/v1/admin/webhooks/{sub['id']}/replay", headers=admin,
                    json={"from_event_id": 1})
    assert r.status_code == 409 and r.json["code"] == "WEBHOOK_DISABLED"


def test_publishing_twice_writes_each_cloudevent_once(client, device, session):
    report = routed_report(client, device, session)
    run_publishing(session, [report.id])
    from api.reports.models import ReportEvent
    from api.reports.publish import publish_event
    for event_id in session.scalars(select(ReportEvent.id).where(ReportEvent.report_id == report.id)):
        again = publish_event(session, event_id)
        assert again.ioc_events == [] and again.webhook_ids == [] and again.push_ids == []
    rows = session.scalars(select(IocEvent).where(IocEvent.report_id == report.id)).all()
    assert sorted(r.type for r in rows) == ["report.created", "report.routed",
                                            "report.status_changed"]


def test_event_data_follows_the_published_schema(client, admin, device, receiver, session):
    import jsonschema
    schema = client.get("/api/v1/ioc/schema/event-data.json")
    assert schema.status_code == 200 and schema.mimetype == "application/schema+json"
    _subscribe(client, admin, receiver)
    report = routed_report(client, device, session)
    sla.sweep(session, now=datetime.now(timezone.utc) + timedelta(days=40))
    run_publishing(session, [report.id])
    events = list(receiver.unique().values())
    assert {e["type"] for e in events} >= {"report.created", "report.routed", "sla.breached"}
    for event in events:
        assert event["dataschema"] == "http://testserver/api/v1/ioc/schema/event-data.json"
        jsonschema.validate(event["data"], schema.json, format_checker=jsonschema.FormatChecker())
