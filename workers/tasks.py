"""Named tasks. Each takes ids, opens one unit of work, calls one domain service."""
from __future__ import annotations

import logging
import time

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from api.db import DatabaseUnavailable, db
from api.ioc import webhooks
from api.ioc.models import WebhookDelivery
from api.logs import bind
from api.notify import service as notify
from api.notify.models import PushDelivery
from api.reports import outbox
from api.reports.publish import announce, publish_event
from api.routing.geocode import AddressLookup
from api.routing.service import route_report
from api.sla import service as sla

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, DatabaseUnavailable)


def _geocoder() -> AddressLookup:
    lookup = current_app.extensions.get("address_lookup")
    if lookup is None:
        lookup = AddressLookup(current_app.config["APP"].NOMINATIM_URL)
        current_app.extensions["address_lookup"] = lookup
    return lookup


@shared_task(name="reports.route", autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=60,
             max_retries=20)
def route(report_id: int, outbox_id: int | None = None) -> str:
    bind(report_id=report_id)
    with db.unit_of_work() as session:
        outcome = route_report(session, report_id, _geocoder())
        if outbox_id is not None:
            outbox.mark_processed(session, outbox_id)
    log.info("route report %s: %s", report_id, outcome.status,
             extra={"report_id": report_id, "unit": outcome.unit_code})
    return outcome.status


SWEEP_BATCH = 1000
SWEEP_BUDGET_SECONDS = 50.0  # leave room before the next minute's sweep


@shared_task(name="sla.sweep", autoretry_for=TRANSIENT, max_retries=3)
def sla_sweep() -> int:
    """Advance every clock whose next check has come (warnings, breach, escalation), in
    batches of one transaction each, until none is due or the minute's budget is spent."""
    started, checked = time.monotonic(), 0
    while time.monotonic() - started < SWEEP_BUDGET_SECONDS:
        with db.unit_of_work() as session:
            n = sla.sweep(session, limit=SWEEP_BATCH)
        checked += n
        if n < SWEEP_BATCH:
            break
    if checked:
        log.info("SLA sweep checked %d clock(s)", checked)
    return checked


@shared_task(name="outbox.relay", autoretry_for=TRANSIENT, max_retries=3)
def relay() -> int:
    """Re-send outbox work whose lease ran out (lost message, dead worker, broker restart)."""
    sender = current_app.extensions["celery"]
    with db.unit_of_work() as session:
        rows = outbox.lease_due(session)
        for row in rows:
            name = outbox.TASKS.get(row.topic)
            if name is None:
                outbox.mark_processed(session, row.id, error=f"no task for topic {row.topic}")
                continue
            sender.send_task(name, args=outbox.task_args(row))
    if rows:
        log.info("outbox relay re-sent %d message(s)", len(rows))
    return len(rows)


@shared_task(name="events.publish", autoretry_for=TRANSIENT, retry_backoff=True,
             retry_backoff_max=60, max_retries=20)
def publish(event_id: int, outbox_id: int | None = None) -> int:
    """Fan one report event out: CloudEvents + webhook deliveries, inbox + push deliveries;
    after commit, send each delivery and announce the events on the live stream."""
    sender = current_app.extensions["celery"]
    with db.unit_of_work() as session:
        published = publish_event(session, event_id)
        if outbox_id is not None:
            outbox.mark_processed(session, outbox_id)
    for delivery_id in published.push_ids:
        _send(sender, "push.deliver", delivery_id)
    for delivery_id in published.webhook_ids:
        _send(sender, "webhooks.deliver", delivery_id)
    announce(published)
    return len(published.push_ids) + len(published.webhook_ids)


def _send(sender, name: str, delivery_id: int) -> None:
    try:
        sender.send_task(name, args=[delivery_id])
    except Exception as exc:  # the deliveries sweep sends it when its lease runs out
        log.warning("could not enqueue %s(%s) now: %s", name, delivery_id, exc)


@shared_task(name="push.deliver", autoretry_for=TRANSIENT, max_retries=5)
def push_deliver(delivery_id: int) -> str:
    with db.unit_of_work() as session:
        return notify.deliver(session, delivery_id)


@shared_task(name="webhooks.deliver", autoretry_for=TRANSIENT, max_retries=5)
def webhook_deliver(delivery_id: int) -> str:
    with db.unit_of_work() as session:
        return webhooks.deliver(session, delivery_id)


@shared_task(name="deliveries.sweep", autoretry_for=TRANSIENT, max_retries=3)
def deliveries_sweep() -> int:
    """Send the push and webhook deliveries whose retry time has come, and those whose
    first message was lost (a broker restart, a dead worker)."""
    sender = current_app.extensions["celery"]
    with db.unit_of_work() as session:
        push_ids = outbox.lease_due_deliveries(session, PushDelivery)
        hook_ids = outbox.lease_due_deliveries(session, WebhookDelivery)
    for delivery_id in push_ids:
        _send(sender, "push.deliver", delivery_id)
    for delivery_id in hook_ids:
        _send(sender, "webhooks.deliver", delivery_id)
    return len(push_ids) + len(hook_ids)


@shared_task(name="reports.autoclose", autoretry_for=TRANSIENT, max_retries=3)
def reports_autoclose() -> int:
    """Close resolved reports nobody disputed, and reports whose citizen never answered."""
    from api.reports.autoclose import autoclose
    with db.unit_of_work() as session:
        closed = autoclose(session)
    if closed:
        log.info("auto-closed %d report(s)", closed)
    return closed
