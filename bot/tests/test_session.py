"""A new session keeps the language and the last code, and drops a half-written report."""
from __future__ import annotations

from actions.session import ActionSessionStart
from support import run, slots_of, tracker


def test_new_session_keeps_language_and_code_only():
    _, events = run(ActionSessionStart(), tracker(slots={
        "lang": "en", "report_code": "PA-2026-000123", "report_description": "ổ gà to",
        "report_category": "pothole", "requested_slot": "report_location"}))
    assert events[0]["event"] == "session_started"
    assert slots_of(events) == {"lang": "en", "report_code": "PA-2026-000123"}
    assert events[-1] == {"event": "action", "name": "action_listen", "policy": None,
                          "confidence": None, "timestamp": None}
