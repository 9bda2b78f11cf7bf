"""Answering in the citizen's language, and times as people in Vietnam say them.

The NLU marks every message with a ``lang`` entity (``vi`` or ``en``) and the ``lang``
slot keeps it; Vietnamese is the default. Times are UTC inside and shown in
Asia/Ho_Chi_Minh; a deadline at midnight is "24:00" of the day that ends, as the
civil-code convention for working-day deadlines writes it.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_WEEKDAYS = {"vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
             "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}


def lang_of(tracker: Tracker) -> str:
    return "en" if tracker.get_slot("lang") == "en" else "vi"


def pick(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lowercase, diacritic-free, đ→d, single-spaced (the API's ``api.text.fold``)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.replace("đ", "d").split())


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 instant with offset from the API, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def local_moment(value: datetime, lang: str) -> str:
    """"16:30 thứ Sáu, 27/11/2026"; midnight reads "24:00 thứ Năm, 26/11/2026"."""
    local = value.astimezone(LOCAL_TZ)
    clock = f"{local:%H:%M}"
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        local, clock = local - timedelta(days=1), "24:00"
    day = _WEEKDAYS[lang][local.weekday()]
    return f"{clock} {day}, {local:%d/%m/%Y}"


def local_clock(value: datetime, now: datetime, lang: str) -> str:
    """An opening time: "08:00" today, else "08:00 thứ Bảy" / "08:00 Saturday"."""
    local, today = value.astimezone(LOCAL_TZ), now.astimezone(LOCAL_TZ).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"{local:%H:%M} " + pick(lang, "ngày mai", "tomorrow")
    return f"{local:%H:%M} {_WEEKDAYS[lang][local.weekday()]}"


def duration(delta: timedelta, lang: str) -> str:
    """"2 ngày 3 giờ", "5 giờ", "40 phút" (whole units, the two largest)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    names = {"vi": ("ngày", "giờ", "phút"), "en": ("day", "hour", "minute")}[lang]
    parts = []
    for amount, name in zip((days, hours, mins), names):
        if amount:
            parts.append(f"{amount} {name}" + ("s" if lang == "en" and amount > 1 else ""))
    if not parts:
        return pick(lang, "dưới 1 phút", "less than a minute")
    if days:
        parts = parts[:2] if hours else parts[:1]
    return " ".join(parts[:2])


def local_date(value: str, lang: str) -> str:
    """An API date "2027-02-19" as "19/02/2027" (the way both audiences read it here)."""
    try:
        year, month, day = (int(p) for p in value.split("-"))
    except (ValueError, AttributeError):
        return str(value)
    return f"{day:02d}/{month:02d}/{year}"


def money(vnd: int, lang: str) -> str:
    """"20.000 đ" / "20,000 VND"."""
    if lang == "en":
        return f"{vnd:,} VND"
    return f"{vnd:,}".replace(",", ".") + " đ"
