"""The Vietnamese lunisolar calendar (âm lịch) and festival dates resolved per year.

Conversion comes from ``lunar-vn`` (MIT, pure Python, no dependencies): it computes
new moons and solar terms astronomically at UTC+7, as the Vietnamese calendar is
defined, so it gives Tết 1985 on 21 January and Tết 2007 on 17 February, where the
Chinese calendar (UTC+8) has 20 February and 18 February. tests/tourism/test_lunar.py
checks it against hard-coded dates and, for every year 1901–2099, against the
independent Vietnamese New Year table of the ``holidays`` package.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lunar_vn import LunarDate, lunar_to_solar, solar_to_lunar

VIETNAM_UTC_OFFSET = 7.0
# lunar-vn's range is solar 1900–2100; lunar year Y starts in solar year Y.
FIRST_YEAR, LAST_YEAR = 1901, 2099


class NoSuchDate(ValueError):
    """The lunar date does not exist in that year (e.g. a leap month that year lacks)."""


def to_solar(year: int, month: int, day: int, leap: bool = False) -> date:
    """Day ``day`` of lunar month ``month`` (leap or not) of lunar year ``year``.

    Lunar months have 29 or 30 days. Day 30 of a 29-day month becomes day 29, the
    last day of that month: a custom kept on "the 30th" (30 Tết) falls on the month's
    last day in short years.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NoSuchDate(f"lunar year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")
    try:
        solar = lunar_to_solar(LunarDate(day, month, year, leap), time_zone=VIETNAM_UTC_OFFSET)
    except ValueError as exc:
        raise NoSuchDate(str(exc)) from exc
    back = solar_to_lunar(solar, time_zone=VIETNAM_UTC_OFFSET)
    if (back.month, back.leap) != (month, leap):
        if day == 30:
            return to_solar(year, month, 29, leap)
        raise NoSuchDate(f"no lunar {day}/{month}{' (leap)' if leap else ''}/{year}")
    return solar


def to_lunar(day: date) -> LunarDate:
    return solar_to_lunar(day, time_zone=VIETNAM_UTC_OFFSET)


def tet(year: int) -> date:
    """Tết Nguyên Đán: the first day of the first lunar month of ``year``."""
    return to_solar(year, 1, 1)


@dataclass(frozen=True)
class Occurrence:
    start: date
    end: date
    main_day: date


def _main_days(calendar: str, month: int, day: int, leap: bool, years: range):
    for year in years:
        try:
            if calendar == "lunar":
                yield to_solar(year, month, day, leap)
            else:
                yield date(year, month, day)
        except (NoSuchDate, ValueError):
            continue  # a leap month the year lacks, or 29 February


def occurrences(calendar: str, month: int, day: int, *, leap: bool = False,
                starts_before_days: int = 0, duration_days: int = 1, only_year: int | None = None,
                start: date, end: date) -> list[Occurrence]:
    """Every occurrence of a yearly date that overlaps [start, end], in order."""
    # A lunar year straddles two solar years, and a festival can start days before its main day.
    first = max(FIRST_YEAR, start.year - 1)
    last = min(LAST_YEAR, end.year + 1)
    years = range(only_year, only_year + 1) if only_year else range(first, last + 1)
    found = []
    for main in _main_days(calendar, month, day, leap, years):
        if only_year and calendar == "solar" and main.year != only_year:
            continue
        begins = main - timedelta(days=starts_before_days)
        ends = begins + timedelta(days=duration_days - 1)
        if begins <= end and ends >= start:
            found.append(Occurrence(begins, ends, main))
    return sorted(found, key=lambda o: o.start)
