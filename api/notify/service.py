"""Citizens hear of changes: devices, the inbox, and one push per (event, device).

``notify_followers`` runs in the publishing task: it writes an inbox entry per follower
(rendered in their device's language) and a pending delivery per device. ``deliver``
sends one delivery, holding its row lock, so concurrent workers never send it twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.identity.models import Citizen
from api.notify import templates
from api.notify.fcm import PushSender
from api.notify.models import Device, Notification, PushDelivery
from api.reports.models import Report, ReportEvent, ReportFollower
from api.reports.outbox import lease
from api.sla.models import SlaClock

log = logging.getLogger(__name__)


# --- devices -----------------------------------------------------------------------------

def register_device(session: Session, citizen: Citizen, *, token: str, platform: str, locale: str,
                    app_version: str | None) -> tuple[Device, bool]:
    """Idempotent: the same token again updates it; a token seen under another citizen (the
    phone changed hands, or signed in) moves to this one. Returns (device, created)."""
    now = datetime.now(timezone.utc)
    existing = session.scalar(select(Device).where(Device.token == token).with_for_update())
    if existing is None:
        inserted = session.execute(
            insert(Device).values(citizen_id=citizen.id, token=token, platform=platform,
                                  locale=locale, app_version=app_version, created_at=now,
                                  updated_at=now)
            .on_conflict_do_nothing(index_elements=["token"]).returning(Device.id)).scalar()
        if inserted is not None:
            return session.get(Device, inserted), True
        existing = session.scalar(select(Device).where(Device.token == token).with_for_update())
    existing.citizen_id, existing.platform, existing.locale = citizen.id, platform, locale
    existing.app_version, existing.updated_at = app_version, now
    return existing, False


def unregister_device(session: Session, citizen: Citizen, device_id: int) -> bool:
    return bool(session.execute(delete(Device).where(
        Device.id == device_id, Device.citizen_id == citizen.id)).rowcount)


# --- the inbox and the deliveries of one event -------------------------------------------

def notify_followers(session: Session, event: ReportEvent, now: datetime | None = None
                     ) -> list[int]:
    """Inbox entries and pending pushes for ``event``; returns the ids of new deliveries."""
    kind = event.to_status
    if (not event.public or kind not in templates.PUSH_KINDS
            or (event.from_status == kind and kind != "routed")):
        return []
    now = now or datetime.now(timezone.utc)
    report = session.get(Report, event.report_id)
    followers = session.execute(
        select(Citizen.id, Citizen.locale).join(ReportFollower, ReportFollower.citizen_id == Citizen.id)
        .where(ReportFollower.report_id == report.id)).all()
    if not followers:
        return []
    devices = session.execute(select(Device.id, Device.citizen_id, Device.locale).where(
        Device.citizen_id.in_([f.id for f in followers]))).all()
    due_at = _due(session, report)
    base = current_app.config["PUBLIC_BASE_URL"]
    delivery_ids = []
    for follower in followers:
        # The inbox speaks the language of the follower's newest device, else their own.
        own = [d for d in devices if d.citizen_id == follower.id]
        locale = own[-1].locale if own else (follower.locale or "vi")
        text = templates.render(kind, locale, code=report.code,
                                unit_name=report.unit.name_vi if report.unit else None,
                                note=event.note, due_at=due_at,
                                duplicate_of=(event.data or {}).get("duplicate_of"))
        notification_id = session.execute(
            insert(Notification).values(citizen_id=follower.id, report_id=report.id,
                                        event_id=event.id, kind=kind, title=text.title,
                                        body=text.body, data={}, created_at=now)
            .on_conflict_do_nothing(constraint="uq_notification_citizen_event")
            .returning(Notification.id)).scalar()
        if notification_id is None:
            continue  # published before: its deliveries exist already
        data = templates.data_payload(kind=kind, code=report.code, status=report.status,
                                      event_id=event.id, notification_id=notification_id,
                                      report_url=f"{base}/api/v1/reports/{report.code}")
        session.execute(update(Notification).where(Notification.id == notification_id)
                        .values(data=data))
        if own:
            delivery_ids += session.scalars(
                insert(PushDelivery).values([
                    {"event_id": event.id, "device_id": d.id, "notification_id": notification_id,
                     "status": "pending", "attempts": 0, "created_at": now,
                     "next_attempt_at": now + lease()} for d in own])
                .on_conflict_do_nothing(constraint="uq_push_delivery_event_device")
                .returning(PushDelivery.id)).all()
    return delivery_ids


# --- sending -----------------------------------------------------------------------------

def sender() -> PushSender:
    push = current_app.extensions.get("push_sender")
    if push is None:
        push = PushSender(current_app.config["APP"])
        current_app.extensions["push_sender"] = push
    return push


def deliver(session: Session, delivery_id: int, now: datetime | None = None) -> str:
    """Send one pending delivery; returns its status afterwards (or 'skipped')."""
    row = session.scalar(select(PushDelivery).where(
        PushDelivery.id == delivery_id, PushDelivery.status == "pending")
        .with_for_update(skip_locked=True))
    if row is None:
        return "skipped"  # done already, or another worker holds it
    now = now or datetime.now(timezone.utc)
    device = session.get(Device, row.device_id) if row.device_id else None
    if device is None:
        row.status, row.last_error = "pruned", "device unregistered"
        return row.status
    push = sender()
    if not push.enabled:
        row.status, row.last_error = "failed", "push is not configured (FCM_CREDENTIALS_FILE)"
        return row.status
    note = session.get(Notification, row.notification_id)
    # The title and body are rendered again in this device's language (the inbox holds one).
    event = session.get(ReportEvent, row.event_id)
    report = session.get(Report, event.report_id)
    text = templates.render(note.kind, device.locale, code=report.code,
                            unit_name=report.unit.name_vi if report.unit else None,
                            note=event.note, due_at=_due(session, report),
                            duplicate_of=(event.data or {}).get("duplicate_of"))
    row.attempts += 1
    outcome = push.send(token=device.token, platform=device.platform, title=text.title,
                        body=text.body, data=note.data, collapse_key=report.code)
    cfg = current_app.config["APP"]
    if outcome.status == "sent":
        row.status, row.sent_at, row.fcm_message_id, row.last_error = (
            "sent", now, outcome.message_id, None)
    elif outcome.status == "prune":
        row.status, row.last_error = "pruned", outcome.error
        session.execute(delete(Device).where(Device.id == device.id))
        log.info("pruned device %s: %s", device.id, outcome.error)
    elif outcome.status == "retry" and row.attempts < cfg.PUSH_MAX_ATTEMPTS:
        wait = outcome.retry_after or min(cfg.PUSH_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1),
                                          cfg.PUSH_RETRY_MAX_SECONDS)
        row.next_attempt_at, row.last_error = now + timedelta(seconds=wait), outcome.error
    else:
        row.status, row.last_error = "failed", outcome.error
    return row.status


def _due(session: Session, report: Report):
    return session.scalar(select(SlaClock.due_at).where(
        SlaClock.report_id == report.id, SlaClock.kind == "RESOLVE", SlaClock.stopped_at.is_(None))
        .order_by(SlaClock.cycle.desc()).limit(1))

