"""The IOC's view of reports: public fields plus SLA state, read in one query per page.

Shared by the pull API (``/api/v1/ioc/reports``) and the CloudEvents written for
webhooks and the stream, so both say the same thing about a report. No personal
data: the IOC wall is a screen in a room.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from api.common.fields import LOCAL_TZ
from api.reference.models import Category, Unit, Ward
from api.reports.models import Report
from api.reports.states import CLOSED_STATUSES, OPEN_STATUSES, STATUS_LABELS_VI
from api.sla.models import SlaClock

# A running RESOLVE clock due within this long is "due soon" (docs/kpis.md uses the same).
DUE_SOON = timedelta(hours=24)
SLA_STATES = ("on_time", "due_soon", "overdue", "paused", "met", "breached", "none")


def _latest_resolve():
    """The report's latest RESOLVE clock (a reopened report has one per cycle)."""
    clock = aliased(SlaClock)
    return (select(clock.due_at, clock.stopped_at, clock.outcome,
                   clock.state["paused_at"].astext.label("paused_at"))
            .where(clock.report_id == Report.id, clock.kind == "RESOLVE")
            .order_by(clock.cycle.desc(), clock.id.desc()).limit(1)
            .lateral("resolve"))


def report_rows(now: datetime | None = None):
    """SELECT of every column the IOC view needs; callers add WHERE/ORDER/LIMIT."""
    now = now or datetime.now(timezone.utc)
    resolve = _latest_resolve()
    sla_state = case(
        (resolve.c.due_at.is_(None), literal("none")),
        (resolve.c.stopped_at.is_not(None),
         case((resolve.c.outcome == "breached", literal("breached")), else_=literal("met"))),
        (resolve.c.paused_at.is_not(None), literal("paused")),
        (resolve.c.due_at < now, literal("overdue")),
        (resolve.c.due_at < now + DUE_SOON, literal("due_soon")),
        else_=literal("on_time"))
    return (select(Report.id, Report.code, Report.status, Report.category_code,
                   Category.name_vi.label("category_name"), Category.sla_class,
                   Unit.code.label("unit_code"), Unit.name_vi.label("unit_name"),
                   Report.ward_code, Ward.name.label("ward_name"), Report.lat, Report.lon,
                   Report.address, Report.source, Report.duplicate_of_id,
                   resolve.c.due_at.label("resolve_due_at"), sla_state.label("sla_state"),
                   Report.created_at, Report.updated_at)
            .join(Category, Category.code == Report.category_code)
            .join(Ward, Ward.code == Report.ward_code)
            .outerjoin(Unit, Unit.id == Report.unit_id)
            .outerjoin(resolve, literal(True)))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat() if value else None


def row_to_dict(row) -> dict:
    # A closed report's state says how it ended; an open one's how it is doing.
    state = row.sla_state
    if row.status in CLOSED_STATUSES and state in ("on_time", "due_soon", "overdue", "paused"):
        state = "none"
    return {
        "code": row.code, "status": row.status,
        "status_label": STATUS_LABELS_VI.get(row.status, row.status),
        "open311_status": "open" if row.status in OPEN_STATUSES else "closed",
        "category_code": row.category_code, "category_name": row.category_name,
        "sla_class": row.sla_class, "unit_code": row.unit_code, "unit_name": row.unit_name,
        "ward_code": row.ward_code, "ward_name": row.ward_name,
        "lat": row.lat, "lon": row.lon, "address": row.address, "source": row.source,
        "sla_state": state, "resolve_due_at": _iso(row.resolve_due_at),
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
    }


def report_snapshot(session: Session, report_id: int, now: datetime | None = None) -> dict | None:
    row = session.execute(report_rows(now).where(Report.id == report_id)).one_or_none()
    return row_to_dict(row) if row else None


def page(session: Session, *, updated_since: datetime | None, after: tuple[datetime, int] | None,
         open_only: bool, limit: int, now: datetime | None = None) -> list[dict]:
    """Reports changed since ``updated_since``, in (updated_at, id) order, after a cursor."""
    stmt = report_rows(now)
    if updated_since is not None:
        stmt = stmt.where(Report.updated_at > updated_since)
    if after is not None:
        at, rid = after
        stmt = stmt.where(or_(Report.updated_at > at, and_(Report.updated_at == at, Report.id > rid)))
    if open_only:
        stmt = stmt.where(Report.status.in_(OPEN_STATUSES))
    stmt = stmt.order_by(Report.updated_at, Report.id).limit(limit)
    return [row_to_dict(r) | {"_id": r.id, "_updated_at": r.updated_at}
            for r in session.execute(stmt)]


def feature(item: dict) -> dict:
    props = {k: v for k, v in item.items() if not k.startswith("_") and k not in ("lat", "lon")}
    return {"type": "Feature", "id": item["code"],
            "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
            "properties": props}


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Report)
                          .where(Report.status.in_(OPEN_STATUSES))) or 0
