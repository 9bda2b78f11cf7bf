"""Named tasks. Each takes ids, opens one unit of work, calls one domain service."""
from __future__ import annotations

import logging
import time

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from api.db import DatabaseUnavailable, db
from api.reports import outbox
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
            sender.send_task(name, args=[row.report_id, row.id])
    if rows:
        log.info("outbox relay re-sent %d message(s)", len(rows))
    return len(rows)
