"""SLA clocks in the database: started with the report, moved by its lifecycle, swept.

The clock rules are pure (api/sla/clocks.py); this module loads and saves them,
builds the calendar from the exceptions table, and turns signals into events.
The sweep takes due clocks with ``FOR UPDATE SKIP LOCKED``, so any number of
workers can sweep at once without doing a clock twice, and a failing clock
does not stop the others.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from api.reports.models import Report, ReportEvent
from api.sla import clocks as rules
from api.sla.calendar import AlwaysOpenCalendar, BusinessCalendar, calendar_for
from api.sla.models import CalendarException, SlaClock, SlaPolicyVersion
from api.sla.policies import SlaPolicy, policy_from_dict

log = logging.getLogger(__name__)
Calendar = BusinessCalendar | AlwaysOpenCalendar


@dataclass
class Calendars:
    """The two calendars with the current exceptions, built once per unit of work."""
    business: BusinessCalendar
    always_open: AlwaysOpenCalendar

    def for_kind(self, kind: str) -> Calendar:
        return self.always_open if kind == "24x7" else self.business

    def for_class(self, sla_class: str) -> Calendar:
        return self.always_open if sla_class == "urgent" else self.business


_built: dict[tuple, Calendars] = {}


def load_calendars(session: Session) -> Calendars:
    """The calendars for the current exceptions (read every time; built once per distinct set)."""
    rows = session.execute(select(CalendarException.day, CalendarException.kind,
                                  CalendarException.name).order_by(CalendarException.id)).all()
    key = tuple(rows)
    cached = _built.get(key)
    if cached is not None:
        return cached
    business = calendar_for(
        "normal",
        extra_working_days=frozenset(r.day for r in rows if r.kind == "working_day"),
        extra_days_off={r.day: (r.name or "Nghỉ bù") for r in rows if r.kind == "day_off"},
        holiday_overrides={r.day: None for r in rows if r.kind == "not_a_holiday"})
    if len(_built) > 32:  # exception sets change rarely; keep the cache small anyway
        _built.clear()
    _built[key] = Calendars(business, AlwaysOpenCalendar())
    return _built[key]


def current_policy(session: Session, sla_class: str) -> tuple[SlaPolicyVersion, SlaPolicy]:
    row = session.scalar(select(SlaPolicyVersion).where(SlaPolicyVersion.sla_class == sla_class)
                         .order_by(SlaPolicyVersion.version.desc()).limit(1))
    if row is None:
        from api.sla.policies import DEFAULT_POLICIES, policy_to_dict
        row = SlaPolicyVersion(sla_class=sla_class, version=1,
                               body=policy_to_dict(DEFAULT_POLICIES[sla_class]))
        session.add(row)
        session.flush()
    return row, policy_from_dict(row.body)


def policy_of(session: Session, report: Report) -> SlaPolicy:
    """The policy version the report is held to."""
    return _policy_of(session, report)


def _policy_of(session: Session, report: Report) -> SlaPolicy:
    row = session.get(SlaPolicyVersion, report.sla_policy_id)
    return policy_from_dict(row.body)


def _save(session: Session, row: SlaClock, clock: rules.Clock, cal: Calendar, now: datetime) -> None:
    row.state = clock.to_dict()
    row.due_at = clock.due_at
    row.stopped_at = clock.stopped_at
    row.outcome = clock.outcome
    row.next_check_at = rules.next_check_at(clock, calendar=cal)
    row.updated_at = now


def _new_clock(session: Session, report: Report, kind: str, policy: SlaPolicy, at: datetime,
               cals: Calendars, unit_id: int | None = None, cycle: int = 1) -> SlaClock:
    cal = cals.for_kind(policy.calendar)
    clock = rules.start(kind, policy, at, calendar=cal, cycle=cycle)
    row = SlaClock(report_id=report.id, kind=kind, cycle=cycle, unit_id=unit_id)
    _save(session, row, clock, cal, at)
    session.add(row)
    return row


SIGNAL_EVENTS = ("sla.warning", "sla.breached", "sla.escalated", "sla.pause_expired")
# Who must hear of a signal (DESIGN §6): the push and IOC feeds read this from the event.
AUDIENCE = {"sla.warning": "unit", "sla.breached": "dispatcher", "sla.escalated": "leadership",
            "sla.pause_expired": "unit"}


def start_report_clocks(session: Session, report: Report, at: datetime, cals: Calendars) -> None:
    """At receipt: the dispatcher's TRIAGE clock and the citizen's RESOLVE clock."""
    row, policy = current_policy(session, report.category.sla_class)
    report.sla_class, report.sla_policy_id = report.category.sla_class, row.id
    for kind in ("TRIAGE", "RESOLVE"):
        _new_clock(session, report, kind, policy, at, cals)


def running(session: Session, report: Report, kind: str) -> SlaClock | None:
    return session.scalar(select(SlaClock).where(
        SlaClock.report_id == report.id, SlaClock.kind == kind, SlaClock.stopped_at.is_(None))
        .order_by(SlaClock.id.desc()).limit(1).with_for_update())


def stop_clock(session: Session, report: Report, kind: str, at: datetime, cals: Calendars) -> None:
    row = running(session, report, kind)
    if row is None:
        return
    cal = cals.for_kind(row.state["calendar_kind"])
    clock, _signals = rules.stop(rules.Clock.from_dict(row.state), at, calendar=cal)
    _save(session, row, clock, cal, at)


def on_assigned(session: Session, report: Report, unit_id: int, at: datetime, cals: Calendars) -> None:
    """A unit is assigned: TRIAGE ends; that unit's ACCEPT and UNIT_RESOLVE clocks start."""
    stop_clock(session, report, "TRIAGE", at, cals)
    for kind in ("ACCEPT", "UNIT_RESOLVE"):
        stop_clock(session, report, kind, at, cals)  # a previous assignment's clocks end here
    policy = _policy_of(session, report)
    for kind in ("ACCEPT", "UNIT_RESOLVE"):
        _new_clock(session, report, kind, policy, at, cals, unit_id=unit_id)


def _change(session: Session, report: Report, kinds: tuple[str, ...], at: datetime, cals: Calendars,
            apply) -> list[rules.Signal]:
    """Apply ``apply(clock, calendar) -> (clock, signals)`` to the report's running clocks."""
    signals = []
    for kind in kinds:
        row = running(session, report, kind)
        if row is None:
            continue
        clock, produced = apply(rules.Clock.from_dict(row.state),
                                cals.for_kind(row.state["calendar_kind"]))
        # A class change can move a clock to the other calendar (urgent is 24x7).
        _save(session, row, clock, cals.for_kind(clock.calendar_kind), at)
        signals += produced
    return signals


def pause_report(session: Session, report: Report, at: datetime, reason: str = "waiting_citizen"
                 ) -> None:
    """Waiting for the citizen (or force majeure): the citizen's and the unit's clocks stop
    counting; the 5-working-day cap is watched by the sweep (sla.pause_expired)."""
    _change(session, report, ("RESOLVE", "UNIT_RESOLVE"), at, load_calendars(session),
            lambda clock, _cal: rules.pause(clock, at, reason))


def resume_report(session: Session, report: Report, at: datetime) -> None:
    _change(session, report, ("RESOLVE", "UNIT_RESOLVE"), at, load_calendars(session),
            lambda clock, cal: rules.resume(clock, at, calendar=cal))


def extend_report(session: Session, report: Report, at: datetime) -> None:
    """The one approved extension of the citizen's deadline (raises ClockError otherwise)."""
    policy = _policy_of(session, report)
    _change(session, report, ("RESOLVE",), at, load_calendars(session),
            lambda clock, cal: rules.extend(clock, policy, at, calendar=cal))


def resolve_report(session: Session, report: Report, at: datetime) -> None:
    """The unit answered: the citizen's and the unit's clocks stop (met or breached)."""
    _change(session, report, ("ACCEPT", "RESOLVE", "UNIT_RESOLVE"), at, load_calendars(session),
            lambda clock, cal: rules.stop(clock, at, calendar=cal))


def reopen_report(session: Session, report: Report, at: datetime) -> None:
    """The citizen disputed the answer: a new RESOLVE cycle from now (the caller checks the
    7-day window)."""
    cals = load_calendars(session)
    last = session.scalar(select(SlaClock).where(SlaClock.report_id == report.id,
                                                 SlaClock.kind == "RESOLVE")
                          .order_by(SlaClock.cycle.desc()).limit(1))
    policy = _policy_of(session, report)
    clock = rules.reopen(rules.Clock.from_dict(last.state), policy, at,
                         calendar=cals.for_kind(policy.calendar))
    row = SlaClock(report_id=report.id, kind="RESOLVE", cycle=clock.cycle)
    _save(session, row, clock, cals.for_kind(policy.calendar), at)
    session.add(row)


def change_class(session: Session, report: Report, sla_class: str, at: datetime) -> None:
    """The category changed to one of another class: running clocks take the new class's
    current policy, measured from their original start."""
    if sla_class == report.sla_class:
        return
    row, policy = current_policy(session, sla_class)
    report.sla_class, report.sla_policy_id = sla_class, row.id
    cals = load_calendars(session)
    new_cal = cals.for_kind(policy.calendar)
    _change(session, report, ("TRIAGE", "ACCEPT", "RESOLVE", "UNIT_RESOLVE"), at, cals,
            lambda clock, _old: rules.retarget(clock, policy, calendar=new_cal, at=at))


def sweep(session: Session, now: datetime | None = None, limit: int = 1000) -> int:
    """Check every clock whose next_check_at has come; returns how many were checked.

    The rules run per clock in Python (a failing clock is logged and skipped);
    the writes go to the database in batches, so a sweep costs a few round
    trips, not several per clock.
    """
    now = now or datetime.now(timezone.utc)
    cals = load_calendars(session)
    due = session.execute(
        select(SlaClock.id, SlaClock.report_id, SlaClock.kind, SlaClock.state)
        .where(SlaClock.stopped_at.is_(None), SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at).limit(limit)
        .with_for_update(of=SlaClock, skip_locked=True)).all()
    updates, events, breached = [], [], set()
    for row in due:
        try:
            clock = rules.Clock.from_dict(row.state)
            cal = cals.for_kind(clock.calendar_kind)
            clock, signals = rules.check(clock, now, calendar=cal)
            updates.append({"id": row.id, "state": clock.to_dict(), "due_at": clock.due_at,
                            "stopped_at": clock.stopped_at, "outcome": clock.outcome,
                            "next_check_at": rules.next_check_at(clock, calendar=cal),
                            "updated_at": now})
        except Exception:  # one bad clock must not stop the sweep
            log.exception("SLA check failed for clock %s", row.id)
            continue
        for s in signals:
            if s.name in SIGNAL_EVENTS:
                events.append({"report_id": row.report_id, "type": s.name, "actor_kind": "system",
                               "public": False, "created_at": now,
                               "data": {"clock": row.kind, "clock_id": row.id,
                                        "notify": AUDIENCE[s.name], **s.data}})
            if s.name == "sla.breached":
                breached.add(row.report_id)
    if updates:
        session.execute(update(SlaClock), updates)
    if events:
        ids = session.scalars(insert(ReportEvent).returning(ReportEvent.id), events).all()
        from api.reports.publish import publish_after_commit
        publish_after_commit(session, ids)
    if breached:
        # The public view shows the breach: touch the reports and drop their cached views.
        codes = session.scalars(update(Report).where(Report.id.in_(breached))
                                .values(updated_at=now).returning(Report.code)).all()
        session.info.setdefault("changed_reports", set()).update(codes)
    return len(due)


def recompute_running(session: Session, now: datetime | None = None) -> int:
    """The calendar changed: re-derive every running clock's deadline under the new calendar."""
    now = now or datetime.now(timezone.utc)
    cals = load_calendars(session)
    rows = session.scalars(select(SlaClock).where(SlaClock.stopped_at.is_(None))
                           .with_for_update(skip_locked=False)).all()
    policies: dict[int, SlaPolicy] = {}
    for row in rows:
        report = session.get(Report, row.report_id)
        policy = policies.get(report.sla_policy_id) or _policy_of(session, report)
        policies[report.sla_policy_id] = policy
        clock = rules.Clock.from_dict(row.state)
        cal = cals.for_kind(clock.calendar_kind)
        clock, _signals = rules.retarget(clock, policy, calendar=cal)
        _save(session, row, clock, cal, now)
    return len(rows)


def public_sla(session: Session, report: Report) -> dict | None:
    """The citizen's clock as the public sees it: due time and state (no percentages)."""
    return public_slas(session, [report])[report.id]


def public_slas(session: Session, reports: list[Report]) -> dict[int, dict | None]:
    """``public_sla`` of a page of reports in one query (the latest RESOLVE cycle of each)."""
    ids = [r.id for r in reports]
    latest = {}
    if ids:
        rows = session.scalars(
            select(SlaClock).where(SlaClock.report_id.in_(ids), SlaClock.kind == "RESOLVE")
            .order_by(SlaClock.report_id, SlaClock.cycle.desc(), SlaClock.id.desc())
            .distinct(SlaClock.report_id))
        latest = {row.report_id: row for row in rows}
    return {r.id: _public_clock(r, latest.get(r.id)) for r in reports}


def _public_clock(report: Report, row: SlaClock | None) -> dict | None:
    if row is None:
        return None
    state = row.state
    if row.stopped_at is not None:
        status = row.outcome
    elif state.get("paused_at"):
        status = "paused"
    elif state.get("breached_at"):
        status = "breached"
    else:
        status = "running"
    return {"sla_class": report.sla_class, "due_at": row.due_at, "status": status,
            "cycle": row.cycle}
