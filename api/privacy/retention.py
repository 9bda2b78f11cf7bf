"""Retention with anonymisation (DESIGN §10): a report keeps its reporter's identity for
``RETENTION_DAYS`` (default 1095 = 3 years, counted from ``created_at``; 0 switches it
off), and only while it may still need them: closed, rejected, duplicate and transferred
reports, and reports resolved more than 30 days ago, are then cut from their reporter
(:func:`api.privacy.service.detach_reports`: contact NULL, ``anonymised_at`` set, owner →
the shared ``anon:retention`` row). Open reports wait until they close.

Batches lock their rows with SKIP LOCKED, so two runs (a beat run and a CLI run) never
work the same report, and a report being worked by staff is simply taken next time.
Each batch is its own transaction and writes one ``reports.anonymised`` audit row.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.db import db
from api.privacy import audit
from api.privacy.service import anonymised_citizen_id, detach_reports
from api.reports.models import Report

FINAL_STATUSES = ("closed", "rejected", "duplicate", "transferred_out")
RESOLVED_GRACE = timedelta(days=30)
BATCH = 500


def _due(before: datetime, now: datetime):
    return and_(
        Report.created_at < before, Report.anonymised_at.is_(None),
        or_(Report.status.in_(FINAL_STATUSES),
            and_(Report.status == "resolved", Report.resolved_at < now - RESOLVED_GRACE)))


def count_due(session: Session, *, before: datetime, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Report).where(_due(before, now))) or 0


def anonymise_batch(session: Session, *, before: datetime, now: datetime,
                    limit: int = BATCH) -> int:
    """Anonymise up to ``limit`` due reports (oldest first); returns how many."""
    ids = list(session.scalars(select(Report.id).where(_due(before, now))
                               .order_by(Report.created_at, Report.id).limit(limit)
                               .with_for_update(skip_locked=True)))
    if not ids:
        return 0
    count = detach_reports(session, ids, now=now, anon_id=anonymised_citizen_id(session))
    audit.record(session, "reports.anonymised", actor_kind="system",
                 detail={"count": count, "before": before.isoformat()})
    return count


def run(*, days: int | None = None, now: datetime | None = None, batch: int = BATCH,
        dry_run: bool = False) -> int:
    """Anonymise every due report, one transaction per batch; returns the count (with
    ``dry_run``, how many would be anonymised, changing nothing). Needs an app context."""
    days = current_app.config["APP"].RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    now = now or datetime.now(timezone.utc)
    before = now - timedelta(days=days)
    if dry_run:
        with db.unit_of_work() as session:
            return count_due(session, before=before, now=now)
    total = 0
    while True:
        with db.unit_of_work() as session:
            n = anonymise_batch(session, before=before, now=now, limit=batch)
        total += n
        if n < batch:
            return total
