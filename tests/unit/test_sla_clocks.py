"""SLA policies and clocks.

Every expected instant is worked out by hand in its comment. Local time is
Asia/Ho_Chi_Minh (UTC+7, no DST), so local 00:00 is 17:00 UTC the day before
and "24:00 of day D" is D 17:00 UTC. Office hours: 07:30-11:30 and
13:30-17:00 (7.5 h a day). 1 Mar 2026 is a Sunday, so 6 Mar is a Friday.
2026 holidays used here: Mon 27 Apr (Hùng Vương, nghỉ bù), Thu 30 Apr, Fri 1 May.
"""
from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.sla import clocks as sla
from api.sla.calendar import AlwaysOpenCalendar, BusinessCalendar, calendar_for
from api.sla.clocks import Clock, ClockError, ClockKind, Signal
from api.sla.policies import (
    DEFAULT_POLICIES,
    SlaPolicy,
    Target,
    due,
    policy_from_dict,
    policy_to_dict,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
US = timedelta(microseconds=1)
H = 3600

TRIAGE, ACCEPT, RESOLVE, UNIT_RESOLVE = (
    ClockKind.TRIAGE, ClockKind.ACCEPT, ClockKind.RESOLVE, ClockKind.UNIT_RESOLVE)
URGENT, FIX_NOW, NORMAL, COMPLEX = (DEFAULT_POLICIES[c] for c in ("urgent", "fix_now", "normal", "complex"))


def vn(y, m, d, hh=0, mm=0, ss=0, us=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=VN)


def utc(y, m, d, hh=0, mm=0, ss=0, us=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=UTC)


BIZ = BusinessCalendar()
H24 = AlwaysOpenCalendar()
FRI_1650 = vn(2026, 3, 6, 16, 50)


def cal_of(policy: SlaPolicy):
    return H24 if policy.calendar == "24x7" else BIZ


def names(signals) -> list[str]:
    return [s.name for s in signals]


# -- policies --------------------------------------------------------------------

def test_default_policies_are_the_design_table():
    assert URGENT == SlaPolicy("urgent", 1, "24x7", Target(15, "minutes"), Target(1, "hours"),
                               Target(1, "days"), None)
    for policy, days in ((FIX_NOW, 3), (NORMAL, 10), (COMPLEX, 15)):
        assert policy.calendar == "business" and policy.version == 1
        assert (policy.triage, policy.accept, policy.resolve) == (
            Target(1, "hours"), Target(8, "hours"), Target(days, "days"))
    assert COMPLEX.extension == Target(15, "days")
    assert FIX_NOW.extension is None and NORMAL.extension is None and URGENT.extension is None
    # UNIT_RESOLVE is measured against the RESOLVE target.
    assert NORMAL.target_for("UNIT_RESOLVE") == NORMAL.target_for(UNIT_RESOLVE) == NORMAL.resolve
    assert ClockKind("resolve") is RESOLVE  # kinds read back in any case


def test_policy_json_round_trip():
    for policy in DEFAULT_POLICIES.values():
        assert policy_from_dict(json.loads(json.dumps(policy_to_dict(policy)))) == policy
    data = policy_to_dict(COMPLEX)
    assert data["extension"] == {"amount": 15, "unit": "days"}
    data["resolve"] = {"amount": 15.0, "unit": "days"}  # JSON may hand back a float
    assert policy_from_dict(data).resolve == Target(15, "days")


@pytest.mark.parametrize("bad, error", [
    ({"triage": {"amount": 1, "unit": "weeks"}}, ValueError),
    ({"resolve": {"amount": 2.5, "unit": "days"}}, ValueError),
    ({"accept": {"amount": 0, "unit": "hours"}}, ValueError),
    ({"accept": {"amount": True, "unit": "hours"}}, TypeError),
    ({"calendar": "lunar"}, ValueError),
    ({"version": 0}, ValueError),
    ({"sla": "typo"}, ValueError),
    ({"extension": {"amount": 8, "unit": "hours"}}, ValueError),  # days resolve, hours extension
])
def test_policy_from_dict_rejects_bad_data(bad, error):
    data = {**policy_to_dict(NORMAL), **bad}
    with pytest.raises(error):
        policy_from_dict(data)


def test_due_by_unit():
    # Fri 16:50 + 90 working minutes: 10 min Fri, Mon 9 Mar 07:30 + 80 min
    # = 08:50 local = 01:50 UTC.
    assert due(BIZ, FRI_1650, Target(90, "minutes")) == utc(2026, 3, 9, 1, 50)
    # 1.5 h is the same 90 minutes.
    assert due(BIZ, FRI_1650, Target(1.5, "hours")) == utc(2026, 3, 9, 1, 50)
    # 1 working day: Mon 9 -> 24:00 Mon 9 = Mon 17:00 UTC.
    assert due(BIZ, FRI_1650, Target(1, "days")) == utc(2026, 3, 9, 17, 0)


# -- start -----------------------------------------------------------------------

def test_start_friday_1650_business_classes():
    # TRIAGE 1 h: Fri 16:50-17:00 = 10 min; Mon 9 Mar 07:30 + 50 min = 08:20
    # local = 01:20 UTC.
    # ACCEPT 8 h: 10 min Fri; Mon 7.5 h (7 h 40); Tue 10 Mar 07:30 + 20 min =
    # 07:50 local = 00:50 UTC.
    # RESOLVE (day of receipt not counted, Sat/Sun skipped):
    #   fix_now 3: Mon 9, Tue 10, Wed 11 -> 24:00 Wed 11 = Wed 11 17:00 UTC;
    #   normal 10: Mon 9..Fri 13 (5), Mon 16..Fri 20 (10) -> Fri 20 17:00 UTC;
    #   complex 15: ... Mon 23..Fri 27 (15) -> Fri 27 17:00 UTC.
    for policy, resolve_due in ((FIX_NOW, utc(2026, 3, 11, 17)), (NORMAL, utc(2026, 3, 20, 17)),
                                (COMPLEX, utc(2026, 3, 27, 17))):
        triage = sla.start(TRIAGE, policy, FRI_1650, calendar=BIZ)
        accept = sla.start(ACCEPT, policy, FRI_1650, calendar=BIZ)
        resolve = sla.start(RESOLVE, policy, FRI_1650, calendar=BIZ)
        unit = sla.start(UNIT_RESOLVE, policy, FRI_1650, calendar=BIZ)
        assert triage.due_at == utc(2026, 3, 9, 1, 20)
        assert accept.due_at == utc(2026, 3, 10, 0, 50)
        assert resolve.due_at == resolve_due
        assert unit.due_at == resolve_due
        assert resolve.original_due_at == resolve_due
        assert resolve.started_at == utc(2026, 3, 6, 9, 50) and resolve.started_at.tzinfo == UTC
        assert (resolve.cycle, resolve.warned_pct, resolve.sla_class, resolve.calendar_kind) == (
            1, 0, policy.sla_class, "business")
        assert resolve.target == policy.resolve and not resolve.is_paused and not resolve.is_stopped


def test_start_friday_1650_urgent():
    # 24x7: TRIAGE 16:50 + 15 min = 17:05 local = 10:05 UTC; ACCEPT 17:50
    # local = 10:50 UTC; RESOLVE 1 day = 24:00 Sat 7 Mar = Sat 7 17:00 UTC.
    cal = calendar_for("urgent")
    assert sla.start(TRIAGE, URGENT, FRI_1650, calendar=cal).due_at == utc(2026, 3, 6, 10, 5)
    assert sla.start(ACCEPT, URGENT, FRI_1650, calendar=cal).due_at == utc(2026, 3, 6, 10, 50)
    assert sla.start(RESOLVE, URGENT, FRI_1650, calendar=cal).due_at == utc(2026, 3, 7, 17, 0)


def test_urgent_at_0200_on_a_holiday():
    # Thu 30 Apr 2026 (Ngày Chiến thắng) 02:00 local = Wed 29 Apr 19:00 UTC.
    # 24x7 ignores the holiday: TRIAGE 02:15 local = 19:15 UTC; ACCEPT 03:00
    # local = 20:00 UTC; RESOLVE 24:00 Fri 1 May (also a holiday) = 1 May 17:00 UTC.
    at = vn(2026, 4, 30, 2, 0)
    assert sla.start(TRIAGE, URGENT, at, calendar=H24).due_at == utc(2026, 4, 29, 19, 15)
    assert sla.start(ACCEPT, URGENT, at, calendar=H24).due_at == utc(2026, 4, 29, 20, 0)
    assert sla.start(RESOLVE, URGENT, at, calendar=H24).due_at == utc(2026, 5, 1, 17, 0)
    # The same report as "normal" would wait for the office: 30 Apr and 1 May
    # are holidays, 2-3 May the weekend -> Mon 4 May 07:30 + 1 h = 08:30 local
    # = 01:30 UTC.
    assert sla.start(TRIAGE, NORMAL, at, calendar=BIZ).due_at == utc(2026, 5, 4, 1, 30)


def test_calendar_must_match_the_policy_and_naive_is_rejected():
    with pytest.raises(ValueError):
        sla.start(TRIAGE, URGENT, FRI_1650, calendar=BIZ)
    with pytest.raises(ValueError):
        sla.start(TRIAGE, NORMAL, FRI_1650, calendar=H24)
    with pytest.raises(ValueError):
        sla.start(TRIAGE, NORMAL, datetime(2026, 3, 6, 16, 50), calendar=BIZ)
    clock = sla.start(RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    naive = datetime(2026, 3, 9, 9, 0)
    for call in (lambda: sla.pause(clock, naive, "waiting_citizen"),
                 lambda: sla.stop(clock, naive),
                 lambda: sla.check(clock, naive, calendar=BIZ),
                 lambda: sla.percent_consumed(clock, naive, calendar=BIZ),
                 lambda: sla.extend(sla.start(RESOLVE, COMPLEX, FRI_1650, calendar=BIZ), COMPLEX, naive,
                                    calendar=BIZ)):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(ValueError):
        sla.check(clock, vn(2026, 3, 9), calendar=H24)


# -- pauses ----------------------------------------------------------------------

HOURS_POLICY = SlaPolicy("fix_now", 2, "business", Target(1, "hours"), Target(8, "hours"),
                         Target(16, "hours"))


def test_pause_and_resume_hour_target_is_pushed_exactly():
    # A policy version with RESOLVE in hours. Start Mon 9 Mar 08:00: Mon
    # 08:00-11:30 3.5 h, 13:30-17:00 3.5 h (7 h), Tue 7.5 h (14.5 h), Wed 11
    # 07:30 + 1.5 h = 09:00 local = 02:00 UTC.
    clock = sla.start(RESOLVE, HOURS_POLICY, vn(2026, 3, 9, 8, 0), calendar=BIZ)
    assert clock.due_at == utc(2026, 3, 11, 2, 0)
    clock, signals = sla.pause(clock, vn(2026, 3, 9, 10, 0), "waiting_citizen")
    assert signals == [Signal("sla.paused", reason="waiting_citizen")]
    with pytest.raises(ClockError):
        sla.pause(clock, vn(2026, 3, 9, 10, 30), "force_majeure")
    # Paused 10:00-15:00 = 10:00-11:30 (1.5 h) + 13:30-15:00 (1.5 h) = 3 h of
    # working time. Wed 09:00 + 3 h: 09:00-11:30 2.5 h, 13:30 + 0.5 h = 14:00
    # local = 07:00 UTC.
    clock, signals = sla.resume(clock, vn(2026, 3, 9, 15, 0), calendar=BIZ)
    assert signals == [Signal("sla.resumed", paused_seconds=3 * H)]
    assert clock.due_at == utc(2026, 3, 11, 7, 0)
    assert clock.original_due_at == utc(2026, 3, 11, 2, 0)
    assert clock.paused_working_seconds == 3 * H
    assert clock.pauses == ((utc(2026, 3, 9, 3, 0), utc(2026, 3, 9, 8, 0)),)
    # Consumed at 15:00: 08:00-11:30 3.5 h + 13:30-15:00 1.5 h - 3 h paused = 2 h
    # of 16 h = 12.5 %.
    assert sla.percent_consumed(clock, vn(2026, 3, 9, 15, 0), calendar=BIZ) == 12.5
    # Resume without a pause changes nothing.
    assert sla.resume(clock, vn(2026, 3, 9, 16, 0), calendar=BIZ) == (clock, [])


def test_pause_and_resume_day_target_rounds_up_to_midnight():
    # fix_now RESOLVE from Mon 9 Mar 08:00: Tue 10, Wed 11, Thu 12 -> 24:00 Thu
    # 12 = Thu 12 17:00 UTC.
    clock = sla.start(RESOLVE, FIX_NOW, vn(2026, 3, 9, 8, 0), calendar=BIZ)
    assert clock.due_at == utc(2026, 3, 12, 17, 0)
    # Paused Tue 10 10:00-11:00 = 1 working hour. 24:00 Thu 12 pushed by 1 h:
    # Fri 13 07:30 + 1 h = 08:30, rounded up to 24:00 Fri 13 = Fri 13 17:00 UTC.
    clock, _ = sla.pause(clock, vn(2026, 3, 10, 10, 0), "force_majeure")
    clock, _ = sla.resume(clock, vn(2026, 3, 10, 11, 0), calendar=BIZ)
    assert clock.due_at == utc(2026, 3, 13, 17, 0)
    # A wait in the evening (Tue 18:00-20:00) holds no working time: no push.
    clock, _ = sla.pause(clock, vn(2026, 3, 10, 18, 0), "waiting_citizen")
    clock, signals = sla.resume(clock, vn(2026, 3, 10, 20, 0), calendar=BIZ)
    assert signals == [Signal("sla.resumed", paused_seconds=0.0)]
    assert clock.due_at == utc(2026, 3, 13, 17, 0)
    assert clock.paused_working_seconds == H and len(clock.pauses) == 2


def test_only_resolution_clocks_pause():
    for kind in (TRIAGE, ACCEPT):
        with pytest.raises(ClockError):
            sla.pause(sla.start(kind, NORMAL, FRI_1650, calendar=BIZ), vn(2026, 3, 9, 9), "waiting_citizen")
    clock = sla.start(UNIT_RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    with pytest.raises(ValueError):
        sla.pause(clock, vn(2026, 3, 9, 9), "lunch")
    assert sla.pause(clock, vn(2026, 3, 9, 9), "waiting_citizen")[0].is_paused


def test_waiting_for_the_citizen_is_capped_at_five_working_days():
    # normal RESOLVE received Thu 23 Apr 2026 09:00. Due: Fri 24 (1), Mon 27
    # holiday, Tue 28 (2), Wed 29 (3), Thu 30 + Fri 1 holidays, Mon 4 (4),
    # Tue 5 (5), Wed 6 (6), Thu 7 (7), Fri 8 (8), Mon 11 (9), Tue 12 (10)
    # -> 24:00 Tue 12 May = Tue 12 May 17:00 UTC.
    clock = sla.start(RESOLVE, NORMAL, vn(2026, 4, 23, 9, 0), calendar=BIZ)
    assert clock.due_at == utc(2026, 5, 12, 17, 0)
    # Waiting from Fri 24 Apr 10:00; the day it began is not counted: Mon 27
    # holiday, Tue 28 (1), Wed 29 (2), Thu 30 + Fri 1 holidays, Mon 4 (3),
    # Tue 5 (4), Wed 6 (5) -> 24:00 Wed 6 May = Wed 6 May 17:00 UTC.
    clock, _ = sla.pause(clock, vn(2026, 4, 24, 10, 0), "waiting_citizen")
    cap = utc(2026, 5, 6, 17, 0)
    assert sla.pause_expires_at(clock, calendar=BIZ) == cap
    assert sla.next_check_at(clock, calendar=BIZ) == cap
    assert sla.check(clock, cap - US, calendar=BIZ) == (clock, [])
    clock, signals = sla.check(clock, cap, calendar=BIZ)
    assert signals == [Signal("sla.pause_expired")] and clock.pause_expiry_signalled
    assert sla.check(clock, cap + timedelta(minutes=1), calendar=BIZ)[1] == []
    assert sla.check(clock, cap + timedelta(days=30), calendar=BIZ)[1] == []
    assert sla.next_check_at(clock, calendar=BIZ) is None
    # The caller closes the report (insufficient_information) on Thu 7 May
    # 08:00. The pause is folded in first: Fri 24 10:00-17:00 minus lunch 5 h,
    # Tue 28, Wed 29, Mon 4, Tue 5, Wed 6 = 5 x 7.5 h (42.5 h), Thu 7 07:30-08:00
    # 0.5 h -> 43 h. 24:00 Tue 12 May + 43 h: Wed 13, Thu 14, Fri 15, Mon 18,
    # Tue 19 (37.5 h), Wed 20 07:30-11:30 4 h + 13:30-15:00 1.5 h -> 15:00 Wed 20,
    # rounded up to 24:00 Wed 20 May = Wed 20 May 17:00 UTC. Not late: met.
    with pytest.raises(ValueError):
        sla.stop(clock, vn(2026, 5, 7, 8, 0))  # a paused clock needs the calendar
    clock, signals = sla.stop(clock, vn(2026, 5, 7, 8, 0), calendar=BIZ)
    assert signals == [Signal("sla.stopped", outcome="met")]
    assert clock.paused_working_seconds == 43 * H
    assert clock.due_at == utc(2026, 5, 20, 17, 0)
    assert clock.outcome == "met" and clock.stopped_at == utc(2026, 5, 7, 1, 0)


def test_force_majeure_has_no_cap():
    clock = sla.start(RESOLVE, NORMAL, vn(2026, 4, 23, 9, 0), calendar=BIZ)
    clock, _ = sla.pause(clock, vn(2026, 4, 24, 10, 0), "force_majeure")
    assert sla.pause_expires_at(clock, calendar=BIZ) is None
    assert sla.next_check_at(clock, calendar=BIZ) is None
    # Months past the deadline: a paused clock stands still, nothing is signalled.
    assert sla.check(clock, vn(2026, 8, 1), calendar=BIZ)[1] == []


# -- reassignment, extension, reopening, class change -----------------------------

def test_reassignment_keeps_resolve_and_starts_fresh_unit_clocks():
    received = vn(2026, 3, 9, 8, 0)  # Mon
    # RESOLVE: Tue 10..Fri 13 (4), Mon 16..Fri 20 (9), Mon 23 (10) -> 24:00 Mon
    # 23 = Mon 23 17:00 UTC.
    resolve = sla.start(RESOLVE, NORMAL, received, calendar=BIZ)
    assert resolve.due_at == utc(2026, 3, 23, 17, 0)
    # Unit A assigned Mon 09:00. ACCEPT: 09:00-11:30 2.5 h, 13:30-17:00 3.5 h
    # (6 h), Tue 07:30 + 2 h = 09:30 local = 02:30 UTC. UNIT_RESOLVE: 10
    # working days after Mon 9, as RESOLVE.
    accept_a = sla.start(ACCEPT, NORMAL, vn(2026, 3, 9, 9, 0), calendar=BIZ)
    unit_a = sla.start(UNIT_RESOLVE, NORMAL, vn(2026, 3, 9, 9, 0), calendar=BIZ)
    assert accept_a.due_at == utc(2026, 3, 10, 2, 30)
    assert unit_a.due_at == utc(2026, 3, 23, 17, 0)
    accept_a, _ = sla.stop(accept_a, vn(2026, 3, 9, 10, 0))
    assert accept_a.outcome == "met"
    # Unit A sends it back Wed 11 14:00: its own clock stops.
    unit_a, _ = sla.stop(unit_a, vn(2026, 3, 11, 14, 0))
    assert unit_a.outcome == "met"
    # Unit B assigned Wed 11 15:00. ACCEPT: Wed 15:00-17:00 2 h, Thu 12
    # 07:30-11:30 4 h (6 h), 13:30 + 2 h = 15:30 local = 08:30 UTC.
    # UNIT_RESOLVE: Thu 12, Fri 13 (2), Mon 16..Fri 20 (7), Mon 23, Tue 24,
    # Wed 25 (10) -> 24:00 Wed 25 = Wed 25 17:00 UTC.
    accept_b = sla.start(ACCEPT, NORMAL, vn(2026, 3, 11, 15, 0), calendar=BIZ)
    unit_b = sla.start(UNIT_RESOLVE, NORMAL, vn(2026, 3, 11, 15, 0), calendar=BIZ)
    assert accept_b.due_at == utc(2026, 3, 12, 8, 30)
    assert unit_b.due_at == utc(2026, 3, 25, 17, 0)
    assert accept_b.warned_pct == 0 and unit_b.started_at == utc(2026, 3, 11, 8, 0)
    # The citizen's clock is untouched: same start, same deadline.
    assert resolve.started_at == utc(2026, 3, 9, 1, 0)
    assert resolve.due_at == utc(2026, 3, 23, 17, 0) and resolve.cycle == 1


def test_one_extension_for_complex():
    # complex RESOLVE from Fri 6 Mar 16:50: due 24:00 Fri 27 Mar (17:00 UTC).
    clock = sla.start(RESOLVE, COMPLEX, FRI_1650, calendar=BIZ)
    # Approved Wed 25 Mar 10:00: 15 working days after Fri 27: Mon 30, Tue 31,
    # Wed 1, Thu 2, Fri 3 Apr (5), Mon 6..Fri 10 (10), Mon 13..Fri 17 (15) ->
    # 24:00 Fri 17 Apr = Fri 17 Apr 17:00 UTC.
    extended, signals = sla.extend(clock, COMPLEX, vn(2026, 3, 25, 10, 0), calendar=BIZ)
    assert signals == [Signal("sla.extended")]
    assert extended.due_at == utc(2026, 4, 17, 17, 0)
    assert extended.original_due_at == utc(2026, 3, 27, 17, 0)
    assert extended.extended and extended.extension == Target(15, "days")
    assert extended.extended_at == utc(2026, 3, 25, 3, 0)
    with pytest.raises(ClockError):
        sla.extend(extended, COMPLEX, vn(2026, 3, 26, 10, 0), calendar=BIZ)
    # Not for other classes, other clocks, or after the deadline has passed.
    with pytest.raises(ClockError):
        sla.extend(sla.start(RESOLVE, FIX_NOW, FRI_1650, calendar=BIZ), FIX_NOW, vn(2026, 3, 9, 9),
                   calendar=BIZ)
    with pytest.raises(ClockError):
        sla.extend(sla.start(TRIAGE, COMPLEX, FRI_1650, calendar=BIZ), COMPLEX, vn(2026, 3, 9, 8),
                   calendar=BIZ)
    with pytest.raises(ClockError):
        sla.extend(clock, COMPLEX, utc(2026, 3, 27, 17, 0) + US, calendar=BIZ)


def test_extension_rearms_the_warnings():
    # complex RESOLVE from Fri 6 Mar 16:50: total = 10 min + 15 x 450 min =
    # 6760 min. At Wed 25 Mar 10:00: 10 min + 12 days x 450 (Mon 9..Tue 24) +
    # 07:30-10:00 150 min = 5560 min = 82.2 % -> the 75 % warning.
    clock = sla.start(RESOLVE, COMPLEX, FRI_1650, calendar=BIZ)
    clock, signals = sla.check(clock, vn(2026, 3, 25, 10, 0), calendar=BIZ)
    assert signals == [Signal("sla.warning", pct=75)]
    # Extended: total 6760 + 6750 = 13510 min; 5560 / 13510 = 41 %, below 50.
    clock, _ = sla.extend(clock, COMPLEX, vn(2026, 3, 25, 10, 0), calendar=BIZ)
    assert clock.warned_pct == 0
    # 50 % = ceil(6755 min) of working time: 10 min Fri, then 6745 min = 14
    # days (6300) + 445 min into the 15th working day, Fri 27 Mar: 07:30-11:30
    # 240 min, 13:30 + 205 min = 16:55 local = 09:55 UTC.
    assert sla.next_check_at(clock, calendar=BIZ) == utc(2026, 3, 27, 9, 55)
    assert sla.check(clock, utc(2026, 3, 27, 9, 55), calendar=BIZ)[1] == [Signal("sla.warning", pct=50)]


def test_reopen_starts_cycle_two_from_the_reopen_time():
    first = sla.start(RESOLVE, NORMAL, vn(2026, 3, 9, 8, 0), calendar=BIZ)
    with pytest.raises(ClockError):
        sla.reopen(first, NORMAL, vn(2026, 3, 24, 9, 0), calendar=BIZ)  # still running
    first, _ = sla.stop(first, vn(2026, 3, 20, 10, 0))
    # Disputed Tue 24 Mar 09:00: Wed 25, Thu 26, Fri 27 (3), Mon 30..Fri 3 Apr
    # (8), Mon 6, Tue 7 (10) -> 24:00 Tue 7 Apr = Tue 7 Apr 17:00 UTC.
    second = sla.reopen(first, NORMAL, vn(2026, 3, 24, 9, 0), calendar=BIZ)
    assert (second.kind, second.cycle) == (RESOLVE, 2)
    assert second.started_at == utc(2026, 3, 24, 2, 0)
    assert second.due_at == utc(2026, 4, 7, 17, 0)
    assert not second.is_stopped and second.warned_pct == 0
    assert first.outcome == "met" and first.cycle == 1
    # Same thing through start(..., cycle=2).
    assert sla.start(RESOLVE, NORMAL, vn(2026, 3, 24, 9, 0), calendar=BIZ, cycle=2) == second


def test_class_change_fix_now_to_complex_recomputes_from_the_original_start():
    clock = sla.start(RESOLVE, FIX_NOW, FRI_1650, calendar=BIZ)
    # Paused Mon 9 Mar 09:30-10:30 = 1 h. fix_now due 24:00 Wed 11 + 1 h ->
    # Thu 12 08:30 -> 24:00 Thu 12 = Thu 12 17:00 UTC.
    clock, _ = sla.pause(clock, vn(2026, 3, 9, 9, 30), "waiting_citizen")
    clock, _ = sla.resume(clock, vn(2026, 3, 9, 10, 30), calendar=BIZ)
    assert clock.due_at == utc(2026, 3, 12, 17, 0)
    # The total is now 10 min + 4 days x 450 (to 24:00 Thu) - 60 paused =
    # 1750 min. Wed 11 09:30: consumed 10 + Mon 450 - 60 + Tue 450 + 07:30-09:30
    # 120 = 970 min = 55.4 % -> the 50 % warning.
    clock, signals = sla.check(clock, vn(2026, 3, 11, 9, 30), calendar=BIZ)
    assert signals == [Signal("sla.warning", pct=50)]
    # Recategorised as complex at Wed 11 09:30. From the original Fri 16:50
    # start: 15 working days -> 24:00 Fri 27 Mar (Fri 27 17:00 UTC); plus the
    # 1 h pause: Mon 30 Mar 07:30 + 1 h = 08:30 -> 24:00 Mon 30 = Mon 30 17:00 UTC.
    clock, signals = sla.retarget(clock, COMPLEX, calendar=BIZ, at=vn(2026, 3, 11, 9, 30))
    assert signals == [Signal("sla.retargeted", sla_class="complex")]
    assert clock.sla_class == "complex" and clock.target == Target(15, "days")
    assert clock.started_at == utc(2026, 3, 6, 9, 50)
    assert clock.original_due_at == utc(2026, 3, 27, 17, 0)
    assert clock.due_at == utc(2026, 3, 30, 17, 0)
    assert clock.paused_working_seconds == H
    # 970 / (10 + 16 x 450 - 60) = 13.6 %: the 50 % warning is due again later.
    assert clock.warned_pct == 0
    assert sla.percent_consumed(clock, vn(2026, 3, 11, 9, 30), calendar=BIZ) == pytest.approx(970 / 7150 * 100)
    # And now it may be extended.
    assert sla.extend(clock, COMPLEX, vn(2026, 3, 11, 9, 0), calendar=BIZ)[0].extended


def test_class_change_to_a_stricter_class_breaches_at_the_next_sweep():
    # normal from Fri 16:50; on Thu 12 Mar 09:00 it becomes fix_now, whose
    # deadline (24:00 Wed 11) has already passed.
    clock = sla.start(RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    clock, _ = sla.retarget(clock, FIX_NOW, calendar=BIZ, at=vn(2026, 3, 12, 9, 0))
    assert clock.due_at == utc(2026, 3, 11, 17, 0)
    assert sla.next_check_at(clock, calendar=BIZ) <= vn(2026, 3, 12, 9, 0)
    assert sla.check(clock, vn(2026, 3, 12, 9, 1), calendar=BIZ)[1] == [Signal("sla.breached")]
    # A stopped clock keeps its recorded result.
    stopped, _ = sla.stop(sla.start(TRIAGE, NORMAL, FRI_1650, calendar=BIZ), vn(2026, 3, 9, 8))
    assert sla.retarget(stopped, URGENT, calendar=H24) == (stopped, [])


def test_class_change_to_urgent_switches_calendar():
    # normal RESOLVE from Fri 16:50 becomes urgent: 24x7, 1 day -> 24:00 Sat 7
    # Mar = Sat 7 17:00 UTC.
    clock = sla.start(RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    clock, _ = sla.retarget(clock, URGENT, calendar=H24)
    assert (clock.calendar_kind, clock.due_at) == ("24x7", utc(2026, 3, 7, 17, 0))
    with pytest.raises(ValueError):
        sla.check(clock, vn(2026, 3, 7), calendar=BIZ)


# -- warnings, breach, escalation ------------------------------------------------

def test_warnings_once_each_in_order_when_checked_every_minute_24x7():
    # urgent TRIAGE from Mon 9 Mar 10:00 local, 15 min: 50 % at 10:07:30,
    # 75 % at 10:11:15, 90 % at 10:13:30, due 10:15:00, breached after it.
    clock = sla.start(TRIAGE, URGENT, vn(2026, 3, 9, 10, 0), calendar=H24)
    seen = []
    expected_next = [vn(2026, 3, 9, 10, 7, 30), vn(2026, 3, 9, 10, 11, 15), vn(2026, 3, 9, 10, 13, 30),
                     vn(2026, 3, 9, 10, 15) + US]
    nexts = []
    for minute in range(1, 18):
        now = vn(2026, 3, 9, 10, minute)
        nca = sla.next_check_at(clock, calendar=H24)
        clock, signals = sla.check(clock, now, calendar=H24)
        if signals:
            nexts.append(nca)
        seen += [(f"{now:%H:%M}", s) for s in signals]
    assert seen == [("10:08", Signal("sla.warning", pct=50)), ("10:12", Signal("sla.warning", pct=75)),
                    ("10:14", Signal("sla.warning", pct=90)), ("10:16", Signal("sla.breached"))]
    assert nexts == expected_next
    assert clock.warned_pct == 100 and clock.breached_at == utc(2026, 3, 9, 3, 16)
    # Escalation: 1 calendar day after the day of the breach -> 24:00 Tue 10
    # Mar = Tue 10 17:00 UTC.
    assert sla.next_check_at(clock, calendar=H24) == utc(2026, 3, 10, 17, 0)


def test_warnings_every_minute_on_office_hours():
    # fix_now TRIAGE from Mon 9 Mar 11:00, 1 working hour: 11:00-11:30 30 min,
    # 13:30 + 30 min -> due 14:00. 50 % (30 min) is reached at 11:30 exactly;
    # 75 % (45 min) at 13:45; 90 % (54 min) at 13:54; breached after 14:00.
    clock = sla.start(TRIAGE, FIX_NOW, vn(2026, 3, 9, 11, 0), calendar=BIZ)
    assert clock.due_at == utc(2026, 3, 9, 7, 0)
    assert sla.next_check_at(clock, calendar=BIZ) == utc(2026, 3, 9, 4, 30)
    seen = []
    now = vn(2026, 3, 9, 11, 0)
    while now <= vn(2026, 3, 9, 14, 5):
        clock, signals = sla.check(clock, now, calendar=BIZ)
        seen += [(f"{now.astimezone(VN):%H:%M}", s) for s in signals]
        now += timedelta(minutes=1)
    assert seen == [("11:30", Signal("sla.warning", pct=50)), ("13:45", Signal("sla.warning", pct=75)),
                    ("13:54", Signal("sla.warning", pct=90)), ("14:01", Signal("sla.breached"))]


def test_a_late_first_check_emits_only_the_highest_threshold():
    clock = sla.start(TRIAGE, URGENT, vn(2026, 3, 9, 10, 0), calendar=H24)
    # 10:14 is past 90 % (10:13:30): only the 90 % warning, once.
    late, signals = sla.check(clock, vn(2026, 3, 9, 10, 14), calendar=H24)
    assert signals == [Signal("sla.warning", pct=90)] and late.warned_pct == 90
    assert sla.check(late, vn(2026, 3, 9, 10, 15), calendar=H24)[1] == []
    # First check after the deadline: the breach alone, no warning.
    very_late, signals = sla.check(clock, vn(2026, 3, 9, 10, 20), calendar=H24)
    assert signals == [Signal("sla.breached")] and very_late.warned_pct == 100


def test_breach_then_escalation_one_working_day_later():
    # normal RESOLVE from Fri 6 Mar 16:50: due 24:00 Fri 20 Mar = Fri 20 17:00 UTC.
    clock = sla.start(RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    due_at = utc(2026, 3, 20, 17, 0)
    assert clock.due_at == due_at
    clock, signals = sla.check(clock, vn(2026, 3, 20, 16, 0), calendar=BIZ)
    assert signals == [Signal("sla.warning", pct=90)]
    # 17:00-24:00 on the last day: 100 % of the office time is used, but the
    # deadline is 24:00, so no breach yet - not even at 24:00 exactly.
    assert sla.percent_consumed(clock, due_at, calendar=BIZ) == 100.0
    assert sla.check(clock, due_at, calendar=BIZ)[1] == []
    assert sla.next_check_at(clock, calendar=BIZ) == due_at + US
    clock, signals = sla.check(clock, due_at + US, calendar=BIZ)
    assert signals == [Signal("sla.breached")]
    # Escalation: the next working day after Fri 20 is Mon 23 -> 24:00 Mon 23 =
    # Mon 23 17:00 UTC.
    escalate = utc(2026, 3, 23, 17, 0)
    assert sla.escalation_at(clock, calendar=BIZ) == escalate
    assert sla.next_check_at(clock, calendar=BIZ) == escalate
    assert sla.check(clock, escalate - US, calendar=BIZ)[1] == []
    clock, signals = sla.check(clock, escalate, calendar=BIZ)
    assert signals == [Signal("sla.escalated")] and clock.escalated_at == escalate
    assert sla.check(clock, escalate + timedelta(days=3), calendar=BIZ)[1] == []
    assert sla.next_check_at(clock, calendar=BIZ) is None


def test_a_sweep_missed_for_days_sends_breach_and_escalation_together():
    clock = sla.start(RESOLVE, NORMAL, FRI_1650, calendar=BIZ)
    clock, signals = sla.check(clock, vn(2026, 3, 25, 9, 0), calendar=BIZ)
    assert signals == [Signal("sla.breached"), Signal("sla.escalated")]


def test_stop_before_at_and_after_due():
    # fix_now TRIAGE from Mon 9 Mar 11:00 is due 14:00 local = 07:00 UTC.
    clock = sla.start(TRIAGE, FIX_NOW, vn(2026, 3, 9, 11, 0), calendar=BIZ)
    assert sla.stop(clock, vn(2026, 3, 9, 13, 59))[0].outcome == "met"
    assert sla.stop(clock, vn(2026, 3, 9, 14, 0))[0].outcome == "met"
    late, signals = sla.stop(clock, vn(2026, 3, 9, 14, 0) + US)
    assert late.outcome == "breached" and signals == [Signal("sla.stopped", outcome="breached")]
    # A stopped clock never signals and cannot be changed.
    assert sla.check(late, vn(2026, 3, 20), calendar=BIZ) == (late, [])
    assert sla.next_check_at(late, calendar=BIZ) is None
    with pytest.raises(ClockError):
        sla.stop(late, vn(2026, 3, 9, 15, 0))
    # Percent freezes at the stop: 1 h + 1 µs of working time on a 1 h target.
    assert sla.percent_consumed(late, vn(2026, 3, 20), calendar=BIZ) == pytest.approx(100.0)


def test_clock_json_round_trip():
    clock = sla.start(RESOLVE, COMPLEX, FRI_1650, calendar=BIZ)
    clock, _ = sla.pause(clock, vn(2026, 3, 9, 9, 30), "waiting_citizen")
    clock, _ = sla.resume(clock, vn(2026, 3, 9, 10, 30), calendar=BIZ)
    clock, _ = sla.extend(clock, COMPLEX, vn(2026, 3, 10), calendar=BIZ)
    clock, _ = sla.pause(clock, vn(2026, 3, 11, 9), "force_majeure")
    data = json.loads(json.dumps(clock.to_dict()))
    assert data["kind"] == "RESOLVE" and data["extension"] == {"amount": 15, "unit": "days"}
    assert Clock.from_dict(data) == clock
    with pytest.raises(ValueError):
        Clock.from_dict({**clock.to_dict(), "due_at": "2026-03-30T17:00:00"})  # naive


# -- next_check_at is exact: a property over random clocks ------------------------

def _random_instant(rng: random.Random) -> datetime:
    # Any instant of 2026, with seconds and microseconds, so checks land inside
    # shifts, at lunch, at night, on weekends and holidays.
    return utc(2026, 1, 1) + timedelta(microseconds=rng.randrange(365 * 86400 * 10**6))


def _random_gap(rng: random.Random) -> timedelta:
    # Log-uniform from 1 µs to ~20 days: both the one-minute sweep and outages.
    return timedelta(seconds=10 ** rng.uniform(-6, math.log10(20 * 86400)))


def _random_transition(rng, clock, policy, calendar, now):
    """Now and then pause/resume, extend or change class, as the workflow would."""
    roll = rng.random()
    if clock.kind in sla.PAUSABLE_KINDS and roll < 0.15:
        if clock.is_paused:
            return sla.resume(clock, now, calendar=calendar)[0], policy, calendar
        return sla.pause(clock, now, rng.choice(sla.PAUSE_REASONS))[0], policy, calendar
    if (roll < 0.2 and clock.kind == RESOLVE and policy.extension and not clock.extended
            and clock.breached_at is None and not clock.is_paused and now <= clock.due_at):
        return sla.extend(clock, policy, now, calendar=calendar)[0], policy, calendar
    if roll < 0.22:
        policy = rng.choice(list(DEFAULT_POLICIES.values()))
        calendar = cal_of(policy)
        at = now if rng.random() < 0.5 else None
        return sla.retarget(clock, policy, calendar=calendar, at=at)[0], policy, calendar
    return clock, policy, calendar


@pytest.mark.parametrize("seed", range(6))
def test_next_check_at_is_never_after_the_first_signal(seed):
    rng = random.Random(20260306 + seed)
    for _ in range(60):
        policy = rng.choice(list(DEFAULT_POLICIES.values()))
        calendar = cal_of(policy)
        kind = rng.choice(list(ClockKind))
        now = _random_instant(rng)
        clock = sla.start(kind, policy, now, calendar=calendar)
        warned, counts = [], {"sla.breached": 0, "sla.escalated": 0}
        for _ in range(40):
            now += _random_gap(rng)
            before = clock
            clock, policy, calendar = _random_transition(rng, clock, policy, calendar, now)
            if clock.warned_pct < before.warned_pct:
                warned.clear()  # an extension or class change re-armed the warnings
            if clock.breached_at is None and before.breached_at is not None:
                counts = dict.fromkeys(counts, 0)
            nca = sla.next_check_at(clock, calendar=calendar)
            if nca is not None:
                # Exact: check signals at nca and not one microsecond before.
                assert sla.check(clock, nca, calendar=calendar)[1], (clock, nca)
                assert sla.check(clock, nca - US, calendar=calendar)[1] == [], (clock, nca)
            # Any probe before nca is silent.
            probe = now - _random_gap(rng)
            if nca is None or probe < nca:
                assert sla.check(clock, probe, calendar=calendar)[1] == []
            clock, signals = sla.check(clock, now, calendar=calendar)
            if signals:
                assert nca is not None and nca <= now, (clock, nca, now, signals)
            for s in signals:
                if s.name == "sla.warning":
                    warned.append(s["pct"])
                elif s.name in counts:
                    counts[s.name] += 1
        # Between re-arms each threshold, the breach and the escalation came once.
        assert warned == sorted(set(warned)), warned
        assert counts["sla.breached"] <= 1 and counts["sla.escalated"] <= 1
