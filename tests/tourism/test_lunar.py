"""The Vietnamese lunar calendar (UTC+7): hard-coded reference dates, the years where it
differs from the Chinese calendar, and an independent table for 1901–2099."""
from datetime import date

import pytest
from lunar_vn import LunarDate, lunar_to_solar

from api.tourism import lunar

# Tết Nguyên Đán as announced in Vietnam (official holiday calendars).
TET = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1),
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
}
# Years where the Vietnamese new year falls on another day than the Chinese one,
# because the new moon falls between 23:00 and 24:00 Hanoi time (UTC+7 vs UTC+8).
VN_VS_CN = {
    1985: (date(1985, 1, 21), date(1985, 2, 20)),   # a whole month apart (different month 11)
    2007: (date(2007, 2, 17), date(2007, 2, 18)),
    2030: (date(2030, 2, 2), date(2030, 2, 3)),
}


@pytest.mark.parametrize("year,expected", sorted(TET.items()))
def test_tet(year, expected):
    assert lunar.tet(year) == expected
    back = lunar.to_lunar(expected)
    assert (back.year, back.month, back.day, back.leap) == (year, 1, 1, False)


@pytest.mark.parametrize("year", sorted(VN_VS_CN))
def test_vietnamese_new_year_differs_from_chinese(year):
    vietnamese, chinese = VN_VS_CN[year]
    assert lunar.tet(year) == vietnamese
    # The same astronomy at China's UTC+8 gives the Chinese date: the offset is the difference.
    assert lunar_to_solar(LunarDate(1, 1, year), time_zone=8.0) == chinese


def test_agrees_with_holidays_vietnamese_table_1901_2099():
    """The ``holidays`` package derives Vietnamese New Year from its own Chinese table plus a
    list of Vietnamese exceptions: an independent check of every year."""
    from holidays.calendars.chinese import VIETNAMESE_CALENDAR, _ChineseLunisolar
    reference = _ChineseLunisolar(VIETNAMESE_CALENDAR)
    differences = []
    for year in range(1901, 2100):
        theirs, _ = reference.lunar_new_year_date(year)
        if theirs is not None and lunar.tet(year) != theirs:
            differences.append((year, lunar.tet(year), theirs))
    assert differences == []


@pytest.mark.parametrize("year,month,day,expected", [
    (2024, 1, 13, date(2024, 2, 22)),    # Hội Lim
    (2025, 1, 13, date(2025, 2, 10)),
    (2026, 1, 13, date(2026, 3, 1)),
    (2025, 3, 10, date(2025, 4, 7)),     # Giỗ Tổ Hùng Vương (public holiday)
    (2026, 3, 10, date(2026, 4, 26)),
    (2025, 7, 15, date(2025, 9, 6)),     # Vu Lan
    (2025, 8, 15, date(2025, 10, 6)),    # Trung Thu
    (2024, 8, 15, date(2024, 9, 17)),
])
def test_festival_days(year, month, day, expected):
    assert lunar.to_solar(year, month, day) == expected


def test_leap_months():
    assert lunar.to_solar(2023, 2, 1, leap=True) == date(2023, 3, 22)   # 2023: leap 2nd month
    assert lunar.to_solar(2025, 6, 1, leap=True) == date(2025, 7, 25)   # 2025: leap 6th month
    with pytest.raises(lunar.NoSuchDate):
        lunar.to_solar(2026, 5, 1, leap=True)                          # 2026 has none


def test_day_30_of_a_short_month_is_its_last_day():
    # The 12th month of Ất Tỵ (2025) has 29 days: "30 Tết" is 16 February 2026.
    assert lunar.to_solar(2025, 12, 30) == date(2026, 2, 16) == lunar.tet(2026).replace(day=16)
    assert lunar.to_solar(2025, 12, 29) == date(2026, 2, 16)


def test_occurrences_span_the_year_boundary():
    # Tết 2025 starts on 29 January: a window from December 2024 finds it, once.
    found = lunar.occurrences("lunar", 1, 1, duration_days=3, start=date(2024, 12, 1),
                              end=date(2025, 3, 1))
    assert [(o.start, o.end) for o in found] == [(date(2025, 1, 29), date(2025, 1, 31))]
    # Hội Lim: the 12th–14th; the main day is the 13th.
    lim = lunar.occurrences("lunar", 1, 13, starts_before_days=1, duration_days=3,
                            start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert [(o.start, o.main_day, o.end) for o in lim] == [
        (date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2))]
    # A solar 29 February only in leap years.
    leap_day = lunar.occurrences("solar", 2, 29, start=date(2025, 1, 1), end=date(2028, 12, 31))
    assert [o.main_day for o in leap_day] == [date(2028, 2, 29)]
