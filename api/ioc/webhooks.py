"""Delivering CloudEvents to IOC subscribers: signed, at least once, with backoff, a
dead-letter state after the last attempt, and replay from an event id.

The body is signed as sent: ``X-Signature: sha256=<hex HMAC-SHA256(secret, body)>``.
Receivers de-duplicate on the CloudEvent ``id`` (also sent as ``X-Event-Id``).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta, timezone

import requests
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.ioc.events import body_bytes
from api.ioc.models import IocEvent, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)
USER_AGENT = "bacninh-ioc-webhooks/1"
REPLAY_LIMIT = 50_000


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _session() -> requests.Session:
    http = current_app.extensions.get("webhook_http")
    if http is None:
        http = requests.Session()
        http.headers["User-Agent"] = USER_AGENT
        current_app.extensions["webhook_http"] = http
    return http


def deliver(session: Session, delivery_id: int, now: datetime | None = None) -> str:
    """POST one pending delivery (row held locked while sending); returns its status."""
    row = session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
        .with_for_update(skip_locked=True))
    if row is None:
        return "skipped"
    sub = session.get(WebhookSubscription, row.subscription_id)
    event = session.get(IocEvent, row.ioc_event_id)
    cfg = current_app.config["APP"]
    now = now or datetime.now(timezone.utc)
    if not sub.active:
        row.status, row.last_error = "dead", "subscription disabled"
        return row.status
    body = body_bytes(event)
    headers = {"Content-Type": "application/cloudevents+json; charset=utf-8",
               "X-Signature": sign(sub.secret, body), "X-Event-Id": str(event.id),
               "X-Event-Type": event.type, "X-Delivery-Attempt": str(row.attempts + 1)}
    row.attempts += 1
    try:
        response = _session().post(sub.url, data=body, headers=headers,
                                   timeout=cfg.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
        row.last_status_code = response.status_code
        ok, error = 200 <= response.status_code < 300, f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    if ok:
        row.status, row.delivered_at, row.last_error = "delivered", now, None
    elif row.attempts >= cfg.WEBHOOK_MAX_ATTEMPTS:
        row.status, row.last_error = "dead", error
        log.warning("webhook delivery %s is dead after %d attempts: %s", row.id, row.attempts, error)
    else:
        wait = min(cfg.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1),
                   cfg.WEBHOOK_RETRY_MAX_SECONDS)
        row.next_attempt_at, row.last_error = now + timedelta(seconds=wait), error
    return row.status


def replay(session: Session, sub: WebhookSubscription, from_event_id: int,
           now: datetime | None = None) -> int:
    """Send again every event from ``from_event_id`` on (of the subscriber's types): new
    deliveries are created, delivered and dead ones go back to pending."""
    now = now or datetime.now(timezone.utc)
    ids = session.scalars(select(IocEvent.id).where(IocEvent.id >= from_event_id,
                                                    IocEvent.type.in_(sub.types))
                          .order_by(IocEvent.id).limit(REPLAY_LIMIT)).all()
    if not ids:
        return 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        session.execute(
            insert(WebhookDelivery).values([
                {"subscription_id": sub.id, "ioc_event_id": i, "status": "pending", "attempts": 0,
                 "next_attempt_at": now, "created_at": now} for i in chunk])
            .on_conflict_do_update(constraint="uq_webhook_delivery_sub_event",
                                   set_={"status": "pending", "attempts": 0, "next_attempt_at": now,
                                         "delivered_at": None, "last_error": None}))
    return len(ids)


def retry_dead(session: Session, sub: WebhookSubscription, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    return session.execute(update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=now)).rowcount
