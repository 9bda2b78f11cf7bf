"""A report event leaves the building: to the IOC (CloudEvents, webhooks, the stream) and to
the citizens who follow the report (inbox and push).

Every report event has an ``event.publish`` outbox row, written by a database trigger in
the event's own transaction (migration 0006), so nothing that writes an event can forget
to publish it. The API also sends the task right after commit (the fast path); the relay
re-sends when the fast path was lost. Publishing twice writes nothing twice.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import event as sa_event, update
from sqlalchemy.orm import Session

from api.common.queue import send_task_after_commit
from api.ioc import events as ioc_events
from api.ioc.models import IocEvent
from api.logs import bind
from api.notify.service import notify_followers
from api.reports.models import OutboxMessage, ReportEvent

log = logging.getLogger(__name__)
TOPIC = "event.publish"
TASK = "events.publish"


@dataclass
class Published:
    push_ids: list[int] = field(default_factory=list)
    webhook_ids: list[int] = field(default_factory=list)
    ioc_events: list[IocEvent] = field(default_factory=list)


def publish_event(session: Session, event_id: int) -> Published:
    event = session.get(ReportEvent, event_id)
    result = Published()
    if event is not None:
        bind(report_id=event.report_id)  # the deliveries it sends carry the report too
        result.ioc_events = ioc_events.record(session, event)
        result.webhook_ids = ioc_events.fan_out(session, result.ioc_events)
        result.push_ids = notify_followers(session, event)
    session.execute(update(OutboxMessage).where(
        OutboxMessage.event_id == event_id, OutboxMessage.topic == TOPIC,
        OutboxMessage.processed_at.is_(None)).values(processed_at=datetime.now(timezone.utc)))
    return result


def announce(published: Published) -> None:
    """After commit: put the new CloudEvents on the live stream (best effort: a stream
    client that missed one catches up from its Last-Event-ID)."""
    client = current_app.extensions.get("redis")
    if client is None or not published.ioc_events:
        return
    channel = ioc_events.stream_channel()
    try:
        pipe = client.pipeline(transaction=False)
        for row in published.ioc_events:
            pipe.publish(channel, json.dumps(ioc_events.cloudevent(row), ensure_ascii=False))
        pipe.execute()
    except Exception as exc:  # Redis is an accelerator here, never a gate
        log.warning("could not announce %d event(s) on the stream: %s",
                    len(published.ioc_events), exc)


def publish_after_commit(session: Session, event_ids) -> None:
    for event_id in event_ids:
        send_task_after_commit(session, TASK, [event_id, None])


def install_fast_path(session_class: type[Session]) -> None:
    """Every report event added through the ORM is sent for publishing once its transaction
    commits (bulk inserts call :func:`publish_after_commit` themselves)."""

    @sa_event.listens_for(session_class, "after_flush")
    def _collect(session: Session, _ctx):
        ids = [obj.id for obj in session.new if isinstance(obj, ReportEvent)]
        if ids:
            publish_after_commit(session, ids)
