"""Working calendars for report deadlines.

Every expected value below is worked out by hand in its comment. Local time is
Asia/Ho_Chi_Minh (UTC+7, no DST), so local 00:00 is 17:00 UTC the day before.
Default office hours: 07:30-11:30 and 13:30-17:00 (4 h + 3.5 h = 7.5 h a day).
"""
from __future__ import annotations

import random
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.sla.calendar import AlwaysOpenCalendar, BusinessCalendar, calendar_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
H = 3600


def vn(y, m, d, hh=0, mm=0, ss=0, us=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=VN)


def utc(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar()


# -- the two worked examples of the design ---------------------------------

def test_friday_1650_plus_8_working_hours(cal):
    # Fri 6 Mar 2026 16:50 (1 Mar 2026 is a Sunday; no holiday nearby).
    # Fri 16:50-17:00 = 10 min; Mon 9 Mar 07:30-11:30 = 4 h (4h10m);
    # Mon 13:30-17:00 = 3.5 h (7h40m); Tue 10 Mar 07:30 + 20 min -> 07:50 local
    # = 00:50 UTC.
    start = vn(2026, 3, 6, 16, 50)
    assert start.weekday() == 4
    due = cal.add_working_hours(start, 8)
    assert due == utc(2026, 3, 10, 0, 50)
    assert due.tzinfo == UTC
    assert due.astimezone(VN) == vn(2026, 3, 10, 7, 50)


def test_friday_1650_plus_3_working_days(cal):
    # Day of receipt (Fri 6 Mar) is not counted; Sat/Sun are not working days;
    # Mon 9, Tue 10, Wed 11 are the 3 days -> 24:00 Wed = Thu 12 Mar 00:00
    # local = Wed 11 Mar 17:00 UTC.
    assert cal.add_working_days(vn(2026, 3, 6, 16, 50), 3) == utc(2026, 3, 11, 17, 0)


# -- receipt outside shifts -------------------------------------------------

def test_received_at_lunch_starts_at_1330(cal):
    # Wed 11 Mar 2026 12:00 is in the lunch break; counting starts 13:30;
    # +2 h -> 15:30 local = 08:30 UTC.
    start = vn(2026, 3, 11, 12, 0)
    assert cal.next_working_instant(start) == vn(2026, 3, 11, 13, 30)
    assert cal.add_working_hours(start, 2) == utc(2026, 3, 11, 8, 30)


def test_received_in_the_evening_starts_next_morning(cal):
    # Wed 11 Mar 2026 20:00 -> next shift Thu 12 Mar 07:30; +2 h -> 09:30
    # local = 02:30 UTC. One working day: Thu 12 is the 1st -> Fri 13 00:00
    # local = Thu 12 17:00 UTC.
    start = vn(2026, 3, 11, 20, 0)
    assert cal.next_working_instant(start) == vn(2026, 3, 12, 7, 30)
    assert cal.add_working_hours(start, 2) == utc(2026, 3, 12, 2, 30)
    assert cal.add_working_days(start, 1) == utc(2026, 3, 12, 17, 0)


def test_received_on_sunday(cal):
    # Sun 8 Mar 2026 10:00 -> Mon 9 Mar 07:30. 8 h: Mon gives 7.5 h (to 17:00),
    # 0.5 h left -> Tue 10 Mar 08:00 local = 01:00 UTC.
    # 1 working day: Mon 9 -> due Tue 10 00:00 local = Mon 9 17:00 UTC.
    start = vn(2026, 3, 8, 10, 0)
    assert start.weekday() == 6
    assert cal.next_working_instant(start) == vn(2026, 3, 9, 7, 30)
    assert cal.add_working_hours(start, 8) == utc(2026, 3, 10, 1, 0)
    assert cal.add_working_days(start, 1) == utc(2026, 3, 9, 17, 0)


def test_shift_boundaries(cal):
    # 07:30 sharp is inside (itself); 17:00 sharp is outside (shifts are
    # half-open) -> next day 07:30. 7.5 h from Mon 07:30 ends exactly Mon
    # 17:00, not Tue 07:30.
    assert cal.next_working_instant(vn(2026, 3, 9, 7, 30)) == vn(2026, 3, 9, 7, 30)
    assert cal.next_working_instant(vn(2026, 3, 9, 17, 0)) == vn(2026, 3, 10, 7, 30)
    assert cal.add_working_hours(vn(2026, 3, 9, 7, 30), 7.5) == vn(2026, 3, 9, 17, 0)
    # Adding 0 from the evening is the next shift start.
    assert cal.add_working_seconds(vn(2026, 3, 9, 20, 0), 0) == vn(2026, 3, 10, 7, 30)


def test_input_zone_does_not_matter(cal):
    # The same instant given in UTC (Fri 6 Mar 09:50 UTC = 16:50 local) gives
    # the same deadlines as the local input.
    start = utc(2026, 3, 6, 9, 50)
    assert cal.add_working_hours(start, 8) == utc(2026, 3, 10, 0, 50)
    assert cal.add_working_days(start, 3) == utc(2026, 3, 11, 17, 0)


# -- Tết -------------------------------------------------------------------

def test_tet_2026_break_is_closed(cal):
    # Announced break 14-22 Feb 2026 (Sat-Sun); the package gives Mon 16-Fri 20
    # (Giao thừa 16, Tết 17, mùng 2-4 on 18-20); 14/15 and 21/22 are weekends.
    for day in range(14, 23):
        assert not cal.is_working_day(date(2026, 2, day)), day
    assert cal.is_working_day(date(2026, 2, 13))  # Friday before the break
    assert cal.is_working_day(date(2026, 2, 23))  # Monday after
    assert date(2026, 2, 17) in cal.holidays_in(2026)


def test_tet_2026_deadlines(cal):
    # Received Fri 13 Feb 2026 10:00, the last working day before the break.
    start = vn(2026, 2, 13, 10, 0)
    # 1 working day: 14-22 Feb are all off, Mon 23 Feb is the 1st
    #   -> Tue 24 Feb 00:00 local = Mon 23 Feb 17:00 UTC.
    assert cal.add_working_days(start, 1) == utc(2026, 2, 23, 17, 0)
    # 3 working days: Mon 23, Tue 24, Wed 25 -> Thu 26 00:00 local = Wed 25 17:00 UTC.
    assert cal.add_working_days(start, 3) == utc(2026, 2, 25, 17, 0)
    # 8 working hours: Fri 10:00-11:30 1.5 h + 13:30-17:00 3.5 h = 5 h;
    #   3 h left -> Mon 23 Feb 07:30 + 3 h = 10:30 local = 03:30 UTC.
    assert cal.add_working_hours(start, 8) == utc(2026, 2, 23, 3, 30)


def test_tet_2027(cal):
    # Tết Đinh Mùi: lunar new year day is Sat 6 Feb 2027. The package gives
    # Thu 4 (in lieu of Sat 6), Fri 5 (Giao thừa), Mon 8, Tue 9, Wed 10 (in
    # lieu of Sun 7): weekdays 4-10 Feb are off, Thu 11 Feb is the next one.
    for d in (4, 5, 8, 9, 10):
        assert not cal.is_working_day(date(2027, 2, d)), d
    assert cal.is_working_day(date(2027, 2, 3)) and cal.is_working_day(date(2027, 2, 11))
    start = vn(2027, 2, 3, 9, 0)  # Wed 3 Feb 2027 09:00
    # 1 working day: Thu 11 Feb -> Fri 12 00:00 local = Thu 11 Feb 17:00 UTC.
    assert cal.add_working_days(start, 1) == utc(2027, 2, 11, 17, 0)
    # 8 h: Wed 09:00-11:30 2.5 h + 13:30-17:00 3.5 h = 6 h; 2 h left
    #   -> Thu 11 Feb 09:30 local = 02:30 UTC.
    assert cal.add_working_hours(start, 8) == utc(2027, 2, 11, 2, 30)


# -- 30/4 - 1/5 ------------------------------------------------------------

def test_reunification_and_labour_day_2027_substitute_monday(cal):
    # 2027: 30/4 is Friday, 1/5 Saturday -> the package adds Mon 3 May
    # "Ngày Quốc tế Lao động (nghỉ bù)" (Labour Code 2019 Art. 112(3)).
    h = cal.holidays_in(2027)
    assert date(2027, 4, 30) in h and date(2027, 5, 1) in h and date(2027, 5, 3) in h
    start = vn(2027, 4, 29, 16, 0)  # Thu 29 Apr 16:00
    # 1 working day: Fri 30 off, Sat, Sun, Mon 3 off -> Tue 4 May
    #   -> Wed 5 May 00:00 local = Tue 4 May 17:00 UTC.
    assert cal.add_working_days(start, 1) == utc(2027, 5, 4, 17, 0)
    # 4 h: Thu 16:00-17:00 1 h; 3 h left -> Tue 4 May 10:30 local = 03:30 UTC.
    assert cal.add_working_hours(start, 4) == utc(2027, 5, 4, 3, 30)


def test_reunification_and_labour_day_2026_thursday_friday(cal):
    # 2026: Thu 30/4 and Fri 1/5 (a 4-day break 30/4-3/5). Received Wed 29 Apr
    # 15:00, 2 working days: Thu, Fri off, weekend, Mon 4 May (1), Tue 5 (2)
    #   -> Wed 6 May 00:00 local = Tue 5 May 17:00 UTC.
    assert cal.add_working_days(vn(2026, 4, 29, 15, 0), 2) == utc(2026, 5, 5, 17, 0)
    # Hùng Vương 10/3 lunar fell on Sun 26 Apr 2026 -> Mon 27 Apr is off.
    assert not cal.is_working_day(date(2026, 4, 27))


# -- National Day ----------------------------------------------------------

def test_national_day_2025(cal):
    # 2/9/2025 is Tuesday; the adjacent day chosen was Mon 1/9 (break 30/8-2/9).
    assert not cal.is_working_day(date(2025, 9, 1))
    assert not cal.is_working_day(date(2025, 9, 2))
    assert cal.is_working_day(date(2025, 9, 3))
    # Received Fri 29 Aug 2025 14:00, 1 working day: Sat, Sun, Mon 1 and Tue 2
    # off -> Wed 3 Sep -> Thu 4 Sep 00:00 local = Wed 3 Sep 17:00 UTC.
    assert cal.add_working_days(vn(2025, 8, 29, 14, 0), 1) == utc(2025, 9, 3, 17, 0)


def test_national_day_2026_with_swap(cal):
    # 2/9/2026 is Wednesday; adjacent day Tue 1/9; Mon 31/8 off in exchange
    # for Sat 22/8 worked (break Sat 29/8 - Wed 2/9, 5 days).
    for d in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not cal.is_working_day(d), d
    assert cal.is_working_day(date(2026, 8, 22))  # make-up Saturday from the package
    # Received Fri 28 Aug 16:00, 1 working day: 29/8-2/9 off -> Thu 3 Sep
    #   -> Fri 4 Sep 00:00 local = Thu 3 Sep 17:00 UTC.
    assert cal.add_working_days(vn(2026, 8, 28, 16, 0), 1) == utc(2026, 9, 3, 17, 0)
    # Received Fri 21 Aug 16:00: Sat 22 counts.
    #   1 day -> Sun 23 00:00 local = Sat 22 Aug 17:00 UTC;
    #   2 h: Fri 16:00-17:00 1 h, Sat 22 07:30 + 1 h = 08:30 local = 01:30 UTC.
    assert cal.add_working_days(vn(2026, 8, 21, 16, 0), 1) == utc(2026, 8, 22, 17, 0)
    assert cal.add_working_hours(vn(2026, 8, 21, 16, 0), 2) == utc(2026, 8, 22, 1, 30)


def test_package_holiday_lists_are_pinned(cal):
    # Pins what holidays==0.109 gives (Mon-Fri dates off), so that a package
    # upgrade that changes a year shows up here and in docs/calendar.md.
    def weekdays_off(year):
        return sorted(d for d in cal.holidays_in(year) if d.weekday() < 5)

    assert weekdays_off(2025) == [date(2025, 1, 1), *(date(2025, 1, d) for d in range(27, 32)),
                                  date(2025, 4, 7), date(2025, 4, 30), date(2025, 5, 1),
                                  date(2025, 5, 2), date(2025, 9, 1), date(2025, 9, 2)]
    assert weekdays_off(2026) == [date(2026, 1, 1), *(date(2026, 2, d) for d in range(16, 21)),
                                  date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1),
                                  date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2),
                                  date(2026, 11, 24)]
    assert weekdays_off(2027) == [date(2027, 1, 1), date(2027, 2, 4), date(2027, 2, 5),
                                  *(date(2027, 2, d) for d in (8, 9, 10)),
                                  date(2027, 4, 16), date(2027, 4, 30), date(2027, 5, 3),
                                  date(2027, 9, 2), date(2027, 9, 3), date(2027, 11, 24)]
    # The 2025 swap: 2/5 off, Sat 26/4 worked.
    assert cal.is_working_day(date(2025, 4, 26))


# -- exceptions as data ----------------------------------------------------

NEW_YEAR_2026 = dict(
    # Announced (VPCP 12729/VPCP-KGVX): Fri 2/1/2026 off, worked on Sat 10/1.
    extra_days_off={date(2026, 1, 2): "Nghỉ hoán đổi Tết Dương lịch"},
    extra_working_days=frozenset({date(2026, 1, 10)}),
)


def test_extra_day_off_is_skipped(cal):
    exc = BusinessCalendar(**NEW_YEAR_2026)
    start = vn(2025, 12, 31, 16, 0)  # Wed 31 Dec 2025 16:00
    # Package only: Thu 1/1 off, Fri 2/1 is the 1st working day
    #   -> Sat 3 Jan 00:00 local = Fri 2 Jan 17:00 UTC.
    assert cal.add_working_days(start, 1) == utc(2026, 1, 2, 17, 0)
    # With the exception: 1/1, 2/1, Sat, Sun off -> Mon 5 Jan
    #   -> Tue 6 Jan 00:00 local = Mon 5 Jan 17:00 UTC.
    assert exc.add_working_days(start, 1) == utc(2026, 1, 5, 17, 0)
    # 4 h: Wed 16:00-17:00 1 h; 3 h from Mon 5 Jan 07:30 -> 10:30 local = 03:30 UTC.
    assert exc.add_working_hours(start, 4) == utc(2026, 1, 5, 3, 30)
    assert exc.holidays_in(2026)[date(2026, 1, 2)] == "Nghỉ hoán đổi Tết Dương lịch"


def test_makeup_saturday_counts_as_working_day(cal):
    exc = BusinessCalendar(**NEW_YEAR_2026)
    start = vn(2026, 1, 9, 16, 0)  # Fri 9 Jan 2026 16:00
    assert exc.is_working_day(date(2026, 1, 10)) and not cal.is_working_day(date(2026, 1, 10))
    # With the make-up Saturday: Sat 10 is the 1st day -> Sun 11 00:00 local
    #   = Sat 10 Jan 17:00 UTC. Without: Mon 12 -> Mon 12 Jan 17:00 UTC.
    assert exc.add_working_days(start, 1) == utc(2026, 1, 10, 17, 0)
    assert cal.add_working_days(start, 1) == utc(2026, 1, 12, 17, 0)
    # 2 h: Fri 16:00-17:00 1 h, Sat 10 07:30 + 1 h = 08:30 local = 01:30 UTC.
    assert exc.add_working_hours(start, 2) == utc(2026, 1, 10, 1, 30)


def test_makeup_day_does_not_beat_a_holiday_or_day_off():
    # "Make-up wins over weekend only": listing National Day, or a date that is
    # also an extra day off, as a working day leaves it a day off.
    c = BusinessCalendar(extra_working_days=frozenset({date(2026, 9, 2), date(2026, 3, 7)}),
                         extra_days_off=frozenset({date(2026, 3, 7)}))
    assert not c.is_working_day(date(2026, 9, 2))
    assert not c.is_working_day(date(2026, 3, 7))
    assert c.holidays_in(2026)[date(2026, 3, 7)]  # generic name for a nameless day off


def test_holiday_overrides_fix_the_package_with_data(cal):
    # Remove a package day (e.g. if 24/11 is not yet in force) and add one the
    # package does not know (e.g. if 1/9/2027 were announced instead of 3/9).
    c = BusinessCalendar(holiday_overrides={date(2026, 11, 24): None,
                                            date(2027, 9, 3): None,
                                            date(2027, 9, 1): "Quốc khánh"})
    assert not cal.is_working_day(date(2026, 11, 24))
    assert c.is_working_day(date(2026, 11, 24))
    assert c.is_working_day(date(2027, 9, 3)) and not c.is_working_day(date(2027, 9, 1))
    assert date(2026, 11, 24) not in c.holidays_in(2026)
    assert c.holidays_in(2027)[date(2027, 9, 1)] == "Quốc khánh"


def test_without_public_holidays():
    c = BusinessCalendar(use_public_holidays=False)
    assert c.is_working_day(date(2026, 9, 2))       # Wednesday, holiday ignored
    assert not c.is_working_day(date(2026, 8, 22))  # package make-up Saturday ignored
    assert c.holidays_in(2026) == {}


def test_custom_unit_hours():
    # A unit working Mon-Sat, 08:00-12:00 only (4 h a day), no public holidays.
    c = BusinessCalendar(shifts=((time(8), time(12)),), weekdays=frozenset(range(6)),
                         use_public_holidays=False)
    # Fri 6 Mar 2026 11:00 + 6 h: Fri 1 h, Sat 7 4 h, Mon 9 08:00 + 1 h = 09:00
    # local = 02:00 UTC.
    assert c.add_working_hours(vn(2026, 3, 6, 11, 0), 6) == utc(2026, 3, 9, 2, 0)


# -- 24x7 ------------------------------------------------------------------

def test_urgent_report_at_night_on_a_holiday():
    c = calendar_for("urgent")
    assert isinstance(c, AlwaysOpenCalendar)
    start = vn(2026, 9, 2, 2, 0)  # 02:00 on National Day
    # +4 h wall-clock -> 06:00 local same day = Tue 1 Sep 23:00 UTC.
    assert c.add_working_hours(start, 4) == utc(2026, 9, 1, 23, 0)
    # +1 working day = 1 calendar day after the day of receipt (2 Sep):
    #   24:00 on 3 Sep = 4 Sep 00:00 local = 3 Sep 17:00 UTC.
    assert c.add_working_days(start, 1) == utc(2026, 9, 3, 17, 0)
    assert c.is_working_day(date(2026, 9, 2)) and c.holidays_in(2026) == {}
    assert c.next_working_instant(start) == start
    assert c.working_seconds_between(start, vn(2026, 9, 3, 2, 0)) == 24 * H
    assert c.working_seconds_between(vn(2026, 9, 3), start) == 0


def test_calendar_for_other_classes():
    for sla in ("fix_now", "normal", "complex"):
        assert isinstance(calendar_for(sla), BusinessCalendar)
    c = calendar_for("normal", **NEW_YEAR_2026)
    assert c.is_working_day(date(2026, 1, 10)) and not c.is_working_day(date(2026, 1, 2))


# -- elapsed working time ---------------------------------------------------

def test_working_seconds_across_a_weekend(cal):
    # Fri 6 Mar 16:00-17:00 (1 h) + Mon 9 Mar 07:30-09:00 (1.5 h) = 2.5 h.
    assert cal.working_seconds_between(vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 9, 0)) == 2.5 * H


def test_working_seconds_across_lunch(cal):
    # 11:00-11:30 (0.5 h) + 13:30-14:00 (0.5 h) = 1 h.
    assert cal.working_seconds_between(vn(2026, 3, 11, 11, 0), vn(2026, 3, 11, 14, 0)) == 1 * H


def test_working_seconds_whole_week_and_reversed(cal):
    # Mon 9 Mar 00:00 -> Mon 16 Mar 00:00: 5 days x 7.5 h = 37.5 h.
    assert cal.working_seconds_between(vn(2026, 3, 9), vn(2026, 3, 16)) == 37.5 * H
    assert cal.working_seconds_between(vn(2026, 3, 16), vn(2026, 3, 9)) == 0
    # Tết week 2026 (Mon 16 - Sun 22 Feb) has no working time at all.
    assert cal.working_seconds_between(vn(2026, 2, 14), vn(2026, 2, 23)) == 0


def test_round_trip_is_exact():
    cal = BusinessCalendar()
    rng = random.Random(20260217)
    first = date(2025, 1, 1)
    checked = 0
    while checked < 2000:
        day = first + timedelta(days=rng.randrange(3 * 365))
        if not cal.is_working_day(day):
            continue
        shift_start, shift_end = rng.choice(cal.shifts)
        a = datetime.combine(day, shift_start, tzinfo=VN)
        b = datetime.combine(day, shift_end, tzinfo=VN)
        start = a + timedelta(microseconds=rng.randrange(int((b - a) / timedelta(microseconds=1))))
        seconds = rng.uniform(0, 200 * H) if rng.random() < 0.8 else float(rng.randrange(0, 40 * H))
        due = cal.add_working_seconds(start, seconds)
        assert due >= start
        assert cal.working_seconds_between(start, due) == pytest.approx(seconds, abs=1e-6)
        checked += 1


def test_percent_consumed_use(cal):
    # How the caller gets the 50/75/90 % warnings: 8 h target from Fri 16:50;
    # at Mon 13:30 the report has consumed 10 min + 4 h = 4h10m = 52.08 %.
    start = vn(2026, 3, 6, 16, 50)
    used = cal.working_seconds_between(start, vn(2026, 3, 9, 13, 30))
    assert used == 4 * H + 600
    assert 0.5 < used / (8 * H) < 0.75


# -- input checks -----------------------------------------------------------

def test_naive_datetimes_are_rejected(cal):
    naive = datetime(2026, 3, 6, 16, 50)
    for c in (cal, AlwaysOpenCalendar()):
        with pytest.raises(ValueError):
            c.add_working_seconds(naive, 60)
        with pytest.raises(ValueError):
            c.add_working_hours(naive, 1)
        with pytest.raises(ValueError):
            c.add_working_days(naive, 1)
        with pytest.raises(ValueError):
            c.working_seconds_between(naive, vn(2026, 3, 7))
        with pytest.raises(ValueError):
            c.working_seconds_between(vn(2026, 3, 5), naive)
        with pytest.raises(ValueError):
            c.next_working_instant(naive)


def test_bad_arguments(cal):
    with pytest.raises(ValueError):
        cal.add_working_seconds(vn(2026, 3, 6), -1)
    with pytest.raises(ValueError):
        cal.add_working_hours(vn(2026, 3, 6), float("nan"))
    with pytest.raises(ValueError):
        cal.add_working_days(vn(2026, 3, 6), -1)
    with pytest.raises(ValueError):
        BusinessCalendar(shifts=((time(17), time(7, 30)),))
    with pytest.raises(ValueError):
        BusinessCalendar(shifts=((time(7), time(12)), (time(11), time(17))))
    with pytest.raises(ValueError):
        BusinessCalendar(weekdays=frozenset({7}))
    with pytest.raises(TypeError):
        BusinessCalendar(extra_days_off=frozenset({datetime(2026, 1, 2, tzinfo=VN)}))
    # A calendar with no working days at all must fail, not loop forever.
    never = BusinessCalendar(weekdays=frozenset(), use_public_holidays=False)
    with pytest.raises(ValueError):
        never.add_working_hours(vn(2026, 3, 6), 1)


def test_zero_days_is_end_of_receipt_day(cal):
    # days=0: 24:00 of the day of receipt (Fri 6 Mar) = Sat 7 Mar 00:00 local.
    assert cal.add_working_days(vn(2026, 3, 6, 9, 0), 0) == utc(2026, 3, 6, 17, 0)


# -- speed (printed with -s, never asserted) ---------------------------------

def test_timing_report():
    cal = BusinessCalendar()
    cal.holidays_in(2026)  # warm the shared per-year holiday cache
    rng = random.Random(7)
    starts = [vn(2026, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(2000)]
    t0 = clock.perf_counter()
    for s in starts:
        cal.add_working_hours(s, 8)
    t1 = clock.perf_counter()
    for s in starts:
        cal.add_working_days(s, 5)
    t2 = clock.perf_counter()
    for s in starts:
        cal.working_seconds_between(s, s + timedelta(days=10))
    t3 = clock.perf_counter()
    fresh = 200
    for s in starts[:fresh]:
        calendar_for("normal").add_working_hours(s, 8)
    t4 = clock.perf_counter()
    n = len(starts)
    print(f"\nadd_working_hours(8 h): {(t1 - t0) / n * 1e6:.1f} µs/call; "
          f"add_working_days(5): {(t2 - t1) / n * 1e6:.1f} µs/call; "
          f"working_seconds_between(10 days): {(t3 - t2) / n * 1e6:.1f} µs/call; "
          f"fresh calendar_for + 8 h: {(t4 - t3) / fresh * 1e6:.1f} µs/call")
