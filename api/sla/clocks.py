"""SLA clocks of a report: pure state transitions, no database.

A ``Clock`` is the whole persisted state of one clock. Every function returns
a new ``Clock`` (and, except ``start``, the ``Signal``s the caller should act
on); nothing is mutated and nothing reads the system time, so the one-minute
sweep and the request handlers share one set of rules:

* TRIAGE starts at receipt and stops when the report is routed to a unit;
* ACCEPT starts when a unit is assigned and stops when it accepts;
* RESOLVE is the citizen's clock: from receipt to resolution, never restarted
  by a reassignment, paused only while waiting for the citizen or for declared
  force majeure, extended at most once; a reopening starts cycle + 1;
* UNIT_RESOLVE runs from an assignment to resolution, return or reassignment,
  against the RESOLVE target, and pauses like RESOLVE.

Measuring time (see docs/calendar.md for the calendars):

* consumed = working time from ``started_at`` to now, less the working time
  spent paused; the total is the same measure up to ``due_at``;
* a clock is breached strictly after ``due_at``: stopping at ``due_at`` exactly
  is "met", so the breach signal comes one microsecond later;
* a pause pushes ``due_at`` by the working time it lasted, exactly for targets
  in minutes/hours, then up to 24:00 of the day it lands on for targets in days;
* escalation is one working day after the breach, by the same civil-code rule
  as targets in days: 24:00 of the next working day after the day the deadline
  ends (a deadline at 24:00 belongs to the day it ends, not the next one);
* a wait for the citizen is capped at 24:00 of the 5th working day after the
  day it began; the caller then closes the report as insufficient_information.

All instants are compared in integer microseconds (timestamptz resolution), so
``next_check_at`` is exactly the first instant at which ``check`` signals.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from api.sla.policies import (
    CALENDAR_KINDS,
    Calendar,
    SlaPolicy,
    Target,
    calendar_kind,
    due,
    target_from_dict,
    target_to_dict,
)

__all__ = [
    "Clock",
    "ClockError",
    "ClockKind",
    "PAUSE_REASONS",
    "Signal",
    "THRESHOLDS",
    "check",
    "escalation_at",
    "extend",
    "next_check_at",
    "pause",
    "pause_expires_at",
    "percent_consumed",
    "reopen",
    "resume",
    "retarget",
    "start",
    "stop",
]

_UTC = timezone.utc
_TICK = timedelta(microseconds=1)
_US = 1_000_000

THRESHOLDS = (50, 75, 90)
BREACH_PCT = 100
WARNED_LEVELS = (0, *THRESHOLDS, BREACH_PCT)

WAITING_CITIZEN = "waiting_citizen"
FORCE_MAJEURE = "force_majeure"
PAUSE_REASONS = (WAITING_CITIZEN, FORCE_MAJEURE)
WAITING_CITIZEN_CAP_DAYS = 5
ESCALATION_DAYS = 1
OUTCOMES = ("met", "breached")


class ClockKind(StrEnum):
    # Upper case, as in the sla_clock.kind check constraint (api/sla/models.py).
    TRIAGE = "TRIAGE"
    ACCEPT = "ACCEPT"
    RESOLVE = "RESOLVE"
    UNIT_RESOLVE = "UNIT_RESOLVE"

    @classmethod
    def _missing_(cls, value: object) -> ClockKind | None:
        return cls.__members__.get(value.upper()) if isinstance(value, str) else None


# The design pauses only the resolution clocks: a dispatcher or a unit waiting
# on the citizen does not need more time to route or to accept.
PAUSABLE_KINDS = frozenset({ClockKind.RESOLVE, ClockKind.UNIT_RESOLVE})


class ClockError(Exception):
    """A transition the rules forbid (double pause, second extension, ...)."""


class Signal:
    """Something the caller must act on, e.g. ``Signal("sla.warning", pct=75)``."""

    __slots__ = ("name", "_data")

    def __init__(self, name: str, /, **data: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_data", dict(data))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Signal is immutable")

    @property
    def data(self) -> dict[str, Any]:
        return dict(self._data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signal):
            return NotImplemented
        return self.name == other.name and self._data == other._data

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self._data))))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self._data.items())
        return f"Signal({self.name!r}{args})"


# -- helpers -------------------------------------------------------------------

def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(_UTC)


def _optional_aware(value: datetime | None, name: str) -> datetime | None:
    return None if value is None else _aware(value, name)


def _ws_us(calendar: Calendar, a: datetime, b: datetime) -> int:
    # The calendar counts in whole microseconds and hands back float seconds;
    # rounding recovers its integer exactly.
    return round(calendar.working_seconds_between(a, b) * _US)


def _add_us(calendar: Calendar, at: datetime, us: int) -> datetime:
    seconds: float = us // _US if us % _US == 0 else us / _US
    return calendar.add_working_seconds(at, seconds)


def _end_of_day(calendar: Calendar, deadline: datetime) -> datetime:
    # add_working_days(x, 0) is 24:00 of x's day; stepping back one tick keeps
    # a deadline already at 00:00 (24:00 of the day before) where it is.
    return calendar.add_working_days(deadline - _TICK, 0)


def _days_after_deadline(calendar: Calendar, deadline: datetime, days: int) -> datetime:
    # A deadline at 24:00 of day D is stored as 00:00 of D+1; counting from it
    # directly would skip D+1 as if it were the day of receipt.
    return calendar.add_working_days(deadline - _TICK, days)


def _push(calendar: Calendar, due_at: datetime, us: int, target: Target) -> datetime:
    # A zero push must not move the due time: adding 0 working seconds would
    # still jump a 17:00 deadline to the next shift's start.
    if us <= 0:
        return due_at
    pushed = _add_us(calendar, due_at, us)
    return _end_of_day(calendar, pushed) if target.in_days else pushed


def _apply_extension(calendar: Calendar, due_at: datetime, extension: Target) -> datetime:
    if extension.in_days:
        return _days_after_deadline(calendar, due_at, extension.amount)
    return _push(calendar, due_at, round(extension.seconds * _US), extension)


def _match_calendar(expected: str, calendar: Calendar) -> None:
    actual = calendar_kind(calendar)
    if actual != expected:
        raise ValueError(f"this clock runs on the {expected!r} calendar, got a {actual!r} one")


def _check_not_before(at: datetime, floor: datetime, what: str) -> None:
    if at < floor:
        raise ValueError(f"{what} ({at.isoformat()}) is before {floor.isoformat()}")


# -- state ---------------------------------------------------------------------

@dataclass(frozen=True)
class Clock:
    """The whole persisted state of one clock; every datetime is aware UTC.

    ``due_at`` is the current deadline (after pauses, extension, class change);
    ``original_due_at`` the deadline of the current class without them.
    ``pauses`` lists the finished pauses (start, end), which a class change
    needs to recompute the deadline. ``warned_pct`` is the highest threshold
    signalled (100 once breached); ``breached_at``/``escalated_at`` and
    ``pause_expiry_signalled`` record that a signal was given, so each is given
    once.
    """

    kind: ClockKind
    sla_class: str
    policy_version: int
    calendar_kind: str
    target: Target
    cycle: int
    started_at: datetime
    due_at: datetime
    original_due_at: datetime
    paused_at: datetime | None = None
    pause_reason: str | None = None
    paused_working_seconds: float = 0.0
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    pause_expiry_signalled: bool = False
    stopped_at: datetime | None = None
    outcome: str | None = None
    extended: bool = False
    extension: Target | None = None
    extended_at: datetime | None = None
    warned_pct: int = 0
    breached_at: datetime | None = None
    escalated_at: datetime | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "kind", ClockKind(self.kind))
        if self.calendar_kind not in CALENDAR_KINDS:
            raise ValueError(f"calendar_kind must be one of {CALENDAR_KINDS}, got {self.calendar_kind!r}")
        if not isinstance(self.target, Target):
            raise TypeError("target must be a Target")
        if isinstance(self.cycle, bool) or not isinstance(self.cycle, int) or self.cycle < 1:
            raise ValueError(f"cycle must be an int >= 1, got {self.cycle!r}")
        for name in ("started_at", "due_at", "original_due_at"):
            set_(self, name, _aware(getattr(self, name), name))
        for name in ("paused_at", "stopped_at", "extended_at", "breached_at", "escalated_at"):
            set_(self, name, _optional_aware(getattr(self, name), name))
        set_(self, "pauses", tuple((_aware(a, "pauses"), _aware(b, "pauses")) for a, b in self.pauses))
        if (self.paused_at is None) != (self.pause_reason is None):
            raise ValueError("paused_at and pause_reason go together")
        if self.pause_reason is not None and self.pause_reason not in PAUSE_REASONS:
            raise ValueError(f"pause_reason must be one of {PAUSE_REASONS}, got {self.pause_reason!r}")
        if (self.stopped_at is None) != (self.outcome is None):
            raise ValueError("stopped_at and outcome go together")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")
        if self.stopped_at is not None and self.paused_at is not None:
            raise ValueError("a stopped clock cannot be paused")
        if not (self.extended == (self.extension is not None) == (self.extended_at is not None)):
            raise ValueError("extended, extension and extended_at go together")
        if self.warned_pct not in WARNED_LEVELS:
            raise ValueError(f"warned_pct must be one of {WARNED_LEVELS}, got {self.warned_pct!r}")
        pws = self.paused_working_seconds
        if isinstance(pws, bool) or not isinstance(pws, (int, float)) or pws < 0:
            raise ValueError(f"paused_working_seconds must be a number >= 0, got {pws!r}")

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def paused_us(self) -> int:
        return round(self.paused_working_seconds * _US)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 instants); ``Clock.from_dict`` reads it back."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Target):
                value = target_to_dict(value)
            elif f.name == "pauses":
                value = [[a.isoformat(), b.isoformat()] for a, b in value]
            elif isinstance(value, ClockKind):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Clock:
        known = {f.name for f in fields(cls)}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown clock keys: {sorted(extra)}")
        values = dict(data)
        for name in ("started_at", "due_at", "original_due_at", "paused_at", "stopped_at",
                     "extended_at", "breached_at", "escalated_at"):
            if isinstance(values.get(name), str):
                values[name] = datetime.fromisoformat(values[name])
        for name in ("target", "extension"):
            if isinstance(values.get(name), Mapping):
                values[name] = target_from_dict(values[name])
        if "pauses" in values:
            values["pauses"] = tuple(
                (datetime.fromisoformat(a) if isinstance(a, str) else a,
                 datetime.fromisoformat(b) if isinstance(b, str) else b)
                for a, b in values["pauses"])
        return cls(**values)


# -- measuring -----------------------------------------------------------------

def _consumed_us(clock: Clock, now: datetime, calendar: Calendar) -> int:
    end = now
    for frozen_at in (clock.paused_at, clock.stopped_at):
        if frozen_at is not None and frozen_at < end:
            end = frozen_at
    return max(0, _ws_us(calendar, clock.started_at, end) - clock.paused_us)


def _total_us(clock: Clock, calendar: Calendar) -> int:
    return max(0, _ws_us(calendar, clock.started_at, clock.due_at) - clock.paused_us)


def percent_consumed(clock: Clock, now: datetime, *, calendar: Calendar) -> float:
    """Share of the working time to ``due_at`` used by ``now``, in percent (may pass 100).

    For a deadline in days this reaches 100 at the end of the last shift,
    before the 24:00 deadline: the breach itself is decided by ``due_at``.
    """
    now = _aware(now, "now")
    _match_calendar(clock.calendar_kind, calendar)
    total = _total_us(clock, calendar)
    consumed = _consumed_us(clock, now, calendar)
    if total <= 0:
        return 100.0
    return consumed * 100 / total


def _threshold_at(clock: Clock, pct: int, calendar: Calendar) -> datetime:
    total = _total_us(clock, calendar)
    if total <= 0:
        return clock.started_at
    # The smallest consumed amount c with c * 100 >= pct * total; the calendar
    # returns the earliest instant with that much working time behind it.
    needed = -(-pct * total // 100)
    return _add_us(calendar, clock.started_at, clock.paused_us + needed)


def escalation_at(clock: Clock, *, calendar: Calendar) -> datetime:
    """When a breach of the current ``due_at`` is escalated to leadership."""
    _match_calendar(clock.calendar_kind, calendar)
    return _days_after_deadline(calendar, clock.due_at, ESCALATION_DAYS)


def pause_expires_at(clock: Clock, *, calendar: Calendar) -> datetime | None:
    """When a wait for the citizen reaches its cap; None unless waiting for the citizen."""
    _match_calendar(clock.calendar_kind, calendar)
    if clock.paused_at is None or clock.pause_reason != WAITING_CITIZEN:
        return None
    return calendar.add_working_days(clock.paused_at, WAITING_CITIZEN_CAP_DAYS)


def _past_due(clock: Clock, at: datetime) -> bool:
    # While paused the clock stands still at paused_at, so a long pause alone
    # never takes it past its deadline.
    effective = clock.paused_at if clock.paused_at is not None and clock.paused_at < at else at
    return effective > clock.due_at


def _rederive_warnings(clock: Clock, at: datetime, calendar: Calendar) -> Clock:
    """After the deadline moved later: forget signals the new deadline has not earned.

    Thresholds above what is consumed at ``at`` will be signalled again as the
    new deadline approaches; those already reached are not repeated.
    """
    if _past_due(clock, at):
        return clock
    total = _total_us(clock, calendar)
    consumed = _consumed_us(clock, at, calendar)
    level = max((h for h in WARNED_LEVELS[:-1] if consumed * 100 >= h * total), default=0)
    return replace(clock, warned_pct=min(clock.warned_pct, level), breached_at=None, escalated_at=None)


# -- transitions ---------------------------------------------------------------

def start(kind: ClockKind | str, policy: SlaPolicy, at: datetime, *, calendar: Calendar,
          cycle: int = 1) -> Clock:
    """A running clock of ``kind`` from ``at`` with the policy's target for that kind."""
    kind = ClockKind(kind)
    at = _aware(at, "at")
    _match_calendar(policy.calendar, calendar)
    target = policy.target_for(kind)
    due_at = due(calendar, at, target)
    return Clock(kind=kind, sla_class=policy.sla_class, policy_version=policy.version,
                 calendar_kind=policy.calendar, target=target, cycle=cycle,
                 started_at=at, due_at=due_at, original_due_at=due_at)


def reopen(previous: Clock, policy: SlaPolicy, at: datetime, *, calendar: Calendar) -> Clock:
    """A new RESOLVE cycle from ``at`` after the citizen disputed the answer.

    The caller enforces the 7-day dispute window; the old cycle stays as it
    was recorded.
    """
    at = _aware(at, "at")
    if previous.kind != ClockKind.RESOLVE:
        raise ClockError("only a RESOLVE clock is reopened")
    if previous.stopped_at is None:
        raise ClockError("a running RESOLVE clock cannot be reopened")
    _check_not_before(at, previous.stopped_at, "reopen time")
    return start(ClockKind.RESOLVE, policy, at, calendar=calendar, cycle=previous.cycle + 1)


def pause(clock: Clock, at: datetime, reason: str) -> tuple[Clock, list[Signal]]:
    at = _aware(at, "at")
    if reason not in PAUSE_REASONS:
        raise ValueError(f"pause reason must be one of {PAUSE_REASONS}, got {reason!r}")
    if clock.stopped_at is not None:
        raise ClockError("a stopped clock cannot be paused")
    if clock.kind not in PAUSABLE_KINDS:
        raise ClockError(f"a {clock.kind.value} clock is never paused")
    if clock.paused_at is not None:
        raise ClockError(f"the clock is already paused ({clock.pause_reason}) since {clock.paused_at}")
    _check_not_before(at, clock.pauses[-1][1] if clock.pauses else clock.started_at, "pause time")
    paused = replace(clock, paused_at=at, pause_reason=reason, pause_expiry_signalled=False)
    return paused, [Signal("sla.paused", reason=reason)]


def resume(clock: Clock, at: datetime, *, calendar: Calendar) -> tuple[Clock, list[Signal]]:
    """Fold the pause into the deadline; a clock that is not paused is returned as is."""
    at = _aware(at, "at")
    if clock.paused_at is None:
        return clock, []
    _match_calendar(clock.calendar_kind, calendar)
    _check_not_before(at, clock.paused_at, "resume time")
    us = _ws_us(calendar, clock.paused_at, at)
    resumed = replace(
        clock,
        paused_at=None,
        pause_reason=None,
        pause_expiry_signalled=False,
        pauses=(*clock.pauses, (clock.paused_at, at)),
        paused_working_seconds=(clock.paused_us + us) / _US,
        due_at=_push(calendar, clock.due_at, us, clock.target),
    )
    return resumed, [Signal("sla.resumed", paused_seconds=us / _US)]


def stop(clock: Clock, at: datetime, *, calendar: Calendar | None = None) -> tuple[Clock, list[Signal]]:
    """Stop for good: "met" if ``at <= due_at``, else "breached".

    A paused clock is resumed at ``at`` first (so its deadline takes the pause
    into account), which needs the ``calendar``.
    """
    at = _aware(at, "at")
    if clock.stopped_at is not None:
        raise ClockError(f"the clock was already stopped at {clock.stopped_at}")
    _check_not_before(at, clock.started_at, "stop time")
    if clock.paused_at is not None:
        if calendar is None:
            raise ValueError("stopping a paused clock needs the calendar to account for the pause")
        clock, _ = resume(clock, at, calendar=calendar)
    outcome = "met" if at <= clock.due_at else "breached"
    return replace(clock, stopped_at=at, outcome=outcome), [Signal("sla.stopped", outcome=outcome)]


def extend(clock: Clock, policy: SlaPolicy, at: datetime, *, calendar: Calendar) -> tuple[Clock, list[Signal]]:
    """Apply the one approved extension: ``due_at`` moves by ``policy.extension``.

    Only a RESOLVE clock whose class has an extension, only once, and only
    before the deadline has passed: a late approval would hide a breach the
    citizen has already suffered.
    """
    at = _aware(at, "at")
    _match_calendar(clock.calendar_kind, calendar)
    if clock.kind != ClockKind.RESOLVE:
        raise ClockError(f"only the RESOLVE clock can be extended, not {clock.kind.value}")
    if policy.sla_class != clock.sla_class:
        raise ClockError(f"the clock is {clock.sla_class!r}, the policy is {policy.sla_class!r}")
    if policy.extension is None:
        raise ClockError(f"class {policy.sla_class!r} allows no extension")
    if clock.extended:
        raise ClockError(f"the clock was already extended at {clock.extended_at}")
    if clock.stopped_at is not None:
        raise ClockError("a stopped clock cannot be extended")
    _check_not_before(at, clock.started_at, "extension time")
    if clock.breached_at is not None or _past_due(clock, at):
        raise ClockError(f"the deadline {clock.due_at} has passed; it can no longer be extended")
    extended = replace(clock, extended=True, extension=policy.extension, extended_at=at,
                       due_at=_apply_extension(calendar, clock.due_at, policy.extension))
    return _rederive_warnings(extended, at, calendar), [Signal("sla.extended")]


def retarget(clock: Clock, new_policy: SlaPolicy, *, calendar: Calendar,
             at: datetime | None = None) -> tuple[Clock, list[Signal]]:
    """Recompute the deadline under a new SLA class, as if it had applied from the start.

    ``calendar`` is the new class's calendar. Finished pauses and an approved
    extension are replayed in the order they happened. A stopped clock keeps
    its recorded result. With ``at`` (the time of the change), warnings and a
    breach that the new deadline has not earned are cleared so they can be
    signalled again; without it they are kept, which never repeats a signal.
    """
    if clock.stopped_at is not None:
        return clock, []
    _match_calendar(new_policy.calendar, calendar)
    if at is not None:
        at = _aware(at, "at")
        _check_not_before(at, clock.started_at, "change time")
    target = new_policy.target_for(clock.kind)
    base = due(calendar, clock.started_at, target)

    # Each pause was folded in when it ended; the extension when approved.
    events: list[tuple[datetime, int, tuple[datetime, datetime] | None]] = [
        (end, 0, (begin, end)) for begin, end in clock.pauses]
    if clock.extended_at is not None:
        events.append((clock.extended_at, 1, None))
    events.sort(key=lambda e: (e[0], e[1]))

    due_at, paused_us = base, 0
    for _, _, interval in events:
        if interval is None:
            assert clock.extension is not None
            due_at = _apply_extension(calendar, due_at, clock.extension)
        else:
            us = _ws_us(calendar, *interval)
            paused_us += us
            due_at = _push(calendar, due_at, us, target)

    updated = replace(clock, sla_class=new_policy.sla_class, policy_version=new_policy.version,
                      calendar_kind=new_policy.calendar, target=target, due_at=due_at,
                      original_due_at=base, paused_working_seconds=paused_us / _US)
    if at is not None:
        updated = _rederive_warnings(updated, at, calendar)
    return updated, [Signal("sla.retargeted", sla_class=new_policy.sla_class)]


# -- the sweep -----------------------------------------------------------------

def check(clock: Clock, now: datetime, *, calendar: Calendar) -> tuple[Clock, list[Signal]]:
    """Signals due at ``now``, each given once; what the one-minute sweep calls.

    Only the highest threshold newly reached is signalled, so a sweep that
    comes late does not send stale 50 % and 75 % warnings next to a 90 % one; a
    breach replaces any pending warning. Breach and escalation go to different
    people, so both are sent when a late sweep finds both due.
    """
    now = _aware(now, "now")
    _match_calendar(clock.calendar_kind, calendar)
    if clock.stopped_at is not None:
        return clock, []

    if clock.paused_at is not None:
        expires = pause_expires_at(clock, calendar=calendar)
        if expires is not None and not clock.pause_expiry_signalled and now >= expires:
            return replace(clock, pause_expiry_signalled=True), [Signal("sla.pause_expired")]
        return clock, []

    signals: list[Signal] = []
    changes: dict[str, Any] = {}
    breached = clock.breached_at is not None
    if not breached:
        if now > clock.due_at:
            signals.append(Signal("sla.breached"))
            changes.update(breached_at=now, warned_pct=BREACH_PCT)
            breached = True
        elif clock.warned_pct < THRESHOLDS[-1]:
            total = _total_us(clock, calendar)
            consumed = _consumed_us(clock, now, calendar)
            reached = [h for h in THRESHOLDS if h > clock.warned_pct and consumed * 100 >= h * total]
            if reached:
                signals.append(Signal("sla.warning", pct=reached[-1]))
                changes["warned_pct"] = reached[-1]
    if breached and clock.escalated_at is None and now >= escalation_at(clock, calendar=calendar):
        signals.append(Signal("sla.escalated"))
        changes["escalated_at"] = now
    return (replace(clock, **changes) if changes else clock), signals


def next_check_at(clock: Clock, *, calendar: Calendar) -> datetime | None:
    """The first instant at which ``check`` would signal, or None if it never will.

    Exact: ``check`` at this instant signals, and at any earlier instant it does
    not (until the clock is changed by another transition).
    """
    _match_calendar(clock.calendar_kind, calendar)
    if clock.stopped_at is not None:
        return None
    if clock.paused_at is not None:
        if clock.pause_expiry_signalled:
            return None
        # Force majeure has no cap: only a resume can make the clock move again.
        return pause_expires_at(clock, calendar=calendar)

    candidates: list[datetime] = []
    if clock.breached_at is None:
        candidates.append(clock.due_at + _TICK)
        pending = [h for h in THRESHOLDS if h > clock.warned_pct]
        if pending:
            candidates.append(_threshold_at(clock, pending[0], calendar))
    if clock.escalated_at is None:
        candidates.append(escalation_at(clock, calendar=calendar))
    return min(candidates) if candidates else None
