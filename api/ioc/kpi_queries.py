"""The IOC's KPI figures (docs/kpis.md), computed in the database.

Every fact of the window becomes one row of a UNION ALL: a report received, an
answer given (a move to ``resolved``), a rating left. Each row carries 0/1 flags
and the report's unit, category and ward; one aggregate sums the flags per group
(GROUPING SETS give the totals in the same pass). Only the sums come back to
Python, where the ratios are taken and rounded half up on exact decimals.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (DateTime, Float, and_, case, cast, exists, extract, func, literal,
                        literal_column, null, select, tuple_, union_all)
from sqlalchemy.orm import Session, aliased

from api.common.fields import LOCAL_TZ
from api.ioc.feed import DUE_SOON
from api.ioc.models import ReportRating
from api.reference.models import Category, Unit, Ward
from api.reports.models import Report, ReportEvent
from api.reports.states import OPEN_STATUSES
from api.sla.models import SlaClock

GROUP_BY = ("unit", "category", "ward")
# Summed per group. ``answered`` counts every answer (also one without a RESOLVE
# clock to judge it by), so it is the base of the median, p90 and reopen rate.
FLAGS = ("received", "to_process", "open_on_time", "open_late", "due_soon", "returned",
         "answered", "resolved_on_time", "resolved_late", "reopened", "rated", "satisfied")
SATISFIED_SCORE = 4
_ONE, _ZERO = literal_column("1"), literal_column("0")
_TENTH = Decimal("0.1")


def window(first: date, last: date) -> tuple[datetime, datetime]:
    """The local days ``first``..``last`` (inclusive) as a half-open UTC interval."""
    return (datetime.combine(first, time.min, LOCAL_TZ).astimezone(timezone.utc),
            datetime.combine(last + timedelta(days=1), time.min, LOCAL_TZ).astimezone(timezone.utc))


def _flag(condition):
    """0/1 for a condition: absent → 0, True → 1, NULL (no clock to judge by) → 0."""
    if condition is None:
        return _ZERO
    if condition is True:
        return _ONE
    return case((condition, _ONE), else_=_ZERO)


def _fact(source_cols, hours=None, **flags):
    """One branch of the UNION ALL: the grouping columns, every flag (0 unless given), hours."""
    cols = [c.label(n) for c, n in zip(source_cols, ("unit_id", "category_code", "ward_code"))]
    cols += [_flag(flags.get(name)).label(name) for name in FLAGS]
    cols.append((hours if hours is not None else cast(null(), Float)).label("hours"))
    return cols


def _received(start: datetime, end: datetime, now: datetime):
    """Reports created in the window, with the state of their open work now."""
    clock = aliased(SlaClock)
    is_open = Report.status.in_(OPEN_STATUSES)
    # The latest cycle, looked up for open reports only (for the others the planner skips
    # the lookup: the condition is constant per report).
    resolve = (select(clock.due_at, clock.stopped_at,
                      cast(clock.state["paused_at"].astext, DateTime(timezone=True))
                      .label("paused_at"))
               .where(clock.report_id == Report.id, clock.kind == "RESOLVE", is_open)
               .order_by(clock.cycle.desc(), clock.id.desc()).limit(1)
               .lateral("resolve"))
    at = literal(now, DateTime(timezone=True))
    # A clock stands still while paused and after it stopped: judge it at that instant.
    late = func.coalesce(resolve.c.stopped_at, resolve.c.paused_at, at) > resolve.c.due_at
    running = and_(resolve.c.stopped_at.is_(None), resolve.c.paused_at.is_(None))
    was_returned = exists().where(ReportEvent.report_id == Report.id,
                                  ReportEvent.to_status == "returned")
    return (select(*_fact(
                (Report.unit_id, Report.category_code, Report.ward_code),
                received=True, to_process=is_open,
                open_late=and_(is_open, late), open_on_time=and_(is_open, ~late),
                due_soon=and_(is_open, running, ~late, resolve.c.due_at < at + DUE_SOON),
                returned=was_returned))
            .select_from(Report).outerjoin(resolve, literal(True))
            .where(Report.created_at >= start, Report.created_at < end))


def _answers(start: datetime, end: datetime):
    """Moves to ``resolved`` in the window, each judged by the RESOLVE cycle it ended."""
    answer = aliased(ReportEvent)
    # The cycle an answer ends is the first RESOLVE clock stopped at or after it (the
    # workflow stops it at the same instant; earlier cycles stopped before).
    cycle = (select(SlaClock.due_at, SlaClock.stopped_at, SlaClock.outcome)
             .where(SlaClock.report_id == answer.report_id, SlaClock.kind == "RESOLVE",
                    SlaClock.stopped_at >= answer.created_at)
             .order_by(SlaClock.cycle, SlaClock.id).limit(1)
             .lateral("cycle"))
    on_time = func.coalesce(cycle.c.outcome == "met", cycle.c.stopped_at <= cycle.c.due_at)
    late = func.coalesce(cycle.c.outcome == "breached", cycle.c.stopped_at > cycle.c.due_at)
    reopen = aliased(ReportEvent)
    was_reopened = exists().where(reopen.report_id == answer.report_id,
                                  reopen.to_status == "reopened",
                                  reopen.created_at > answer.created_at)
    hours = cast(extract("epoch", answer.created_at - Report.created_at) / 3600, Float)
    return (select(*_fact(
                (Report.unit_id, Report.category_code, Report.ward_code), hours=hours,
                answered=True, resolved_on_time=on_time, resolved_late=late,
                reopened=was_reopened))
            .select_from(answer).join(Report, Report.id == answer.report_id)
            .outerjoin(cycle, literal(True))
            .where(answer.to_status == "resolved", answer.created_at >= start,
                   answer.created_at < end))


def _ratings(start: datetime, end: datetime):
    return (select(*_fact(
                (Report.unit_id, Report.category_code, Report.ward_code),
                rated=True, satisfied=ReportRating.score >= SATISFIED_SCORE))
            .select_from(ReportRating).join(Report, Report.id == ReportRating.report_id)
            .where(ReportRating.created_at >= start, ReportRating.created_at < end))


# group_by name → (facts column, reference table, its key, code and name columns)
_DIMENSIONS = {
    "unit": ("unit_id", Unit, Unit.id, Unit.code, Unit.name_vi),
    "category": ("category_code", Category, Category.code, Category.code, Category.name_vi),
    "ward": ("ward_code", Ward, Ward.code, Ward.code, Ward.name),
}


def statement(start: datetime, end: datetime, group_by: list[str], now: datetime):
    """The one query: totals first, then one row per group in the wall's order."""
    facts = union_all(_received(start, end, now), _answers(start, end),
                      _ratings(start, end)).subquery("facts")
    sums = [func.coalesce(func.sum(facts.c[f]), 0).label(f) for f in FLAGS]
    hours = [func.percentile_cont(p).within_group(facts.c.hours).label(name)
             for p, name in ((0.5, "median_hours"), (0.9, "p90_hours"))]
    if not group_by:
        return select(literal(True).label("is_total"), *sums, *hours).select_from(facts)
    # Aggregate on the ids, then fetch the names for the few group rows.
    dims = [facts.c[_DIMENSIONS[name][0]] for name in group_by]
    agg = (select((func.grouping(dims[0]) == 1).label("is_total"), *dims, *sums, *hours)
           .group_by(func.grouping_sets(tuple_(*dims), tuple_()))
           .subquery("agg"))
    keys, codes, source = [], [], agg
    for name in group_by:
        column, table, pk, code, label = _DIMENSIONS[name]
        source = source.outerjoin(table, pk == agg.c[column])
        codes.append(code)
        keys += [code.label(f"{name}_code"), label.label(f"{name}_name")]
    return (select(agg.c.is_total, *keys, *[agg.c[f] for f in FLAGS],
                   agg.c.median_hours, agg.c.p90_hours)
            .select_from(source)
            .order_by(agg.c.is_total.desc(), agg.c.open_late.desc(), agg.c.received.desc(),
                      *[c.asc().nulls_last() for c in codes]))


def _pct(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, ROUND_HALF_UP))


def _one_decimal(value: float | None) -> float | None:
    if value is None:
        return None
    return float(Decimal(repr(float(value))).quantize(_TENTH, ROUND_HALF_UP))


def figures(row) -> dict:
    """The published figures from one row of sums (see docs/kpis.md for each formula)."""
    n = {f: int(getattr(row, f, 0) or 0) for f in FLAGS}
    judged = n["resolved_on_time"] + n["resolved_late"]
    out = {f: n[f] for f in ("received", "to_process", "resolved_on_time", "resolved_late",
                              "open_on_time", "open_late", "due_soon")}
    out.update(
        on_time_pct=_pct(n["resolved_on_time"], judged),
        late_pct=_pct(n["resolved_late"], judged),
        median_hours=_one_decimal(getattr(row, "median_hours", None)),
        p90_hours=_one_decimal(getattr(row, "p90_hours", None)),
        return_rate=_pct(n["returned"], n["received"]),
        reopen_rate=_pct(n["reopened"], n["answered"]),
        satisfaction_pct=_pct(n["satisfied"], n["rated"]))
    return out


def compute(session: Session, start: datetime, end: datetime, group_by: list[str],
            now: datetime | None = None) -> dict:
    """``{"totals": figures, "groups": [{"key": {...}, **figures}, ...]}`` for [start, end)."""
    now = now or datetime.now(timezone.utc)
    rows = session.execute(statement(start, end, group_by, now)).all()
    totals = next((figures(r) for r in rows if r.is_total), None) or figures(None)
    groups = []
    for r in rows:
        if r.is_total:
            continue
        key = {}
        for name in group_by:
            key[f"{name}_code"] = getattr(r, f"{name}_code")
            key[f"{name}_name"] = getattr(r, f"{name}_name")
        groups.append({"key": key, **figures(r)})
    return {"totals": totals, "groups": groups}
