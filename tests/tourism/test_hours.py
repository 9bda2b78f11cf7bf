"""Opening hours in Vietnam time: midday closures, weekends, dated exceptions, overnight."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from api.tourism.hours import status_at, validate

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MUSEUM = {  # closed on Mondays and over lunch
    "weekly": {d: [["07:30", "11:30"], ["13:30", "17:00"]]
               for d in ("tue", "wed", "thu", "fri", "sat", "sun")},
    "exceptions": [
        {"date": "2026-02-15", "until": "2026-02-19", "closed": True,
         "note_vi": "Nghỉ Tết", "note_en": "Closed for Tết"},
        {"date": "2026-09-02", "hours": [["08:00", "20:00"]]},
    ],
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=HCM)


def test_open_in_the_morning_until_the_midday_break():
    state = status_at(MUSEUM, at(2026, 11, 24, 10, 0))          # a Tuesday
    assert state.open_now is True and state.closes_at == at(2026, 11, 24, 11, 30)


def test_closed_over_lunch_opens_again_at_half_past_one():
    state = status_at(MUSEUM, at(2026, 11, 24, 12, 15))
    assert state.open_now is False and state.opens_at == at(2026, 11, 24, 13, 30)


def test_edges_open_at_opening_closed_at_closing():
    assert status_at(MUSEUM, at(2026, 11, 24, 13, 30)).open_now is True
    assert status_at(MUSEUM, at(2026, 11, 24, 17, 0)).open_now is False


def test_instant_in_utc_is_read_in_vietnam_time():
    # 03:00 UTC is 10:00 in Hanoi: open, though 03:00 local would be closed.
    state = status_at(MUSEUM, datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc))
    assert state.open_now is True


def test_weekend_open_monday_closed():
    assert status_at(MUSEUM, at(2026, 11, 29, 9, 0)).open_now is True          # Sunday
    monday = status_at(MUSEUM, at(2026, 11, 30, 9, 0))
    assert monday.open_now is False and monday.opens_at == at(2026, 12, 1, 7, 30)
    saturday_evening = status_at(MUSEUM, at(2026, 11, 28, 18, 0))
    assert saturday_evening.opens_at == at(2026, 11, 29, 7, 30)


def test_dated_closure_and_its_note():
    state = status_at(MUSEUM, at(2026, 2, 17, 9, 0))             # Tết, a Tuesday
    assert state.open_now is False
    assert state.opens_at == at(2026, 2, 20, 7, 30)              # first day after the closure
    assert state.note == {"vi": "Nghỉ Tết", "en": "Closed for Tết"}


def test_dated_special_hours_replace_the_week():
    # 2 September 2026 (National Day) is a Wednesday: no lunch break, open late.
    assert status_at(MUSEUM, at(2026, 9, 2, 12, 0)).open_now is True
    assert status_at(MUSEUM, at(2026, 9, 2, 19, 0)).closes_at == at(2026, 9, 2, 20, 0)


def test_overnight_opening_belongs_to_the_day_it_starts():
    night_market = {"weekly": {"sat": [["18:00", "02:00"]]}}
    assert status_at(night_market, at(2026, 11, 29, 1, 0)).open_now is True   # Sunday 01:00
    assert status_at(night_market, at(2026, 11, 29, 1, 0)).closes_at == at(2026, 11, 29, 2, 0)
    assert status_at(night_market, at(2026, 11, 29, 3, 0)).opens_at == at(2026, 12, 5, 18, 0)


def test_always_open_and_unknown():
    park = {"always_open": True,
            "exceptions": [{"date": "2026-12-01", "closed": True}]}
    state = status_at(park, at(2026, 11, 24, 3, 0))
    assert state.open_now is True and state.closes_at == at(2026, 12, 1, 0, 0)
    assert status_at(park, at(2026, 12, 1, 12, 0)).opens_at == at(2026, 12, 2, 0, 0)
    assert status_at({"always_open": True}, at(2026, 11, 24, 3, 0)).closes_at is None
    assert status_at(None, at(2026, 11, 24, 3, 0)).open_now is None


def test_pagoda_split_day_touching_intervals_merge():
    split = {"weekly": {"tue": [["06:00", "12:00"], ["12:00", "18:00"]]}}
    assert status_at(split, at(2026, 11, 24, 11, 0)).closes_at == at(2026, 11, 24, 18, 0)


def test_no_opening_within_two_weeks():
    closed = {"weekly": {}, "exceptions": []}
    state = status_at(closed, at(2026, 11, 24, 9, 0))
    assert state.open_now is False and state.opens_at is None
    assert status_at(closed, at(2026, 11, 24, 9, 0) + timedelta(days=1)).opens_at is None


def test_validation_collects_every_problem():
    problems = validate({"weekly": {"mon": [["7:00", "11:00"]], "fri": [["24:00", "01:00"]]},
                         "exceptions": [{"date": "2026-13-01", "closed": True},
                                        {"date": "2026-01-02", "until": "2026-01-01",
                                         "hours": [["08:00", "09:00"]]},
                                        {"date": "2026-01-05"}],
                         "colour": "red"})
    assert set(problems) == {"opening_hours", "opening_hours.weekly.mon",
                             "opening_hours.weekly.fri", "opening_hours.exceptions.0",
                             "opening_hours.exceptions.1", "opening_hours.exceptions.2"}
    assert validate(MUSEUM) == {} and validate(None) == {}
    assert validate({"weekly": {"funday": []}}) == {
        "opening_hours.weekly": ["expected an object with keys among mon, tue, wed, thu, fri, sat, sun"]}
