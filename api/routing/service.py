"""Routing a new report: which unit handles it, and what the dispatcher should know.

Idempotent: the report row is locked and only a report still ``new`` and not
yet routed is routed, so a redelivered task or a second worker changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.reference.models import Category, Unit, Ward
from api.reports.models import Report, ReportEvent
from api.reports.queries import nearby_duplicates
from api.routing.geocode import AddressLookup
from api.routing.models import RoutingRule
from api.common.fields import deadline_text
from api.sla.service import load_calendars, on_assigned, running


@dataclass(frozen=True)
class RouteOutcome:
    status: str                 # "routed", "triage", "already_done", "missing"
    unit_code: str | None = None
    rule_id: int | None = None


def choose_unit(session: Session, category: Category, ward_code: str) -> tuple[Unit | None, int | None]:
    """The unit for a category in a ward: the most specific rule, else the category's default."""
    rules = session.scalars(select(RoutingRule).where(
        RoutingRule.active.is_(True),
        or_(RoutingRule.category_code == category.code,
            RoutingRule.group_code == category.group_code,
            and_(RoutingRule.category_code.is_(None), RoutingRule.group_code.is_(None))),
        or_(RoutingRule.ward_code == ward_code, RoutingRule.ward_code.is_(None)),
    )).all()
    # A rule with neither category, group nor ward would match everything: not a routing rule.
    rules = [r for r in rules if r.specificity > 0]
    if rules:
        best = max(rules, key=lambda r: (r.specificity, r.priority, -r.id))
        if best.unit.active:
            return best.unit, best.id
    if category.default_level == "province" and category.default_unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == category.default_unit_code,
                                                 Unit.active.is_(True)))
    else:
        unit = session.scalar(select(Unit).where(Unit.kind == "ward", Unit.ward_code == ward_code,
                                                 Unit.active.is_(True)))
    return unit, None


def _offline_address(session: Session, report: Report) -> str:
    ward = session.get(Ward, report.ward_code)
    return f"{ward.name}, {ward.province.name}"


def route_report(session: Session, report_id: int, geocoder: AddressLookup,
                 now: datetime | None = None) -> RouteOutcome:
    now = now or datetime.now(timezone.utc)
    report = session.scalar(select(Report).where(Report.id == report_id).with_for_update(of=Report))
    if report is None:
        return RouteOutcome("missing")
    if report.status != "new" or report.routed_at is not None:
        return RouteOutcome("already_done", report.unit.code if report.unit else None)

    unit, rule_id = choose_unit(session, report.category, report.ward_code)
    data: dict = {"rule_id": rule_id}
    duplicates = [r for r, _d in nearby_duplicates(session, report.lat, report.lon,
                                                   report.category_code)
                  if r.id != report.id and r.created_at <= report.created_at]
    if duplicates:
        report.possible_duplicate_of_id = duplicates[0].id
        data["possible_duplicate_of"] = duplicates[0].code
    if not report.address:
        report.address, data["address_source"] = geocoder.address(
            report.lat, report.lon, _offline_address(session, report))

    report.routed_at = now
    report.updated_at = now
    if unit is None or unit.kind == "ioc":
        # No unit can be chosen: the IOC dispatcher triages it by hand.
        ioc = session.scalar(select(Unit).where(Unit.kind == "ioc"))
        report.unit_id = ioc.id if ioc else None
        session.add(ReportEvent(report_id=report.id, type="triage", from_status="new",
                                to_status="new", actor_kind="system", public=False,
                                note="Chờ điều phối viên IOC phân loại.", data=data, created_at=now))
        return RouteOutcome("triage", ioc.code if ioc else None, rule_id)

    report.unit_id = unit.id
    report.status = "routed"
    on_assigned(session, report, unit.id, now, load_calendars(session))
    data["unit_code"] = unit.code
    note = f"Đã chuyển đến {unit.name_vi}."
    resolve = running(session, report, "RESOLVE")
    if resolve is not None:
        data["resolve_due_at"] = resolve.due_at.isoformat()
        note += f" Hạn trả lời: {deadline_text(resolve.due_at)}."
    session.add(ReportEvent(report_id=report.id, type="routed", from_status="new", to_status="routed",
                            actor_kind="system", public=True, note=note, data=data, created_at=now))
    return RouteOutcome("routed", unit.code, rule_id)
