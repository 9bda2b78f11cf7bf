"""Working calendars for report deadlines (Vietnamese working time).

Two calendars with one interface:

* ``BusinessCalendar`` counts office shifts on working days in the unit's time
  zone; public holidays come from the ``holidays`` package and can be patched
  with data (``holiday_overrides``, ``extra_days_off``, ``extra_working_days``)
  when the government's announced schedule differs from the package.
* ``AlwaysOpenCalendar`` is 24x7, for urgent reports.

Instants are handled as integer microseconds since the Unix epoch so that
adding and measuring working time round-trip exactly (float seconds would drift
by a few tenths of a microsecond at today's epoch values). Every datetime
returned is aware UTC, following the project's "UTC inside" rule.

Day precedence (see docs/calendar.md): an extra day off or a public holiday is
never a working day; a make-up working day only turns a weekly rest day into a
working day.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "AlwaysOpenCalendar",
    "BusinessCalendar",
    "DEFAULT_SHIFTS",
    "DEFAULT_WEEKDAYS",
    "DEFAULT_TZ",
    "calendar_for",
]

DEFAULT_SHIFTS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(11, 30)),
    (time(13, 30), time(17, 0)),
)
DEFAULT_WEEKDAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
URGENT_CLASS = "urgent"

# Name given to an extra day off that was passed without one.
EXTRA_DAY_OFF_NAME = "Ngày nghỉ theo thông báo"

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_US_PER_S = 1_000_000

# A calendar that finds no working time for this many consecutive days is
# misconfigured (no weekdays, everything a day off); stop instead of looping.
_MAX_IDLE_DAYS = 3660
# Per-instance day cache bound: a long-running worker must not grow forever
# when callers walk across many years.
_DAY_CACHE_LIMIT = 8192


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")


def _to_us(value: datetime) -> int:
    # Aware subtraction is exact to the microsecond and ignores the source zone.
    return (value - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _seconds_to_us(seconds: float, name: str = "seconds") -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name} must be a number")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {seconds!r}")
    if isinstance(seconds, int):
        return seconds * _US_PER_S
    return round(seconds * _US_PER_S)


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError("days must be an int")
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")


def _as_date_set(values: Iterable[date], name: str) -> frozenset[date]:
    result = frozenset(values)
    for d in result:
        # datetime is a date subclass; accepting it would silently drop the
        # time and zone, so the DB loader must hand over plain dates.
        if not isinstance(d, date) or isinstance(d, datetime):
            raise TypeError(f"{name} must contain datetime.date values, got {d!r}")
    return result


@lru_cache(maxsize=512)
def _package_year(year: int) -> tuple[Mapping[date, str], frozenset[date]]:
    """Public holidays and make-up Saturdays that the package knows for ``year``.

    Shared by every calendar: building a ``holidays`` object costs from a tenth
    of a millisecond to tens of milliseconds (first use loads translations).
    Names are Vietnamese, as shown to the operations centre.
    """
    vn = holidays.country_holidays("VN", years=year, language="vi")
    days = {d: name for d, name in vn.items() if d.year == year}
    # weekend_workdays holds the Saturdays worked to pay for a swapped bridge
    # day (e.g. 26/4/2025 for 2/5/2025); it also carries cross-year ones, so
    # keep only this year's and let the other year's lookup provide its own.
    makeup = frozenset(d for d in getattr(vn, "weekend_workdays", ()) if d.year == year)
    return MappingProxyType(days), makeup


class _CalendarBase:
    tz: ZoneInfo

    def _local_date(self, value: datetime) -> date:
        return value.astimezone(self.tz).date()

    def _local_midnight_us(self, d: date) -> int:
        return _to_us(datetime.combine(d, time(0), tzinfo=self.tz))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``add_working_seconds`` with the amount in hours."""
        if isinstance(hours, bool) or not isinstance(hours, (int, float)):
            raise TypeError("hours must be a number")
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
        return self.add_working_seconds(start, hours * 3600)


class BusinessCalendar(_CalendarBase):
    """Office hours on working days, in a unit's local time zone.

    ``extra_days_off`` may be a set of dates or a mapping date -> name (the name
    is shown by ``holidays_in``). ``holiday_overrides`` patches the package's
    public holidays: date -> name adds or renames one, date -> None removes one.
    Overrides and the package's make-up Saturdays belong to the public-holiday
    layer and are ignored when ``use_public_holidays`` is False.
    """

    def __init__(
        self,
        *,
        shifts: tuple[tuple[time, time], ...] = DEFAULT_SHIFTS,
        weekdays: frozenset[int] = DEFAULT_WEEKDAYS,
        tz: str = DEFAULT_TZ,
        extra_working_days: frozenset[date] = frozenset(),
        extra_days_off: frozenset[date] | Mapping[date, str] = frozenset(),
        use_public_holidays: bool = True,
        holiday_overrides: Mapping[date, str | None] | None = None,
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.shifts = self._validate_shifts(shifts)
        self.weekdays = frozenset(weekdays)
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"weekdays must be within 0 (Monday)..6 (Sunday), got {sorted(weekdays)}")
        self.extra_working_days = _as_date_set(extra_working_days, "extra_working_days")
        if isinstance(extra_days_off, Mapping):
            self._extra_off_names = {d: (str(n) if n else EXTRA_DAY_OFF_NAME)
                                     for d, n in extra_days_off.items()}
        else:
            self._extra_off_names = {d: EXTRA_DAY_OFF_NAME for d in extra_days_off}
        self.extra_days_off = _as_date_set(self._extra_off_names, "extra_days_off")
        self.use_public_holidays = bool(use_public_holidays)
        overrides = dict(holiday_overrides or {})
        _as_date_set(overrides, "holiday_overrides")
        for d, name in overrides.items():
            if name is not None and not isinstance(name, str):
                raise TypeError(f"holiday_overrides[{d}] must be a name or None, got {name!r}")
        self.holiday_overrides: Mapping[date, str | None] = MappingProxyType(overrides)

        self._year_cache: dict[int, tuple[Mapping[date, str], frozenset[date]]] = {}
        self._day_cache: dict[date, tuple[tuple[int, int], ...]] = {}

    @staticmethod
    def _validate_shifts(shifts: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        result = tuple((s, e) for s, e in shifts)
        if not result:
            raise ValueError("a business calendar needs at least one shift")
        previous_end: time | None = None
        for start, end in result:
            if not isinstance(start, time) or not isinstance(end, time):
                raise TypeError("shifts must be pairs of datetime.time")
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("shift times are local wall-clock times: no tzinfo")
            # A shift across midnight would belong to two calendar days and
            # break the "day of receipt" rule; split it into two shifts instead.
            if not start < end:
                raise ValueError(f"shift {start}-{end} must start before it ends on the same day")
            if previous_end is not None and start < previous_end:
                raise ValueError("shifts must be in order and must not overlap")
            previous_end = end
        return result

    # -- days --------------------------------------------------------------

    def _public_year(self, year: int) -> tuple[Mapping[date, str], frozenset[date]]:
        cached = self._year_cache.get(year)
        if cached is not None:
            return cached
        if not self.use_public_holidays:
            cached = (MappingProxyType({}), frozenset())
        else:
            days, makeup = _package_year(year)
            if any(d.year == year for d in self.holiday_overrides):
                patched = dict(days)
                for d, name in self.holiday_overrides.items():
                    if d.year != year:
                        continue
                    if name is None:
                        patched.pop(d, None)
                    else:
                        patched[d] = name
                days = MappingProxyType(patched)
            cached = (days, makeup)
        self._year_cache[year] = cached
        return cached

    def _coerce_day(self, d: date) -> date:
        if isinstance(d, datetime):
            _require_aware(d, "d")
            return self._local_date(d)
        if not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        return d

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` (a local calendar date) has office shifts.

        An aware datetime is accepted and read as its local date.
        """
        d = self._coerce_day(d)
        if d in self.extra_days_off:
            return False
        public, makeup = self._public_year(d.year)
        if d in public:
            return False
        if d in self.extra_working_days or d in makeup:
            return True
        return d.weekday() in self.weekdays

    def holidays_in(self, year: int) -> dict[date, str]:
        """Public holidays (after overrides) and extra days off in ``year``, by date.

        Weekend dates are included when the package lists them (e.g. a holiday
        falling on Sunday next to its Monday "nghỉ bù").
        """
        public, _ = self._public_year(year)
        merged = {d: n for d, n in self._extra_off_names.items() if d.year == year}
        merged.update(public)  # the official name wins over a generic label
        return dict(sorted(merged.items()))

    def _day_intervals(self, d: date) -> tuple[tuple[int, int], ...]:
        cached = self._day_cache.get(d)
        if cached is not None:
            return cached
        if self.is_working_day(d):
            intervals = []
            for start, end in self.shifts:
                a = _to_us(datetime.combine(d, start, tzinfo=self.tz))
                b = _to_us(datetime.combine(d, end, tzinfo=self.tz))
                # A DST jump inside a shift can only shorten it, never invert it.
                if b > a:
                    intervals.append((a, b))
            result = tuple(intervals)
        else:
            result = ()
        if len(self._day_cache) >= _DAY_CACHE_LIMIT:
            self._day_cache.clear()
        self._day_cache[d] = result
        return result

    # -- instants ----------------------------------------------------------

    def _advance(self, t: int, day: date, amount: int) -> int:
        """Instant (µs) after ``amount`` µs of working time counted from ``t``.

        With amount 0 this is the first working instant at or after ``t``. The
        loop is per day, so long durations cost O(days), never O(seconds).
        """
        idle = 0
        while True:
            intervals = self._day_intervals(day)
            for a, b in intervals:
                if b <= t:
                    continue
                s = a if a > t else t
                available = b - s
                # "<=" so a deadline that uses up a shift exactly ends at the
                # shift's end (17:00), not at the next morning's start.
                if amount <= available:
                    return s + amount
                amount -= available
            if intervals:
                idle = 0
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(
                        f"no working time within {_MAX_IDLE_DAYS} days after {day}: "
                        "check the calendar's weekdays and days off")
            day += _ONE_DAY

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """``start`` plus ``seconds`` of time inside shifts, as aware UTC.

        Time outside shifts (evening, lunch, rest days, holidays) is skipped, so
        a report received outside a shift starts counting at the next shift.
        Adding 0 returns ``next_working_instant(start)``.
        """
        _require_aware(start, "start")
        amount = _seconds_to_us(seconds)
        return _from_us(self._advance(_to_us(start), self._local_date(start), amount))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """24:00 (local) of the ``days``-th working day after the day of receipt, as UTC.

        Civil-code convention (Bộ luật Dân sự 2015, Art. 147-148): the day of
        receipt is not counted and a period in days ends at 24:00 of its last
        day. ``days == 0`` gives 24:00 of the day of receipt itself.
        """
        _require_aware(start, "start")
        _check_days(days)
        day = self._local_date(start)
        counted = idle = 0
        while counted < days:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
                idle = 0
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days after {day}")
        return _from_us(self._local_midnight_us(day + _ONE_DAY))

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of shift time in [start, end); 0 when ``end <= start``."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        t0, t1 = _to_us(start), _to_us(end)
        if t1 <= t0:
            return 0.0
        day, last = self._local_date(start), self._local_date(end)
        total = 0
        while day <= last:
            for a, b in self._day_intervals(day):
                lo = a if a > t0 else t0
                hi = b if b < t1 else t1
                if hi > lo:
                    total += hi - lo
            day += _ONE_DAY
        return total / _US_PER_S

    def next_working_instant(self, at: datetime) -> datetime:
        """``at`` (as UTC) when inside a shift, else the start of the next shift.

        Shifts are half-open: 17:00 sharp is outside and moves to the next shift.
        """
        _require_aware(at, "at")
        return _from_us(self._advance(_to_us(at), self._local_date(at), 0))

    def __repr__(self) -> str:
        shifts = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.shifts)
        return (f"BusinessCalendar(tz={self.tz.key!r}, shifts=[{shifts}], "
                f"weekdays={sorted(self.weekdays)}, extra_working_days={len(self.extra_working_days)}, "
                f"extra_days_off={len(self.extra_days_off)}, use_public_holidays={self.use_public_holidays})")


class AlwaysOpenCalendar(_CalendarBase):
    """24x7 calendar for urgent reports: every second and every day counts.

    Public holidays and exceptions do not apply, so ``holidays_in`` is empty.
    The time zone only decides where the day of receipt ends.
    """

    def __init__(self, *, tz: str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz)

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            _require_aware(d, "d")
        elif not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        return True

    def holidays_in(self, year: int) -> dict[date, str]:
        return {}

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        _require_aware(start, "start")
        return _from_us(_to_us(start) + _seconds_to_us(seconds))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """24:00 (local) of the ``days``-th calendar day after the day of receipt, as UTC."""
        _require_aware(start, "start")
        _check_days(days)
        return _from_us(self._local_midnight_us(self._local_date(start) + timedelta(days=days + 1)))

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        _require_aware(start, "start")
        _require_aware(end, "end")
        return max(0, _to_us(end) - _to_us(start)) / _US_PER_S

    def next_working_instant(self, at: datetime) -> datetime:
        _require_aware(at, "at")
        return at.astimezone(_UTC)

    def __repr__(self) -> str:
        return f"AlwaysOpenCalendar(tz={self.tz.key!r})"


def calendar_for(
    sla_class: str,
    *,
    extra_working_days: frozenset[date] = frozenset(),
    extra_days_off: frozenset[date] | Mapping[date, str] = frozenset(),
    holiday_overrides: Mapping[date, str | None] | None = None,
) -> BusinessCalendar | AlwaysOpenCalendar:
    """The calendar an SLA class is measured on: "urgent" is 24x7, the rest office hours."""
    if not isinstance(sla_class, str):
        raise TypeError("sla_class must be a string")
    if sla_class.strip().lower() == URGENT_CLASS:
        return AlwaysOpenCalendar()
    return BusinessCalendar(extra_working_days=extra_working_days,
                            extra_days_off=extra_days_off,
                            holiday_overrides=holiday_overrides)
