"""Push to citizens through firebase-admin against a loopback FCM endpoint: the exact
messages, both languages, pruning, retries, once per (event, device), and the inbox."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from api.db import db
from api.notify.models import Device, Notification, PushDelivery
from api.reports.models import Report
from api.routing.geocode import AddressLookup
from api.routing.service import route_report
from tests.api.helpers import new_report, run_publishing, staff_headers
from tests.conftest import FCM_TOKEN, PROJECT_ID


@pytest.fixture()
def session(app, db_session):
    with app.app_context():
        yield db.session


def _token(tag: str) -> str:
    return f"fcm-{tag}-{uuid.uuid4().hex}{'x' * 120}"


def _register(client, headers, token, locale="vi", platform="android"):
    r = client.post("/api/v1/me/devices", headers=headers,
                    json={"token": token, "platform": platform, "locale": locale,
                          "app_version": "1.4.0"})
    assert r.status_code in (200, 201), r.json
    return r


def _routed_report(client, citizen, session):
    created = new_report(client, citizen)
    report = session.scalar(select(Report).where(Report.code == created["code"]))
    route_report(session, report.id, AddressLookup(None))
    session.flush()
    session.expire(report)
    assert report.status == "routed" and report.unit is not None
    return report


def _officer(client, report):
    return staff_headers(client, f"officer.{report.unit.code.lower()}@bacninh-ioc.test")


def _move(client, headers, report, to, **extra):
    r = client.post(f"/api/v1/staff/reports/{report.code}/transitions", headers=headers,
                    json={"to": to, **extra})
    assert r.status_code == 200, r.json
    return r.json


def test_device_registration_is_idempotent_and_deletable(client, citizen, session):
    token = _token("reg")
    first = _register(client, citizen, token)
    assert first.status_code == 201 and first.json["locale"] == "vi"
    again = _register(client, citizen, token, locale="en")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.json["locale"] == "en"
    assert client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=citizen).status_code == 204
    r = client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=citizen)
    assert r.status_code == 404 and r.json["code"] == "DEVICE_NOT_FOUND"


def test_device_registration_rejects_bad_input(client, citizen):
    for body in ({"token": "short", "platform": "android"},
                 {"token": _token("x"), "platform": "symbian"},
                 {"token": _token("x"), "platform": "ios", "locale": "fr"},
                 {"platform": "ios"}):
        r = client.post("/api/v1/me/devices", headers=citizen, json=body)
        assert r.status_code == 422 and r.json["code"] == "VALIDATION_ERROR", body
    assert client.post("/api/v1/me/devices", json={"token": _token("x"), "platform": "ios"}
                       ).json["code"] == "UNAUTHENTICATED"


def test_a_token_moves_to_the_citizen_who_registers_it_last(client, citizen_token, session):
    token = _token("moved")
    alice = {"Authorization": f"Bearer {citizen_token()}"}
    bob = {"Authorization": f"Bearer {citizen_token()}"}
    _register(client, alice, token)
    _register(client, bob, token)
    rows = session.scalars(select(Device).where(Device.token == token)).all()
    assert len(rows) == 1
    assert client.get("/api/v1/me/notifications", headers=alice).status_code == 200


def test_each_change_is_pushed_once_to_every_device_in_its_language(client, citizen, session, fcm):
    vi_token, en_token = _token("vi"), _token("en")
    _register(client, citizen, vi_token, "vi", "android")
    _register(client, citizen, en_token, "en", "ios")
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])
    officer = _officer(client, report)
    _move(client, officer, report, "accepted")
    run_publishing(session, [report.id])
    run_publishing(session, [report.id])  # publishing again sends nothing again

    vi, en = fcm.to(vi_token), fcm.to(en_token)
    assert [m["data"]["kind"] for m in vi] == ["routed", "accepted"]
    assert [m["data"]["kind"] for m in en] == ["routed", "accepted"]
    routed_vi, routed_en = vi[0], en[0]
    assert routed_vi["notification"]["title"] == f"Phản ánh {report.code} đã được chuyển xử lý"
    assert report.unit.name_vi in routed_vi["notification"]["body"]
    assert "Hạn trả lời" in routed_vi["notification"]["body"]
    assert routed_en["notification"]["title"] == f"Your report {report.code} has been assigned"
    assert "Answer due by" in routed_en["notification"]["body"]
    data = routed_vi["data"]
    assert data["code"] == report.code and data["status"] in ("routed", "accepted")
    assert data["deep_link"] == f"ioc://reports/{report.code}"
    assert all(isinstance(v, str) for v in data.values())
    assert routed_vi["android"]["collapse_key"] == report.code
    assert routed_en["apns"]["headers"]["apns-collapse-id"] == report.code
    # Real firebase-admin on the wire: our project's URL and the configured credential.
    attempt = fcm.attempts[0]
    assert attempt["path"] == f"/v1/projects/{PROJECT_ID}/messages:send"
    assert attempt["auth"] == f"Bearer {FCM_TOKEN}"
    deliveries = session.scalars(select(PushDelivery).join(Device).where(
        Device.token.in_([vi_token, en_token]))).all()
    assert len(deliveries) == 4 and {d.status for d in deliveries} == {"sent"}
    assert all(d.fcm_message_id.startswith(f"projects/{PROJECT_ID}/messages/") for d in deliveries)


def test_the_whole_lifecycle_speaks_to_the_citizen(client, citizen, session, fcm):
    token = _token("life")
    _register(client, citizen, token, "vi")
    report = _routed_report(client, citizen, session)
    officer = _officer(client, report)
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    _move(client, officer, report, "accepted")
    _move(client, officer, report, "in_progress", note="Đã cử đội điện lực kiểm tra.")
    _move(client, officer, report, "waiting_citizen", note="Xin ảnh chụp số cột điện.")
    _move(client, officer, report, "in_progress")
    _move(client, officer, report, "resolved", note="Đã thay bóng đèn.")
    _move(client, dispatcher, report, "reopened")
    _move(client, officer, report, "in_progress")
    _move(client, officer, report, "resolved")
    _move(client, dispatcher, report, "closed")
    run_publishing(session, [report.id])
    kinds = [m["data"]["kind"] for m in fcm.to(token)]
    assert kinds == ["routed", "accepted", "in_progress", "waiting_citizen", "in_progress",
                     "resolved", "reopened", "in_progress", "resolved", "closed"]
    asked = fcm.to(token)[3]["notification"]
    assert asked["title"] == f"Cần bạn bổ sung thông tin cho phản ánh {report.code}"
    assert asked["body"].startswith("Xin ảnh chụp số cột điện.")


def test_rejected_and_duplicate_are_explained(client, citizen, session, fcm):
    token = _token("dup")
    _register(client, citizen, token, "en")
    original = _routed_report(client, citizen, session)
    second = new_report(client, citizen, lat=21.1871)
    dup = session.scalar(select(Report).where(Report.code == second["code"]))
    third = new_report(client, citizen, lat=21.1881)
    rej = session.scalar(select(Report).where(Report.code == third["code"]))
    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    _move(client, dispatcher, dup, "duplicate", duplicate_of=original.code)
    _move(client, dispatcher, rej, "rejected", note="Ảnh không liên quan đến nội dung.")
    run_publishing(session, [dup.id, rej.id])
    by_code = {m["data"]["code"]: m for m in fcm.to(token)}
    assert original.code in by_code[dup.code]["notification"]["body"]
    assert by_code[dup.code]["data"]["kind"] == "duplicate"
    assert by_code[rej.code]["notification"]["body"].startswith("Ảnh không liên quan")


def test_an_unregistered_token_is_pruned(client, citizen, session, fcm):
    dead, alive = _token("dead"), _token("alive")
    _register(client, citizen, dead)
    _register(client, citizen, alive)
    fcm.unregistered.add(dead)
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])
    assert session.scalar(select(Device).where(Device.token == dead)) is None
    assert session.scalar(select(Device).where(Device.token == alive)) is not None
    pruned = session.scalars(select(PushDelivery).where(PushDelivery.status == "pruned",
                                                        PushDelivery.device_id.is_(None))).all()
    assert any("Unregistered" in (p.last_error or "") for p in pruned)
    assert len(fcm.to(alive)) == 1
    # The next change goes to the live device only; the dead token is not tried again.
    attempts_before = len([a for a in fcm.attempts if a["message"]["token"] == dead])
    _move(client, _officer(client, report), report, "accepted")
    run_publishing(session, [report.id])
    assert len([a for a in fcm.attempts if a["message"]["token"] == dead]) == attempts_before
    assert len(fcm.to(alive)) == 2


def test_transient_errors_are_retried_with_backoff_then_delivered_once(client, citizen, session, fcm):
    token = _token("flaky")
    _register(client, citizen, token)
    # Quota exceeded twice, then accepted. (With a Retry-After header firebase-admin's own
    # HTTP client waits and retries inside one call; without one, the retry is ours.)
    fcm.script[token] = [429, 429]
    fcm.retry_after = None
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])
    delivery = session.scalar(select(PushDelivery).join(Device).where(Device.token == token))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "QuotaExceeded" in delivery.last_error
    run_publishing(session, [report.id])  # not due yet: nothing is sent
    assert len([a for a in fcm.attempts if a["message"]["token"] == token]) == 1
    time.sleep(1.1)  # first backoff: 1 s
    run_publishing(session, [report.id])
    session.refresh(delivery)
    assert delivery.status == "pending" and delivery.attempts == 2
    time.sleep(2.1)  # then 2 s
    run_publishing(session, [report.id])
    session.refresh(delivery)
    assert delivery.status == "sent" and delivery.attempts == 3
    assert len(fcm.to(token)) == 1
    fcm.retry_after = "1"


def test_a_permanently_failing_push_stops_after_the_last_attempt(app, client, citizen, session, fcm):
    token = _token("down")
    _register(client, citizen, token)
    cfg = app.config["APP"]
    fcm.script[token] = [429] * (cfg.PUSH_MAX_ATTEMPTS + 2)
    fcm.retry_after = None
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])
    delivery = session.scalar(select(PushDelivery).join(Device).where(Device.token == token))
    from datetime import datetime, timezone
    from sqlalchemy import update
    for _ in range(cfg.PUSH_MAX_ATTEMPTS):
        session.execute(update(PushDelivery).where(PushDelivery.id == delivery.id)
                        .values(next_attempt_at=datetime.now(timezone.utc)))
        run_publishing(session, [report.id])
    session.refresh(delivery)
    assert delivery.status == "failed" and delivery.attempts == cfg.PUSH_MAX_ATTEMPTS
    fcm.retry_after = "1"
    # The inbox still has it.
    r = client.get("/api/v1/me/notifications", headers=citizen)
    assert [n["kind"] for n in r.json["items"]] == ["routed"]


def test_inbox_lists_marks_read_and_pages(client, citizen, session, fcm):
    report = _routed_report(client, citizen, session)  # no device: push off, inbox only
    officer = _officer(client, report)
    _move(client, officer, report, "accepted")
    _move(client, officer, report, "in_progress")
    run_publishing(session, [report.id])
    assert fcm.to("anything") == []
    page = client.get("/api/v1/me/notifications?limit=2", headers=citizen).json
    assert [n["kind"] for n in page["items"]] == ["in_progress", "accepted"]
    assert page["unread_count"] == 3 and page["next_before"] is not None
    assert page["items"][0]["code"] == report.code
    assert page["items"][0]["title"] == f"Phản ánh {report.code} đang được xử lý"
    rest = client.get(f"/api/v1/me/notifications?before={page['next_before']}",
                      headers=citizen).json
    assert [n["kind"] for n in rest["items"]] == ["routed"] and rest["next_before"] is None
    r = client.post("/api/v1/me/notifications/read", headers=citizen,
                    json={"ids": [page["items"][0]["id"]]})
    assert r.json == {"marked": 1, "unread_count": 2}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=citizen).json
    assert len(unread["items"]) == 2
    assert client.post("/api/v1/me/notifications/read", headers=citizen, json={}).json == {
        "marked": 2, "unread_count": 0}


def test_another_citizen_sees_none_of_my_notifications(client, citizen, citizen_token, session):
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])
    other = {"Authorization": f"Bearer {citizen_token()}"}
    assert client.get("/api/v1/me/notifications", headers=other).json["items"] == []
    mine = client.get("/api/v1/me/notifications", headers=citizen).json["items"]
    r = client.post("/api/v1/me/notifications/read", headers=other, json={"ids": [mine[0]["id"]]})
    assert r.json["marked"] == 0


def test_followers_hear_too(client, citizen, citizen_token, session, fcm):
    report = _routed_report(client, citizen, session)
    run_publishing(session, [report.id])  # the routing was announced before they followed
    follower = {"Authorization": f"Bearer {citizen_token()}"}
    token = _token("follower")
    _register(client, follower, token, "en")
    assert client.post(f"/api/v1/reports/{report.code}/follow", headers=follower).status_code == 200
    _move(client, _officer(client, report), report, "accepted")
    run_publishing(session, [report.id])
    assert [m["data"]["kind"] for m in fcm.to(token)] == ["accepted"]
    assert fcm.to(token)[0]["notification"]["title"].startswith("Your report")


def test_private_notes_and_internal_events_are_not_pushed(client, citizen, session, fcm):
    token = _token("private")
    _register(client, citizen, token)
    report = _routed_report(client, citizen, session)
    officer = _officer(client, report)
    _move(client, officer, report, "accepted", note="Nội bộ: chờ xe thang.", public=False)
    run_publishing(session, [report.id])
    assert [m["data"]["kind"] for m in fcm.to(token)] == ["routed"]
    assert session.scalar(select(Notification).where(Notification.kind == "accepted",
                                                     Notification.report_id == report.id)) is None


def test_every_pushed_data_block_follows_the_mobile_contract(client, citizen, session, fcm):
    import json
    from pathlib import Path
    import jsonschema
    from api.notify.templates import PUSH_KINDS
    schema = json.loads((Path(__file__).resolve().parents[2] / "mobile_contracts" / "push" /
                         "data-payload.schema.json").read_text())
    assert set(schema["properties"]["kind"]["enum"]) == set(PUSH_KINDS)
    token = _token("schema")
    _register(client, citizen, token)
    report = _routed_report(client, citizen, session)
    officer = _officer(client, report)
    for to in ("accepted", "in_progress", "waiting_citizen", "in_progress", "resolved"):
        _move(client, officer, report, to)
    run_publishing(session, [report.id])
    messages = fcm.to(token)
    assert len(messages) == 6
    for message in messages:
        jsonschema.validate(message["data"], schema, format_checker=jsonschema.FormatChecker())
