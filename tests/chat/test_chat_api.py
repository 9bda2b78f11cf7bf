"""POST /api/v1/chat (the proxy to the bot), chat grants, and the IOC's handoff queue."""
from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from api.chat import grants
from api.chat.models import ChatHandoff
from tests.api.helpers import BAC_NINH, report_body, staff_headers, upload
from tests.stubs.rasa import RasaRestStub


@pytest.fixture(scope="module")
def rasa_stub():
    stub = RasaRestStub()
    yield stub
    stub.stop()


@pytest.fixture()
def bot(app, rasa_stub, monkeypatch):
    rasa_stub.replies, rasa_stub.status, rasa_stub.delay = [], 200, 0.0
    rasa_stub.calls.clear()
    monkeypatch.setattr(app.config["APP"], "RASA_URL", rasa_stub.url)
    return rasa_stub


def _sender() -> str:
    return f"app-{uuid.uuid4().hex}"


def _grant(app, sender="anon:test-sender-1", citizen_id=None, ttl=600, now=None) -> str:
    return grants.issue(app.config["SECRET_KEY"], sender=sender, citizen_id=citizen_id,
                        ttl_seconds=ttl, now=now)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the proxy ------------------------------------------------------------------------------

def test_replies_are_normalised_and_cards_pass_through(client, bot):
    bot.replies = [
        {"recipient_id": "x", "text": "Chào bạn!", "buttons": [
            {"title": "Tra cứu phản ánh", "payload": "/check_status"}]},
        {"recipient_id": "x", "custom": {"type": "report_status", "code": "PA-2026-000001"}},
        {"recipient_id": "x", "image": "https://example.org/a.jpg"},
        {"recipient_id": "x", "custom": {"no_type": True}},   # dropped: not a card
    ]
    r = client.post("/api/v1/chat", json={"sender": _sender(), "message": "xin chao"})
    assert r.status_code == 200, r.json
    assert r.json["messages"] == [
        {"type": "text", "text": "Chào bạn!",
         "buttons": [{"title": "Tra cứu phản ánh", "payload": "/check_status"}]},
        {"type": "report_status", "code": "PA-2026-000001"},
        {"type": "image", "url": "https://example.org/a.jpg"}]


def test_anonymous_conversation_gets_a_grant_without_a_citizen(app, client, bot):
    sender = _sender()
    client.post("/api/v1/chat", json={"sender": sender, "message": "Xin chào"})
    sent = bot.calls[-1]
    assert sent["path"] == "/webhooks/rest/webhook"
    assert sent["body"]["sender"] == f"anon:{sender}"
    assert sent["body"]["message"] == "Xin chào"
    grant = grants.decode(app.config["SECRET_KEY"], sent["body"]["metadata"]["grant"])
    assert grant == grants.Grant(sender=f"anon:{sender}", citizen_id=None)
    assert sent["body"]["metadata"]["signed_in"] is False


def test_signed_in_conversation_is_namespaced_by_citizen(app, client, bot, citizen, session):
    from api.identity.models import Citizen
    sender = _sender()
    client.post("/api/v1/chat", json={"sender": sender, "message": "tra cuu"}, headers=citizen)
    body = bot.calls[-1]["body"]
    grant = grants.decode(app.config["SECRET_KEY"], body["metadata"]["grant"])
    me = session.get(Citizen, grant.citizen_id)
    assert me is not None and me.principal.startswith("fb:")
    assert body["sender"] == f"c{me.id}:{sender}"   # another person cannot join this conversation


def test_message_is_nfc_normalised(client, bot):
    decomposed = "Chu\u0300a Da\u0302u"   # "Chùa Dâu" typed in NFD
    client.post("/api/v1/chat", json={"sender": _sender(), "message": decomposed})
    assert bot.calls[-1]["body"]["message"] == "Chùa Dâu"


@pytest.mark.parametrize("body, field", [
    ({"message": "hi"}, "sender"),
    ({"sender": "short", "message": "hi"}, "sender"),
    ({"sender": "bad sender with spaces", "message": "hi"}, "sender"),
    ({"sender": "app-12345678", "message": ""}, "message"),
    ({"sender": "app-12345678", "message": "x" * 2001}, "message"),
])
def test_bad_input_is_422_in_the_envelope(client, bot, body, field):
    r = client.post("/api/v1/chat", json=body)
    assert r.status_code == 422
    assert r.json["code"] == "VALIDATION_ERROR" and field in r.json["errors"]
    assert bot.calls == []


def test_staff_cannot_chat_as_a_citizen(client, bot):
    r = client.post("/api/v1/chat", json={"sender": _sender(), "message": "hi"},
                    headers=staff_headers(client, "dispatcher@bacninh-ioc.test"))
    assert r.status_code == 403 and r.json["code"] == "CITIZEN_ONLY"


def test_bot_down_is_503_with_retry_after(app, client, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "RASA_URL", f"http://127.0.0.1:{_dead_port()}")
    r = client.post("/api/v1/chat", json={"sender": _sender(), "message": "hi"})
    assert r.status_code == 503
    assert r.json["code"] == "BOT_UNAVAILABLE" and r.headers["Retry-After"] == "5"


@pytest.mark.parametrize("status", [500, 502, 404])
def test_bot_errors_are_503(client, bot, status):
    bot.status = status
    r = client.post("/api/v1/chat", json={"sender": _sender(), "message": "hi"})
    assert r.status_code == 503 and r.json["code"] == "BOT_UNAVAILABLE"


def test_slow_bot_is_503_after_the_timeout(app, client, bot, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "CHAT_TIMEOUT_SECONDS", 0.3)
    bot.delay = 1.0
    r = client.post("/api/v1/chat", json={"sender": _sender(), "message": "hi"})
    assert r.status_code == 503 and r.headers["Retry-After"]


def test_chat_is_rate_limited_per_citizen(app, client, bot, device, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "RATE_LIMITS_ENABLED", True)
    monkeypatch.setattr(app.config["APP"], "RATE_LIMIT_CHAT_PER_MINUTE", 3)
    codes = [client.post("/api/v1/chat", json={"sender": _sender(), "message": "hi"},
                         headers=device).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# --- what a grant allows ----------------------------------------------------------------------

def test_a_grant_sends_a_report_for_its_citizen_once(app, client, session, device):
    from api.identity.models import Citizen
    photo = upload(client, device)
    me = session.scalar(select(Citizen).where(Citizen.principal == f"dev:{device['X-Device-Id']}"))
    token = _grant(app, sender=f"c{me.id}:app-1", citizen_id=me.id)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "chat-app-1-1700000000"}
    body = report_body([photo.json["id"]])
    first = client.post("/api/v1/reports", json=body, headers=headers)
    again = client.post("/api/v1/reports", json=body, headers=headers)
    assert first.status_code == 201, first.json
    assert again.json["code"] == first.json["code"] and again.json["replayed"] is True
    mine = client.get("/api/v1/me/reports", headers=device).json["items"]
    assert [r["code"] for r in mine] == [first.json["code"]]


def test_an_anonymous_grant_cannot_send_a_report(app, client):
    r = client.post("/api/v1/reports", json=report_body([], lat=BAC_NINH[0], lon=BAC_NINH[1]),
                    headers={"Authorization": f"Bearer {_grant(app)}"})
    assert r.status_code == 401 and r.json["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/me/data"), ("DELETE", "/api/v1/me/data"), ("GET", "/api/v1/me/reports"),
    ("GET", "/api/v1/me/notifications")])
def test_a_grant_is_refused_everywhere_else(app, client, session, device, method, path):
    from api.identity.models import Citizen
    client.get("/api/v1/me/reports", headers=device)  # the device citizen exists
    me = session.scalar(select(Citizen).where(Citizen.principal == f"dev:{device['X-Device-Id']}"))
    r = client.open(path, method=method, json={},
                    headers={"Authorization": f"Bearer {_grant(app, citizen_id=me.id)}"})
    assert r.status_code == 403 and r.json["code"] == "CHAT_GRANT_NOT_ALLOWED"


def test_expired_and_forged_grants_are_401(app, client):
    old = _grant(app, ttl=60, now=datetime.now(timezone.utc) - timedelta(hours=1))
    forged = grants.issue("another-secret-" + "y" * 32, sender="anon:x", citizen_id=1,
                          ttl_seconds=600)
    for token, code in ((old, "TOKEN_EXPIRED"), (forged, "INVALID_TOKEN")):
        r = client.post("/api/v1/chat/handoffs", json={"summary": "x"},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json["code"] == code


# --- handoffs ---------------------------------------------------------------------------------

def _handoff(client, token, **body):
    payload = {"summary": "Người dân muốn gặp cán bộ về báo cáo ngập.", "lang": "vi",
               "transcript": [{"from": "user", "text": "cho toi gap nguoi that"},
                              {"from": "bot", "text": "Tôi chuyển bạn tới cán bộ IOC."}]}
    payload.update(body)
    return client.post("/api/v1/chat/handoffs", json=payload,
                       headers={"Authorization": f"Bearer {token}"})


def test_handoff_is_queued_once_per_conversation_and_closed_by_a_dispatcher(app, client, session):
    token = _grant(app, sender=f"anon:{uuid.uuid4().hex}")
    first = _handoff(client, token, report_code="pa 2026 4512")
    assert first.status_code == 201, first.json
    assert first.json["reference"] == f"HT-{first.json['id']:06d}"
    assert first.json["report_code"] == "PA-2026-004512" and first.json["status"] == "open"
    again = _handoff(client, token)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]

    dispatcher = staff_headers(client, "dispatcher@bacninh-ioc.test")
    queue = client.get("/api/v1/staff/chat-handoffs", headers=dispatcher).json["items"]
    mine = [h for h in queue if h["id"] == first.json["id"]]
    assert mine and mine[0]["transcript"][0] == {"from": "user", "text": "cho toi gap nguoi that"}

    closed = client.post(f"/api/v1/staff/chat-handoffs/{first.json['id']}/close",
                         json={"note": "Đã gọi lại cho người dân."}, headers=dispatcher)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert client.post(f"/api/v1/staff/chat-handoffs/{first.json['id']}/close", json={},
                       headers=dispatcher).json["code"] == "HANDOFF_CLOSED"
    assert client.post("/api/v1/staff/chat-handoffs/999999999/close", json={},
                       headers=dispatcher).status_code == 404
    open_ids = [h["id"] for h in client.get("/api/v1/staff/chat-handoffs",
                                             headers=dispatcher).json["items"]]
    assert first.json["id"] not in open_ids
    # A new request after the close is a new handoff.
    assert _handoff(client, token).status_code == 201


def test_handoff_input_is_checked(app, client):
    token = _grant(app, sender=f"anon:{uuid.uuid4().hex}")
    assert _handoff(client, token, summary="").json["code"] == "VALIDATION_ERROR"
    assert _handoff(client, token, lang="fr").status_code == 422
    assert _handoff(client, token, transcript=[{"from": "robot", "text": "x"}]).status_code == 422


def test_handoffs_are_in_the_citizens_data_and_erased_with_it(app, client, session, device):
    from api.identity.models import Citizen
    client.get("/api/v1/me/reports", headers=device)
    me = session.scalar(select(Citizen).where(Citizen.principal == f"dev:{device['X-Device-Id']}"))
    created = _handoff(client, _grant(app, sender=f"c{me.id}:app-x", citizen_id=me.id))
    exported = client.get("/api/v1/me/data", headers=device).json
    assert [h["reference"] for h in exported["chat_handoffs"]] == [created.json["reference"]]
    assert client.delete("/api/v1/me/data", headers=device).status_code == 204
    assert session.get(ChatHandoff, created.json["id"]) is None
