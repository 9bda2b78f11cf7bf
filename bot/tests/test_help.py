"""Hotlines, a person from the IOC (a handoff ticket through the API), and the fallback."""
from __future__ import annotations

from actions.help import ActionDefaultFallback, ActionFallback, ActionHotline, ActionHumanHandoff
from support import assert_valid_card, cards, run, texts, tracker
from stub_api import envelope

CONVERSATION = [
    {"event": "user", "text": "đèn đường ngõ 5 tắt cả tuần rồi", "parse_data": {"intent": {"name": "report_issue"}}},
    {"event": "bot", "text": "Bạn mô tả giúp mình…"},
    {"event": "user", "text": "/check_status", "parse_data": {"intent": {"name": "check_status"}}},
    {"event": "user", "text": "cho tôi nói chuyện với cán bộ", "parse_data": {"intent": {"name": "human_handoff"}}},
]


def test_hotlines_in_both_languages(api, monkeypatch):
    said = texts(run(ActionHotline(), tracker("số cứu hỏa", intent="ask_hotline"))[0])
    assert all(n in said for n in ("113", "114", "115"))
    monkeypatch.setenv("PROVINCE_HOTLINE", "1900 0000")
    said = texts(run(ActionHotline(), tracker("hotline", intent="ask_hotline", slots={"lang": "en"}))[0])
    assert "1900 0000 — Bac Ninh province hotline" in said and "Ambulance" in said


def test_handoff_opens_a_ticket_with_the_conversation(api):
    messages, events = run(ActionHumanHandoff(), tracker(
        "cho tôi nói chuyện với cán bộ", intent="human_handoff", events=CONVERSATION,
        slots={"report_code": "pa2026000123"}, metadata={"grant": "the-grant", "signed_in": False}))
    [call] = api.calls("POST", "/api/v1/chat/handoffs")
    assert call.headers["authorization"] == "Bearer the-grant"
    assert call.body["lang"] == "vi" and call.body["report_code"] == "PA-2026-000123"
    assert call.body["transcript"] == [
        {"from": "user", "text": "đèn đường ngõ 5 tắt cả tuần rồi"},
        {"from": "bot", "text": "Bạn mô tả giúp mình…"},
        {"from": "user", "text": "[check_status]"},
        {"from": "user", "text": "cho tôi nói chuyện với cán bộ"}]
    assert "đèn đường ngõ 5 tắt cả tuần rồi" in call.body["summary"]
    [card] = cards(messages, "handoff")
    assert_valid_card(card)
    assert card == {"type": "handoff", "reference": "HT-000007", "status": "open"}
    assert "HT-000007" in texts(messages)
    assert events == []


def test_handoff_in_the_middle_of_a_report_ends_the_form(api):
    _, events = run(ActionHumanHandoff(), tracker("gặp cán bộ", intent="human_handoff",
                                                  active_loop="report_form", metadata={"grant": "g"}))
    assert events[0]["event"] == "active_loop" and events[0]["name"] is None


def test_handoff_refused_or_down_gives_the_hotlines(api):
    api.handoff_answer = (401, envelope(401, "TOKEN_EXPIRED"))
    messages, _ = run(ActionHumanHandoff(), tracker("gặp cán bộ", intent="human_handoff",
                                                    metadata={"grant": "old"}))
    assert not cards(messages, "handoff") and "113" in texts(messages)


def test_handoff_without_a_grant_gives_the_hotlines(api):
    messages, _ = run(ActionHumanHandoff(), tracker("talk to a person", intent="human_handoff",
                                                    slots={"lang": "en"}))
    assert api.requests == [] and "Police" in texts(messages)


def test_fallback_suggests_what_the_bot_can_do(api):
    messages, _ = run(ActionFallback(), tracker("dự báo thời tiết ngày mai", intent="out_of_scope"))
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert "/check_status" in payloads and "/report_issue" in payloads
    assert "chưa hiểu" in texts(messages)


def test_fallback_with_a_code_answers_the_status(api):
    api.reports["PA-2026-000123"] = {"code": "PA-2026-000123", "status": "new", "status_label": "Đã tiếp nhận",
                                     "category": None, "unit": None, "sla": None, "public_url": None}
    messages, _ = run(ActionFallback(), tracker("PA 2026 123", intent="nlu_fallback"))
    assert cards(messages, "report_status")[0]["code"] == "PA-2026-000123"


def test_core_fallback_suggests_and_forgets_the_message(api):
    messages, events = run(ActionDefaultFallback(), tracker("hmm", intent="greet", slots={"lang": "en"}))
    assert "Here is what I can help with" in texts(messages)
    assert events == [{"event": "rewind", "timestamp": None}]


def test_without_a_configured_province_number_the_chat_is_the_province_channel(api):
    said = texts(run(ActionHotline(), tracker("đường dây nóng", intent="ask_hotline"))[0])
    assert "gặp cán bộ" in said and "1900" not in said
    messages, _ = run(ActionHumanHandoff(), tracker("gặp cán bộ", intent="human_handoff"))
    assert "113" in texts(messages) and "gặp cán bộ" not in texts(messages)
