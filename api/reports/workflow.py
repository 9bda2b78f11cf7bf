"""Moving a report through its lifecycle: one function that checks the transition table,
keeps the SLA clocks in step and writes the event (DESIGN §4, §6).

Every status change goes through :func:`transition`, whoever makes it (staff, citizen,
system), so the timeline, the clocks and the feeds (push, IOC) never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from api.errors import ApiError
from api.reference.models import Unit
from api.reports.models import Report, ReportEvent
from api.reports.states import STATUS_LABELS_VI, can_transition
from api.sla import service as sla

# Targets that end the report's life: every running clock stops with it.
_TERMINAL = ("rejected", "duplicate", "transferred_out", "closed")


@dataclass(frozen=True)
class Actor:
    kind: str  # citizen | staff | system
    id: int | None = None


def transition(session: Session, report: Report, target: str, actor: Actor, *,
               note: str | None = None, public: bool = True, unit: Unit | None = None,
               duplicate_of: Report | None = None, data: dict | None = None,
               at: datetime | None = None) -> ReportEvent:
    at = at or datetime.now(timezone.utc)
    current = report.status
    if not can_transition(current, target):
        raise ApiError(409, "INVALID_TRANSITION",
                       f"Không thể chuyển phản ánh từ “{STATUS_LABELS_VI[current]}” sang "
                       f"“{STATUS_LABELS_VI.get(target, target)}”.",
                       {"to": [f"allowed from {current}: "
                               + (", ".join(sorted(_allowed(current))) or "none")]})
    data = dict(data or {})
    if target == "routed":
        if unit is None:
            raise ApiError(422, "UNIT_REQUIRED", "Cần chọn đơn vị xử lý.", {"unit_code": ["required"]})
        report.unit_id, report.unit = unit.id, unit
        report.routed_at = report.routed_at or at
        data["unit_code"] = unit.code
    if target == "duplicate":
        if duplicate_of is None or duplicate_of.id == report.id:
            raise ApiError(422, "DUPLICATE_OF_REQUIRED", "Cần mã phản ánh gốc (khác phản ánh này).",
                           {"duplicate_of": ["required"]})
        report.duplicate_of_id, report.duplicate_of = duplicate_of.id, duplicate_of
        data["duplicate_of"] = duplicate_of.code

    _move_clocks(session, report, current, target, unit, at)
    if target == "resolved":
        report.resolved_at = at
    elif target == "reopened":
        report.resolved_at = None  # a new cycle: the next answer sets it again
    report.status = target
    report.updated_at = at
    event = ReportEvent(report_id=report.id, type="status_changed", from_status=current,
                        to_status=target, actor_kind=actor.kind, actor_id=actor.id, note=note,
                        public=public, data=data, created_at=at)
    session.add(event)
    session.flush()
    return event


def _allowed(current: str) -> frozenset[str]:
    from api.reports.states import TRANSITIONS
    return TRANSITIONS.get(current, frozenset())


def _move_clocks(session: Session, report: Report, current: str, target: str, unit: Unit | None,
                 at: datetime) -> None:
    cals = sla.load_calendars(session)
    if target == "routed":
        sla.on_assigned(session, report, unit.id, at, cals)
    elif target == "accepted":
        sla.stop_clock(session, report, "ACCEPT", at, cals)
    elif target == "waiting_citizen":
        sla.pause_report(session, report, at)
    elif current == "waiting_citizen" and target == "in_progress":
        sla.resume_report(session, report, at)
    elif target == "resolved":
        sla.resolve_report(session, report, at)
    elif target == "reopened":
        sla.reopen_report(session, report, at)
    elif target == "returned":
        # The unit gave it back: its own clocks end; the dispatcher re-routes.
        for kind in ("ACCEPT", "UNIT_RESOLVE"):
            sla.stop_clock(session, report, kind, at, cals)
    if target in _TERMINAL:
        for kind in ("TRIAGE", "ACCEPT", "RESOLVE", "UNIT_RESOLVE"):
            sla.stop_clock(session, report, kind, at, cals)
