"""The transactional outbox: work recorded with the change, sent after commit.

A row is written in the same transaction as the change. The API also sends
the task at once after commit; the row's ``next_attempt_at`` is a lease: if
the task has not marked the row processed by then (broker lost the message,
a worker died mid-task), the relay sends it again. Tasks are idempotent, so
a second delivery changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.reports.models import OutboxMessage

# Outbox topic → the Celery task that handles it (by name: api never imports workers).
TASKS = {"report.route": "reports.route", "event.publish": "events.publish"}


def task_args(row: OutboxMessage) -> list:
    """The task's arguments: the subject's id, then the outbox row's id (to mark it done)."""
    subject = row.event_id if row.topic == "event.publish" else row.report_id
    return [subject, row.id]


def lease() -> timedelta:
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def lease_due(session: Session, *, limit: int = 500, now: datetime | None = None
              ) -> list[OutboxMessage]:
    """Rows whose lease ran out, locked and re-leased (concurrent relays skip each other's)."""
    now = now or datetime.now(timezone.utc)
    rows = list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at).limit(limit)
        .with_for_update(skip_locked=True)))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease() * min(2 ** (row.attempts - 1), 32)
    return rows


def lease_due_deliveries(session: Session, model, *, limit: int = 500,
                         now: datetime | None = None) -> list[int]:
    """Pending push or webhook deliveries (``model``) whose time has come — a retry, or a
    first message the broker lost — locked and re-leased; returns their ids."""
    now = now or datetime.now(timezone.utc)
    ids = session.scalars(select(model.id).where(model.status == "pending",
                                                 model.next_attempt_at <= now)
                          .order_by(model.next_attempt_at).limit(limit)
                          .with_for_update(skip_locked=True)).all()
    if ids:
        session.execute(update(model).where(model.id.in_(ids)).values(next_attempt_at=now + lease()))
    return list(ids)


def mark_processed(session: Session, outbox_id: int, *, error: str | None = None) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id)
                    .values(processed_at=datetime.now(timezone.utc), last_error=error))
