"""action_check_status against the loopback API: found, not found, API down; deadlines in words."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from actions.codes import canonical, find_in_text
from actions.language import local_moment
from actions.status import ActionCheckStatus, due_text
from support import assert_valid_card, cards, run, slots_of, texts, tracker


def routed_report(code: str, due: datetime, **extra) -> dict:
    return {"code": code, "status": "routed", "status_label": "Đã chuyển đơn vị xử lý",
            "category": {"code": "pothole", "name_vi": "Ổ gà, hư hỏng mặt đường",
                         "name_en": "Pothole or damaged road surface"},
            "unit": {"code": "u1", "name_vi": "UBND phường Kinh Bắc", "name_en": "Kinh Bac ward"},
            "sla": {"sla_class": "fix_now", "due_at": due.isoformat(), "status": "running", "cycle": 1},
            "public_url": f"https://ioc.example/api/v1/reports/{code}", **extra}


@pytest.mark.parametrize("typed", ["PA-2026-000123", "pa2026000123", "PA 2026 123", "Pa.2026.000123"])
def test_codes_typed_any_way(typed):
    assert canonical(typed) == "PA-2026-000123"
    assert find_in_text(f"kiểm tra giúp {typed} nhé") == "PA-2026-000123"


def test_no_code_in_words():
    assert canonical("PA-20-1") is None
    assert find_in_text("phản ánh của tôi đến đâu rồi") is None


def test_found_report_gives_a_card_with_the_deadline_in_words(api):
    due = datetime.now(timezone.utc) + timedelta(days=2, hours=3, minutes=10)
    api.reports["PA-2026-000123"] = routed_report("PA-2026-000123", due)
    messages, events = run(ActionCheckStatus(), tracker(
        "kiem tra pa2026000123 giup minh", intent="check_status",
        entities=[{"entity": "report_code", "value": "pa2026000123"}]))
    assert api.calls("GET", "/api/v1/reports/PA-2026-000123")
    [card] = cards(messages, "report_status")
    assert_valid_card(card)
    assert card["code"] == "PA-2026-000123" and card["status"] == "routed"
    assert card["unit"] == "UBND phường Kinh Bắc"
    assert card["due_at"] == due.isoformat()
    assert card["due_text"].startswith("hạn xử lý: ") and "còn 2 ngày 3 giờ" in card["due_text"]
    assert local_moment(due, "vi") in card["due_text"]
    said = texts(messages)
    assert "PA-2026-000123" in said and "UBND phường Kinh Bắc" in said and "Hạn xử lý" in said
    assert slots_of(events) == {"report_code": "PA-2026-000123"}


def test_found_report_in_english(api):
    due = datetime.now(timezone.utc) - timedelta(hours=5, minutes=30)
    api.reports["PA-2026-000124"] = routed_report("PA-2026-000124", due)
    messages, _ = run(ActionCheckStatus(), tracker(
        "status of PA-2026-000124", intent="check_status", slots={"lang": "en"},
        entities=[{"entity": "report_code", "value": "PA-2026-000124"}]))
    [card] = cards(messages, "report_status")
    assert card["unit"] == "Kinh Bac ward"
    assert card["status_label"] == "Sent to the responsible unit"
    assert "overdue by 5 hours" in card["due_text"]
    assert "Report PA-2026-000124" in texts(messages)


def test_code_from_the_slot_when_the_message_has_none(api):
    due = datetime.now(timezone.utc) + timedelta(hours=1)
    api.reports["PA-2026-000125"] = routed_report("PA-2026-000125", due)
    messages, _ = run(ActionCheckStatus(), tracker(
        "nó đến đâu rồi", intent="check_status", slots={"report_code": "PA-2026-000125"}))
    assert cards(messages, "report_status")[0]["code"] == "PA-2026-000125"


def test_unknown_code_says_so_and_forgets_it(api):
    messages, events = run(ActionCheckStatus(), tracker(
        "tra cứu phản ánh PA-2020-999999", intent="check_status",
        entities=[{"entity": "report_code", "value": "PA-2020-999999"}]))
    assert not cards(messages, "report_status")
    assert "PA-2020-999999" in texts(messages) and "không tìm thấy" in texts(messages)
    assert slots_of(events) == {"report_code": None}


def test_without_a_code_the_bot_asks_for_it(api):
    messages, events = run(ActionCheckStatus(), tracker("kiểm tra tình trạng phản ánh",
                                                        intent="check_status"))
    assert "mã phản ánh" in texts(messages) and events == []
    assert api.requests == []


def test_api_down_asks_to_try_later(api_down):
    messages, events = run(ActionCheckStatus(), tracker(
        "PA-2026-000123", intent="check_status",
        entities=[{"entity": "report_code", "value": "PA-2026-000123"}]))
    assert not cards(messages, "report_status")
    assert "thử lại" in texts(messages)
    assert slots_of(events) == {"report_code": "PA-2026-000123"}


def test_api_failing_asks_to_try_later(api):
    api.status_override = 503
    messages, _ = run(ActionCheckStatus(), tracker(
        "PA-2026-000123", intent="check_status",
        entities=[{"entity": "report_code", "value": "PA-2026-000123"}]))
    assert "thử lại" in texts(messages) and not cards(messages, "report_status")


def test_deadline_words():
    now = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)           # 16:00 in Vietnam
    report = {"status": "routed", "sla": {"due_at": "2026-11-27T09:30:00+00:00", "status": "running"}}
    assert due_text(report, now, "vi") == "hạn xử lý: 16:30 thứ Sáu, 27/11/2026 — còn 2 ngày"
    assert due_text(report, now, "en") == "due: 16:30 Friday, 27/11/2026 — 2 days left"
    midnight = {"status": "accepted", "sla": {"due_at": "2026-11-26T17:00:00+00:00", "status": "running"}}
    assert due_text(midnight, now, "vi").startswith("hạn xử lý: 24:00 thứ Năm, 26/11/2026")
    late = {"status": "in_progress", "sla": {"due_at": "2026-11-25T07:00:00+00:00", "status": "breached"}}
    assert due_text(late, now, "vi").endswith("quá hạn 2 giờ")
    done = {"status": "resolved", "sla": {"due_at": "2026-11-25T07:00:00+00:00", "status": "met"}}
    assert due_text(done, now, "en").endswith("handled on time")
    paused = {"status": "waiting_citizen", "sla": {"due_at": "2026-11-27T09:30:00+00:00", "status": "paused"}}
    assert "tạm dừng" in due_text(paused, now, "vi")
    assert due_text({"status": "new", "sla": None}, now, "vi") is None
