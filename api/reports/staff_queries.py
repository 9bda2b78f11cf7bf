"""What staff read: the queue (most urgent deadline first) and the full view of a report.

Units see their own open reports; dispatchers see the triage queue (new, returned, and
anything parked at the IOC), or everything open with ``scope="all"``. The reporter's name
and phone appear to dispatchers and admins only, and each such view is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from api.errors import ApiError
from api.identity.auth import StaffPrincipal
from api.identity.models import StaffUser
from api.ioc.feed import DUE_SOON
from api.photos.models import Photo
from api.photos.urls import photo_out
from api.privacy import audit
from api.reference.models import Category, Unit, Ward
from api.reports import queries
from api.reports.models import Report, ReportEvent
from api.reports.states import STATUS_LABELS_VI
from api.reports.views import public_report
from api.sla.models import SlaClock

UNIT_QUEUE = ("routed", "accepted", "in_progress", "waiting_citizen", "reopened")
TRIAGE_QUEUE = ("new", "returned")
OPEN = UNIT_QUEUE + TRIAGE_QUEUE


@dataclass
class QueueFilters:
    status: str | None = None
    category: str | None = None
    ward: str | None = None
    overdue: bool = False
    due_soon: bool = False
    scope: str = "mine"  # dispatchers: "mine" = triage queue, "all" = every open report
    limit: int = 50
    offset: int = 0


def _urgency(staff: StaffPrincipal):
    """The report's nearest running deadline that this person answers for."""
    clock = aliased(SlaClock)
    kinds = ("TRIAGE", "RESOLVE") if staff.role in ("dispatcher", "admin") else (
        "ACCEPT", "UNIT_RESOLVE", "RESOLVE")
    return (select(func.min(clock.due_at).label("due_at"))
            .where(clock.report_id == Report.id, clock.kind.in_(kinds), clock.stopped_at.is_(None),
                   clock.state["paused_at"].astext.is_(None))
            .lateral("urgency"))


def queue(session: Session, staff: StaffPrincipal, f: QueueFilters,
          now: datetime | None = None) -> tuple[list[dict], int]:
    now = now or datetime.now(timezone.utc)
    urgency = _urgency(staff)
    assignee = aliased(StaffUser)
    stmt = (select(Report.id, Report.code, Report.status, Report.category_code,
                   Category.name_vi.label("category_name"), Ward.name.label("ward_name"),
                   Unit.code.label("unit_code"), Unit.name_vi.label("unit_name"),
                   assignee.full_name.label("assignee_name"), Report.description,
                   Report.created_at, Report.updated_at, urgency.c.due_at)
            .join(Category, Category.code == Report.category_code)
            .join(Ward, Ward.code == Report.ward_code)
            .outerjoin(Unit, Unit.id == Report.unit_id)
            .outerjoin(assignee, assignee.id == Report.assignee_id)
            .outerjoin(urgency, and_(True)))
    if staff.role in ("officer", "unit_head"):
        stmt = stmt.where(Report.unit_id == staff.unit_id, Report.status.in_(UNIT_QUEUE))
    elif f.scope == "all":
        stmt = stmt.where(Report.status.in_(OPEN))
    else:
        stmt = stmt.where(or_(Report.status.in_(TRIAGE_QUEUE),
                              and_(Unit.kind == "ioc", Report.status.in_(OPEN))))
    if f.status:
        stmt = stmt.where(Report.status == f.status)
    if f.category:
        stmt = stmt.where(Report.category_code == f.category)
    if f.ward:
        stmt = stmt.where(Report.ward_code == f.ward)
    if f.overdue:
        stmt = stmt.where(urgency.c.due_at < now)
    if f.due_soon:
        stmt = stmt.where(urgency.c.due_at >= now, urgency.c.due_at < now + DUE_SOON)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(urgency.c.due_at.asc().nulls_last(), Report.created_at)
                           .limit(f.limit).offset(f.offset)).all()
    thumbs = _first_photos(session, [r.id for r in rows])
    items = []
    for r in rows:
        state = ("none" if r.due_at is None else "overdue" if r.due_at < now else
                 "due_soon" if r.due_at < now + DUE_SOON else "on_time")
        items.append({"code": r.code, "status": r.status,
                      "status_label": STATUS_LABELS_VI.get(r.status, r.status),
                      "category_code": r.category_code, "category_name": r.category_name,
                      "ward_name": r.ward_name, "unit_code": r.unit_code, "unit_name": r.unit_name,
                      "assignee_name": r.assignee_name, "summary": r.description[:160],
                      "due_at": r.due_at, "sla_state": state, "created_at": r.created_at,
                      "updated_at": r.updated_at, "thumb_url": thumbs.get(r.id)})
    return items, total


def _first_photos(session: Session, report_ids: list[int]) -> dict[int, str]:
    if not report_ids:
        return {}
    rows = session.scalars(select(Photo).where(Photo.report_id.in_(report_ids))
                           .order_by(Photo.report_id, Photo.position)).all()
    out = {}
    for p in rows:
        out.setdefault(p.report_id, photo_out(p)["thumb_url"])
    return out


def may_view(staff: StaffPrincipal, report: Report) -> bool:
    return staff.role in ("dispatcher", "admin") or report.unit_id == staff.unit_id


def staff_view(session: Session, staff: StaffPrincipal, code: str) -> dict:
    report = queries.get_by_code(session, code)
    if not may_view(staff, report):
        raise ApiError(403, "FORBIDDEN", "Phản ánh này không thuộc đơn vị của bạn.")
    out = public_report(report)
    events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)
                             .order_by(ReportEvent.id)).all()
    names = dict(session.execute(select(StaffUser.id, StaffUser.full_name).where(
        StaffUser.id.in_({e.actor_id for e in events if e.actor_kind == "staff"}))).all())
    photos: dict[int, list[dict]] = {}
    for p in session.scalars(select(Photo).where(Photo.event_id.in_([e.id for e in events]))):
        photos.setdefault(p.event_id, []).append(photo_out(p))
    out["timeline"] = [{
        "id": e.id, "type": e.type, "from_status": e.from_status, "to_status": e.to_status,
        "status_label": STATUS_LABELS_VI.get(e.to_status) if e.to_status else None,
        "actor_kind": e.actor_kind,
        "actor_name": names.get(e.actor_id) if e.actor_kind == "staff" else (
            "Người dân" if e.actor_kind == "citizen" else "Hệ thống"),
        "note": e.note, "public": e.public, "data": e.data or {}, "created_at": e.created_at,
        "photos": photos.get(e.id, [])} for e in events]
    out["clocks"] = [{"kind": c.kind, "cycle": c.cycle, "due_at": c.due_at,
                      "stopped_at": c.stopped_at, "outcome": c.outcome,
                      "paused": bool(c.state.get("paused_at")),
                      "extended": bool(c.state.get("extended"))}
                     for c in session.scalars(select(SlaClock).where(SlaClock.report_id == report.id)
                                              .order_by(SlaClock.id))]
    assignee = session.get(StaffUser, report.assignee_id) if report.assignee_id else None
    out["assignee"] = {"id": assignee.id, "name": assignee.full_name} if assignee else None
    out["possible_duplicate_of"] = (session.get(Report, report.possible_duplicate_of_id).code
                                    if report.possible_duplicate_of_id else None)
    out["sla_class"] = report.sla_class
    out["resolved_at"] = report.resolved_at
    out["close_reason"] = report.close_reason
    if staff.role in ("dispatcher", "admin"):
        # The Hue-S rule: the reporter's identity stays with the IOC, and each look is logged.
        out["contact"] = {"name": report.contact_name, "phone": report.contact_phone,
                          "anonymous": bool(report.anonymised_at) or (
                              report.citizen.is_anonymous if report.citizen else True)}
        audit.record(session, "report.contact.viewed", report_id=report.id,
                     citizen_id=report.citizen_id, detail={"code": report.code})
    return out
