"""Opening hours: a weekly schedule with dated exceptions, read in Vietnam time.

Shape (stored as JSONB on ``place.opening_hours``; ``None`` means unknown)::

    {"weekly": {"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sun": [["06:00", "18:00"]]},
     "always_open": false,
     "exceptions": [{"date": "2026-02-17", "until": "2026-02-19", "closed": true,
                     "note_vi": "Nghỉ Tết", "note_en": "Closed for Tết"},
                    {"date": "2026-03-03", "hours": [["05:00", "23:00"]]}],
     "note_vi": "…", "note_en": "…"}

A day missing from ``weekly`` is a closed day. An interval whose end is not after
its start runs past midnight (a night market, "18:00"–"02:00") and belongs to the
day it starts on. "24:00" ends at midnight. An exception replaces the weekly
intervals of every day from ``date`` to ``until`` (inclusive): ``closed`` or new
``hours``. ``always_open`` (a park, an open site) is open around the clock except
on exceptions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from api.common.fields import LOCAL_TZ

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
# How far ahead "opens at" looks: two weeks covers a closed week plus Tết.
LOOKAHEAD_DAYS = 14
MAX_EXCEPTION_DAYS = 366


@dataclass(frozen=True)
class OpenState:
    open_now: bool | None          # None: hours unknown
    closes_at: datetime | None     # when open: the end of the current opening (None: no end soon)
    opens_at: datetime | None      # when closed: the next opening within LOOKAHEAD_DAYS
    note: dict | None = None       # {"vi", "en"}: the note of today's exception, if any


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _check_intervals(value: Any, where: str, problems: dict[str, list[str]]) -> None:
    if not isinstance(value, list) or len(value) > 6:
        problems.setdefault(where, []).append("expected a list of up to 6 [open, close] pairs")
        return
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(t, str) and _TIME.match(t) for t in pair)):
            problems.setdefault(where, []).append(
                f"expected [\"HH:MM\", \"HH:MM\"], got {pair!r}")
        elif pair[0] == "24:00":
            problems.setdefault(where, []).append("an opening cannot start at 24:00")


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def validate(hours: Any) -> dict[str, list[str]]:
    """Every problem with an opening-hours document, by path (empty when valid)."""
    problems: dict[str, list[str]] = {}
    if hours is None:
        return problems
    if not isinstance(hours, dict):
        return {"opening_hours": ["expected an object"]}
    unknown = set(hours) - {"weekly", "always_open", "exceptions", "note_vi", "note_en"}
    if unknown:
        problems["opening_hours"] = [f"unknown keys: {', '.join(sorted(unknown))}"]
    weekly = hours.get("weekly") or {}
    if not isinstance(weekly, dict) or set(weekly) - set(DAYS):
        problems["opening_hours.weekly"] = [f"expected an object with keys among {', '.join(DAYS)}"]
    else:
        for day, intervals in weekly.items():
            _check_intervals(intervals, f"opening_hours.weekly.{day}", problems)
    if not isinstance(hours.get("always_open", False), bool):
        problems["opening_hours.always_open"] = ["expected true or false"]
    exceptions = hours.get("exceptions") or []
    if not isinstance(exceptions, list):
        problems["opening_hours.exceptions"] = ["expected a list"]
        exceptions = []
    for i, exc in enumerate(exceptions):
        where = f"opening_hours.exceptions.{i}"
        if not isinstance(exc, dict):
            problems[where] = ["expected an object"]
            continue
        first, last = _parse_date(exc.get("date")), _parse_date(exc.get("until", exc.get("date")))
        if first is None or last is None:
            problems.setdefault(where, []).append("date (and until) must be YYYY-MM-DD")
        elif last < first or (last - first).days > MAX_EXCEPTION_DAYS:
            problems.setdefault(where, []).append("until must be on or after date, within a year")
        if bool(exc.get("closed")) == ("hours" in exc):
            problems.setdefault(where, []).append("give either closed: true or hours")
        if "hours" in exc:
            _check_intervals(exc["hours"], f"{where}.hours", problems)
    for key in ("note_vi", "note_en"):
        if hours.get(key) is not None and not isinstance(hours[key], str):
            problems[f"opening_hours.{key}"] = ["expected text"]
    return problems


def _exception_for(hours: dict, day: date) -> dict | None:
    # The last matching exception wins, so an administrator can append a correction.
    found = None
    for exc in hours.get("exceptions") or []:
        first = date.fromisoformat(exc["date"])
        last = date.fromisoformat(exc.get("until") or exc["date"])
        if first <= day <= last:
            found = exc
    return found


def intervals_on(hours: dict, day: date) -> list[tuple[datetime, datetime]]:
    """The openings that start on ``day`` (local), as aware datetimes, in order."""
    exc = _exception_for(hours, day)
    if exc is not None:
        pairs = [] if exc.get("closed") else exc["hours"]
    elif hours.get("always_open"):
        pairs = [["00:00", "24:00"]]
    else:
        pairs = (hours.get("weekly") or {}).get(DAYS[day.weekday()], [])
    midnight = datetime.combine(day, time(0), LOCAL_TZ)
    result = []
    for start, end in pairs:
        a, b = _minutes(start), _minutes(end)
        if b <= a:
            b += 24 * 60  # runs past midnight
        result.append((midnight + timedelta(minutes=a), midnight + timedelta(minutes=b)))
    return sorted(result)


def status_at(hours: dict | None, when: datetime) -> OpenState:
    """Open now? Until when, or from when? ``when`` is any aware datetime."""
    if not hours:
        return OpenState(None, None, None)
    local = when.astimezone(LOCAL_TZ)
    today = local.date()
    exc = _exception_for(hours, today)
    note = None
    if exc is not None:
        note = {"vi": exc.get("note_vi"), "en": exc.get("note_en")}
    # Day by day from yesterday (its late openings may run this morning); openings come
    # out in order of start, so the first one after ``local`` is the next opening.
    spans = (span for offset in range(-1, LOOKAHEAD_DAYS + 1)
             for span in intervals_on(hours, today + timedelta(days=offset)))
    for start, end in spans:
        if start <= local < end:
            # Openings that touch or overlap continue this one (24 h sites, split days).
            for next_start, next_end in spans:
                if next_start > end:
                    return OpenState(True, end, None, note)
                end = max(end, next_end)
            return OpenState(True, None, None, note)   # open past the lookahead
        if start > local:
            return OpenState(False, None, start, note)
    return OpenState(False, None, None, note)
