"""The report form against the loopback API: what each message fills, what the bot asks, and
where the report goes (created with the chat grant, or a draft for the app)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from actions.report_form import (ActionAskReportConfirm, ActionAskReportDescription,
                                 ActionAskReportLocation, ActionCancelReport, ActionSubmitReport,
                                 ValidateReportForm, describes, idempotency_key, yes_or_no)
from support import assert_valid_card, cards, run, slots_of, texts, tracker
from stub_api import envelope

FORM_RAN = [{"event": "active_loop", "name": "report_form", "timestamp": 1764000000.123},
            {"event": "action", "name": "report_form"}]
GRANT = {"grant": "header.claims.signature", "signed_in": True}
FILLED = {"report_description": "Đèn đường trước cổng chợ Nhớn tắt cả tuần nay",
          "report_category": "streetlight_out", "report_location": "21.186100,106.076300",
          "report_lat": 21.1861, "report_lon": 106.0763, "report_address": None,
          "report_confirm": True}
CHUA_DAU = {"id": 3, "kind": "pagoda", "name": "Chùa Dâu", "name_vi": "Chùa Dâu", "address": "Thanh Khương",
            "lat": 21.0372, "lon": 106.0416, "open_now": None, "opens_at": None, "closes_at": None,
            "note": None, "tickets": [], "events": [], "description": "Ngôi chùa cổ."}


def validate(text: str, *, intent: str = "nlu_fallback", requested: str | None = None,
             entities: list | None = None, slots: dict | None = None):
    tr = tracker(text, intent=intent, entities=entities, events=FORM_RAN, active_loop="report_form",
                 slots={"requested_slot": requested, **(slots or {})})
    messages, events = run(ValidateReportForm(), tr)
    return messages, slots_of(events)


# --- what the words say -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("tôi muốn phản ánh đèn đường bị hỏng", False),
    ("muon bao cao o ga", False),
    ("I want to report a pothole", False),
    ("đèn đường ngõ 5 Kinh Dương Vương không sáng", True),
    ("ổ gà to giữa đường Lý Thái Tổ, xe máy rất dễ ngã", True),
    ("there is a big pothole on Ly Thai To street", True),
])
def test_an_opening_message_describes_only_when_it_says_more_than_the_kind(text, expected):
    assert describes(text) is expected


@pytest.mark.parametrize("text, expected", [
    ("đúng rồi, gửi đi", True), ("dung roi", True), ("yes please", True), ("ok", True),
    ("thôi", False), ("ko", False), ("cancel", False), ("không gửi", None), ("sửa lại", None)])
def test_typed_yes_and_no(text, expected):
    assert yes_or_no(text) is expected


# --- extraction and validation ----------------------------------------------------------

def test_opening_that_names_a_kind_fills_the_category_only(api):
    _, slots = validate("tôi muốn phản ánh đèn đường bị hỏng", intent="report_issue")
    assert slots == {"report_category": "streetlight_out"}
    assert api.calls("GET", "/api/v1/categories")


def test_opening_that_describes_fills_description_and_category(api):
    text = "đèn đường ngõ 5 Kinh Dương Vương không sáng"
    _, slots = validate(text, intent="report_issue")
    assert slots == {"report_description": text, "report_category": "streetlight_out"}


def test_opening_from_a_button_with_a_category(api):
    _, slots = validate("/report_issue", intent="report_issue",
                        entities=[{"entity": "category", "value": "pothole"}])
    assert slots == {"report_category": "pothole"}


def test_description_answer_keeps_the_known_category(api):
    text = "Đèn đường trước cổng chợ Nhớn tắt cả tuần nay"
    messages, slots = validate(text, requested="report_description",
                               slots={"report_category": "streetlight_out"})
    assert slots == {"report_description": text}
    assert messages == []


def test_description_answer_guesses_the_category_and_says_so(api):
    messages, slots = validate("cây đổ chắn ngang đường, xe không đi được", requested="report_description")
    assert slots["report_category"] == "fallen_tree"
    assert "Cây đổ, gãy cành" in texts(messages)


def test_too_short_a_description_is_asked_again(api):
    messages, slots = validate("hỏng", requested="report_description")
    assert slots == {"report_description": None}
    assert "mô tả rõ hơn" in texts(messages)


def test_no_is_not_an_answer_so_the_form_gives_way(api):
    # Nothing extracted: Rasa rejects the form and the "cancel the report" rule runs.
    assert validate("thôi không cần nữa", intent="deny", requested="report_description")[1] == {}
    assert validate("cho tôi gặp cán bộ", intent="human_handoff", requested="report_location")[1] == {}
    assert validate("không", intent="deny", requested="report_confirm")[1] == {}


def test_category_typed_or_unknown(api):
    assert validate("rác", requested="report_category")[1] == {"report_category": "garbage_uncollected"}
    assert validate("Ổ gà, hư hỏng mặt đường", requested="report_category")[1] == {"report_category": "pothole"}
    assert validate("cái gì đó lạ lắm", requested="report_category")[1] == {"report_category": None}


def test_shared_location_fills_the_point(api):
    _, slots = validate('/share_location{"lat": 21.1861, "lon": 106.0763}', intent="share_location",
                        requested="report_location",
                        entities=[{"entity": "lat", "value": 21.1861}, {"entity": "lon", "value": 106.0763}])
    assert slots == {"report_location": "21.186100,106.076300", "report_lat": 21.1861,
                     "report_lon": 106.0763, "report_address": None}


def test_typed_place_is_pinned_on_the_map(api):
    api.places.append(CHUA_DAU)
    messages, slots = validate("trước cổng Chùa Dâu", intent="tourism_place_info",
                               requested="report_location",
                               entities=[{"entity": "place", "value": "Chùa Dâu"}])
    assert slots["report_address"] == "trước cổng Chùa Dâu"
    assert (slots["report_lat"], slots["report_lon"]) == (21.0372, 106.0416)
    assert "Chùa Dâu" in texts(messages)


def test_typed_address_without_a_known_place(api):
    _, slots = validate("ngõ 3 phố Ngô Gia Tự", requested="report_location")
    assert slots == {"report_location": "ngõ 3 phố Ngô Gia Tự", "report_address": "ngõ 3 phố Ngô Gia Tự",
                     "report_lat": None, "report_lon": None}


def test_confirmation(api):
    assert validate("đúng rồi", intent="affirm", requested="report_confirm")[1] == {"report_confirm": True}
    assert validate("dung roi gui di", requested="report_confirm")[1] == {"report_confirm": True}
    assert validate("thôi", intent="out_of_scope", requested="report_confirm")[1] == {"report_confirm": False}
    assert validate("để mình nghĩ", requested="report_confirm")[1] == {"report_confirm": None}


# --- the questions ----------------------------------------------------------------------

def test_asking_for_the_description_names_the_kind_understood(api):
    messages, _ = run(ActionAskReportDescription(), tracker(slots={"report_category": "pothole"}))
    assert "Ổ gà, hư hỏng mặt đường" in texts(messages)
    messages, _ = run(ActionAskReportDescription(), tracker(slots={"lang": "en"}))
    assert "describe" in texts(messages)


def test_asking_for_the_place_shows_the_share_location_button(api):
    messages, _ = run(ActionAskReportLocation(), tracker())
    assert "vị trí" in texts(messages)
    [card] = cards(messages, "location_request")
    assert_valid_card(card)


def test_read_back_before_sending(api):
    messages, _ = run(ActionAskReportConfirm(), tracker(slots=FILLED | {"report_confirm": None}))
    said = texts(messages)
    assert "Đèn đường không sáng" in said and FILLED["report_description"] in said
    assert "21.18610, 106.07630" in said and "📷" in said
    # The read-back does not ask for a place again (the app would offer its location button).
    assert "vị trí" not in said.lower() and "location" not in said.lower()
    assert [b["payload"] for m in messages for b in m.get("buttons") or []] == ["/affirm", "/deny"]


# --- sending ------------------------------------------------------------------------------

def submit(slots: dict, metadata: dict | None, lang: str = "vi"):
    tr = tracker("đúng rồi, gửi đi", intent="affirm", slots=slots | {"lang": lang},
                 metadata=metadata, events=FORM_RAN[:1])
    return run(ActionSubmitReport(), tr)


def test_signed_in_citizen_gets_the_report_created_with_the_grant(api):
    messages, events = submit(FILLED, GRANT)
    [call] = api.calls("POST", "/api/v1/reports")
    assert call.body == {"category": "streetlight_out", "description": FILLED["report_description"],
                         "lat": 21.1861, "lon": 106.0763, "address": None}
    assert call.headers["authorization"] == "Bearer header.claims.signature"
    assert call.headers["idempotency-key"] == "chat-c42:test-sender-1-1764000000123"
    [card] = cards(messages, "report_created")
    assert_valid_card(card)
    assert card["code"] == "PA-2026-000001" and "PA-2026-000001" in texts(messages)
    slots = slots_of(events)
    assert slots["report_code"] == "PA-2026-000001"
    assert all(slots[s] is None for s in ("report_description", "report_confirm", "requested_slot"))


def test_in_english(api):
    messages, _ = submit(FILLED, GRANT, lang="en")
    assert "Tracking code: PA-2026-000001" in texts(messages)


def test_without_a_signed_in_citizen_the_app_gets_a_draft(api):
    messages, events = submit(FILLED, {"grant": "g", "signed_in": False})
    assert api.calls("POST", "/api/v1/reports") == []
    [draft] = cards(messages, "report_draft")
    assert_valid_card(draft)
    assert draft["lat"] == 21.1861 and draft["category"] == "streetlight_out"
    query = parse_qs(urlsplit(draft["deep_link"]).query)
    assert query["description"] == [FILLED["report_description"]] and query["lon"] == ["106.0763"]
    assert "chưa đăng nhập" in texts(messages)
    assert slots_of(events)["report_description"] is None


def test_without_a_grant_at_all_the_app_gets_a_draft(api):
    messages, _ = submit(FILLED, None)
    assert api.calls("POST", "/api/v1/reports") == [] and cards(messages, "report_draft")


def test_typed_address_without_a_point_becomes_a_draft(api):
    slots = FILLED | {"report_lat": None, "report_lon": None, "report_address": "ngõ 3 Ngô Gia Tự",
                      "report_location": "ngõ 3 Ngô Gia Tự"}
    messages, _ = submit(slots, GRANT)
    assert api.calls("POST", "/api/v1/reports") == []
    [draft] = cards(messages, "report_draft")
    assert draft["address"] == "ngõ 3 Ngô Gia Tự" and draft["lat"] is None
    assert "address=" in draft["deep_link"] and "lat=" not in draft["deep_link"]


def test_a_kind_that_needs_a_photo_becomes_a_draft(api):
    api.create_answer = (422, envelope(422, "PHOTO_REQUIRED", "Loại phản ánh này cần ít nhất một ảnh."))
    messages, _ = submit(FILLED, GRANT)
    assert len(api.calls("POST", "/api/v1/reports")) == 1
    assert cards(messages, "report_draft") and not cards(messages, "report_created")
    assert "cần ảnh" in texts(messages)


def test_outside_the_province_is_said_plainly(api):
    api.create_answer = (422, envelope(422, "OUTSIDE_SERVICE_AREA"))
    messages, _ = submit(FILLED, GRANT)
    assert "ngoài địa bàn" in texts(messages)
    assert not cards(messages, "report_draft") and not cards(messages, "report_created")


def test_api_down_still_leaves_the_citizen_a_draft(api_down):
    messages, _ = submit(FILLED, GRANT)
    assert cards(messages, "report_draft") and "bận" in texts(messages)


def test_not_confirmed_is_not_sent(api):
    messages, events = submit(FILLED | {"report_confirm": False}, GRANT)
    assert api.requests == [] and "không gửi" in texts(messages)
    assert slots_of(events)["report_category"] is None


def test_cancel_clears_the_form(api):
    messages, events = run(ActionCancelReport(), tracker("thôi", intent="deny", slots=FILLED,
                                                          active_loop="report_form"))
    assert "huỷ" in texts(messages).lower()
    assert events[0] == {"event": "active_loop", "name": None, "timestamp": None}
    assert all(v is None for v in slots_of(events).values())


def test_idempotency_key_is_one_per_form():
    first = tracker(events=FORM_RAN)
    later = tracker(events=FORM_RAN + [{"event": "user", "text": "ok"}])
    assert idempotency_key(first) == idempotency_key(later)
    again = tracker(events=FORM_RAN + [{"event": "active_loop", "name": "report_form", "timestamp": 1764000100.0}])
    assert idempotency_key(again) != idempotency_key(first)


def test_asides_are_not_answers(api):
    assert validate("bạn là bot à", intent="bot_challenge", requested="report_description")[1] == {}
    assert validate("cảm ơn nhé", intent="thank", requested="report_location")[1] == {}
    assert validate("PA-2026-000123 đến đâu rồi", intent="check_status", requested="report_description")[1] == {}
    assert validate("tạm biệt", intent="goodbye", requested="report_confirm")[1] == {}
    # Small talk that also describes the problem is an answer all the same.
    text = "chào ad, đèn đường ngõ 5 Kinh Dương Vương tắt cả tuần"
    assert validate(text, intent="greet", requested="report_description")[1] == {
        "report_description": text, "report_category": "streetlight_out"}
