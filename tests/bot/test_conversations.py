"""Conversations end to end: the app's POST /api/v1/chat → the real Rasa server → the real
action server → the API over HTTP. Vietnamese with and without diacritics, teencode, English.

Assertions are on what a person relies on (the tracking code, the status card, the hotline
number, the report really created for them), not on the exact wording of a reply.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from tests.api.helpers import routed_report

pytestmark = pytest.mark.timeout(600)
# These reports are committed: they live in a corner of the province (Lục Ngạn) that no
# other test queries, or they would show up in other tests' nearby lists.
HERE = (21.3867 + 0.07, 106.6100)
CARDS = json.loads((Path(__file__).resolve().parents[2] / "mobile_contracts" / "chat"
                    / "cards.schema.json").read_text()) if (
    Path(__file__).resolve().parents[2] / "mobile_contracts" / "chat" / "cards.schema.json"
).exists() else None


class Conversation:
    def __init__(self, client, headers: dict | None = None):
        self.client = client
        self.headers = headers or {}
        self.sender = f"e2e-{uuid.uuid4().hex}"

    def say(self, message: str) -> list[dict]:
        r = self.client.post("/api/v1/chat", json={"sender": self.sender, "message": message},
                             headers=self.headers)
        assert r.status_code == 200, r.json
        messages = r.json["messages"]
        assert messages, f"no reply to {message!r}"
        for m in messages:
            if m["type"] not in ("text", "image") and CARDS is not None:
                jsonschema.validate(m, CARDS)
        return messages


def texts(messages) -> str:
    return "\n".join(m.get("text", "") for m in messages if m["type"] == "text")


def cards(messages, kind: str) -> list[dict]:
    return [m for m in messages if m["type"] == kind]


def buttons(messages) -> list[str]:
    return [b["payload"] for m in messages if m["type"] == "text" for b in m.get("buttons", [])]


@pytest.fixture()
def chat(bot_stack, committed_client):
    return lambda headers=None: Conversation(committed_client, headers)


@pytest.fixture()
def routed(app, committed_client, device):
    """A committed, routed report (so it has a unit and a deadline)."""
    from api.db import db
    with app.app_context(), db.unit_of_work() as session:
        report = routed_report(committed_client, device, session, lat=HERE[0], lon=HERE[1])
        return report.code


@pytest.mark.parametrize("typed", ["{code}", "{compact}", "{spaced}"])
def test_status_by_code_in_every_typed_form(chat, routed, typed):
    year, number = routed.split("-")[1:]
    message = {"{code}": f"Tra cứu phản ánh {routed}",
               "{compact}": f"kiem tra pa{year}{number} giup minh",
               "{spaced}": f"mã PA {year} {number} đến đâu rồi"}[typed]
    replies = chat().say(message)
    [card] = cards(replies, "report_status")
    assert card["code"] == routed
    assert card["status"] == "routed" and card["unit"]
    assert card["due_text"] and card["due_at"]
    assert routed in texts(replies)


def test_unknown_code_says_so(chat):
    replies = chat().say("tra cứu phản ánh PA-2020-999999")
    assert not cards(replies, "report_status")
    assert "PA-2020-999999" in texts(replies)


def test_status_asks_for_the_code_then_answers(chat, routed):
    conversation = chat()
    first = conversation.say("cho tôi kiểm tra tình trạng phản ánh")
    assert not cards(first, "report_status")
    answer = conversation.say(routed)
    assert cards(answer, "report_status")[0]["code"] == routed


def _fill_report_form(conversation, replies, wanted: str):
    """Answer what the form still asks (a location, then the confirmation) until a ``wanted``
    card comes."""
    for _ in range(4):
        if cards(replies, wanted):
            break
        payloads = buttons(replies)
        if any(p.startswith("/share_location") for p in payloads) or "vị trí" in texts(replies) \
                or "location" in texts(replies).lower():
            replies = conversation.say(
                '/share_location{"lat": %s, "lon": %s}' % (HERE[0], HERE[1]))
        elif any(p in ("/affirm",) for p in payloads) or "xác nhận" in texts(replies).lower():
            replies = conversation.say("đúng rồi, gửi đi")
        else:
            replies = conversation.say("đúng rồi")
    return replies


def test_report_from_chat_is_created_for_a_known_device(app, chat, device):
    """Noise needs no photo: the bot sends the report with the conversation's grant."""
    conversation = chat(device)
    conversation.say("tôi muốn phản ánh tiếng ồn")
    replies = conversation.say("Quán karaoke cạnh chợ Nhớn hát to đến 1 giờ sáng mấy đêm liền")
    replies = _fill_report_form(conversation, replies, "report_created")
    [created] = cards(replies, "report_created")
    mine = conversation.client.get("/api/v1/me/reports", headers=device).json["items"]
    assert [r["code"] for r in mine] == [created["code"]]
    assert mine[0]["category"]["code"] == "noise"


def test_a_report_that_needs_a_photo_goes_to_the_app_with_the_form_filled(app, chat, device):
    """A chat carries no photo: a streetlight report (photo required) becomes a deep link to
    the app's form, filled, and nothing is created behind the citizen's back."""
    conversation = chat(device)
    conversation.say("tôi muốn phản ánh đèn đường bị hỏng")
    replies = conversation.say("Đèn đường trước cổng chợ Nhớn tắt cả tuần nay")
    replies = _fill_report_form(conversation, replies, "report_draft")
    [draft] = cards(replies, "report_draft")
    assert draft["deep_link"].startswith("bacninhioc://report/new?")
    assert "streetlight_out" in draft["deep_link"]
    assert conversation.client.get("/api/v1/me/reports", headers=device).json["items"] == []


def test_anonymous_report_is_handed_to_the_app(chat):
    conversation = chat()
    conversation.say("muon bao cao o ga")
    replies = conversation.say("ổ gà to giữa đường Lý Thái Tổ, xe máy rất dễ ngã")
    for _ in range(4):
        if cards(replies, "report_draft"):
            break
        if any(p.startswith("/share_location") for p in buttons(replies)) or "vị trí" in texts(replies):
            replies = conversation.say(
                '/share_location{"lat": %s, "lon": %s}' % (HERE[0], HERE[1]))
        else:
            replies = conversation.say("đúng rồi")
    [draft] = cards(replies, "report_draft")
    assert draft["deep_link"].startswith("bacninhioc://report/new?")
    assert draft["lat"] == pytest.approx(HERE[0])


def test_place_opening_hours(chat):
    replies = chat().say("Chùa Dâu mở cửa mấy giờ?")
    assert any(c["name"] == "Chùa Dâu" for c in cards(replies, "place"))


def test_place_without_diacritics(chat):
    replies = chat().say("chua dau o dau vay")
    assert any(c["name"] == "Chùa Dâu" for c in cards(replies, "place"))


def test_festivals(chat):
    replies = chat().say("Sắp tới Bắc Ninh có lễ hội gì?")
    assert cards(replies, "event")


def test_food(chat):
    replies = chat().say("đặc sản bắc ninh có gì ngon")
    assert cards(replies, "food") or texts(replies)


@pytest.mark.parametrize("message", ["số điện thoại cứu hỏa là gì", "so cap cuu la bao nhieu",
                                     "gọi công an số mấy"])
def test_hotlines(chat, message):
    text = texts(chat().say(message))
    assert "113" in text and "114" in text and "115" in text


def test_public_services_point_to_the_national_portal(chat):
    assert "dichvucong.gov.vn" in texts(chat().say("làm thủ tục cấp giấy phép xây dựng ở đâu"))


def test_handoff_creates_a_ticket_for_the_ioc(app, chat):
    from api.chat.models import ChatHandoff
    from api.db import db
    replies = chat().say("cho tôi nói chuyện với cán bộ")
    [card] = cards(replies, "handoff")
    with app.app_context():
        row = db.session.scalar(select(ChatHandoff).where(ChatHandoff.id == int(card["reference"][3:])))
        assert row is not None and row.status == "open" and row.transcript
        db.session.rollback()


def test_english_questions_get_english_answers(chat):
    conversation = chat()
    hello = texts(conversation.say("Hello, what can you do?"))
    assert hello and not any(ch in hello for ch in "ăâđêôơư")
    replies = conversation.say("What time does Dau Pagoda open?")
    assert any(c["name"] in ("Dau Pagoda", "Chùa Dâu") for c in cards(replies, "place"))


def test_out_of_scope_is_caught_politely_with_suggestions(chat):
    replies = chat().say("dự báo thời tiết ngày mai ở Hà Nội thế nào")
    assert texts(replies) and buttons(replies)


def test_teencode_greeting_and_thanks(chat):
    conversation = chat()
    assert texts(conversation.say("hi ad"))
    assert texts(conversation.say("thks nhìu nha"))


def test_trackers_are_kept_in_postgresql_on_real_servers(bot_stack, chat):
    if not bot_stack["stores"]:
        pytest.skip("embedded servers: Rasa keeps trackers in memory (make run on real servers "
                    "uses PostgreSQL)")
    conversation = chat()
    conversation.say("xin chào")
    from sqlalchemy import create_engine, text
    engine = create_engine(bot_stack["stores"]["url"])
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM events WHERE sender_id LIKE :s"),
                             {"s": f"%{conversation.sender}"}).scalar()
    engine.dispose()
    assert count > 0
