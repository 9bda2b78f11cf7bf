"""Closing what nobody will close by hand (DESIGN §4, §6).

- A resolved report the citizen neither disputed nor answered closes after
  AUTOCLOSE_WORKING_DAYS working days (``no_response``; ``rated`` if they rated it).
- A report waiting for the citizen longer than the pause cap (5 working days) closes as
  ``insufficient_information``.
Batches lock rows with SKIP LOCKED, so two beat runs never close one report twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.ioc.models import ReportRating
from api.reports.models import Report
from api.reports.workflow import Actor, transition
from api.sla import service as sla
from api.sla.models import SlaClock

PAUSE_CAP_WORKING_DAYS = 5
SYSTEM = Actor("system")


def autoclose(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    now = now or datetime.now(timezone.utc)
    cal = sla.load_calendars(session).business
    days = current_app.config["APP"].AUTOCLOSE_WORKING_DAYS
    closed = 0
    # Working days only move forward: anything resolved before now - (days+2 weeks) is surely
    # due, and the calendar decides for the rest of the candidates.
    candidates = session.scalars(
        select(Report).where(Report.status == "resolved", Report.resolved_at.is_not(None),
                             Report.resolved_at < now - timedelta(days=days))
        .order_by(Report.resolved_at).limit(limit).with_for_update(skip_locked=True, of=Report)
        .execution_options(populate_existing=True)).all()
    for report in candidates:
        if cal.add_working_days(report.resolved_at, days) > now:
            continue
        rated = session.get(ReportRating, report.id) is not None
        report.close_reason = "rated" if rated else "no_response"
        transition(session, report, "closed", SYSTEM, at=now,
                   note="Tự động đóng: người dân không phản hồi kết quả xử lý." if not rated else
                   "Đóng sau khi người dân đánh giá kết quả.")
        closed += 1
    waiting = session.execute(
        select(Report, SlaClock.state["paused_at"].astext)
        .join(SlaClock, (SlaClock.report_id == Report.id) & (SlaClock.kind == "RESOLVE")
              & SlaClock.stopped_at.is_(None))
        .where(Report.status == "waiting_citizen")
        .limit(limit).with_for_update(skip_locked=True, of=Report)
        .execution_options(populate_existing=True)).all()
    for report, paused_at in waiting:
        if not paused_at:
            continue
        if cal.add_working_days(datetime.fromisoformat(paused_at), PAUSE_CAP_WORKING_DAYS) > now:
            continue
        report.close_reason = "insufficient_information"
        transition(session, report, "closed", SYSTEM, at=now,
                   note="Tự động đóng: không nhận được thông tin bổ sung sau 5 ngày làm việc.")
        closed += 1
    return closed
