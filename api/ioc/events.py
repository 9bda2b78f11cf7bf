"""Report events → CloudEvents 1.0 for the IOC: recorded once, fanned out to subscribers.

One report event may give several CloudEvents (a routing is both ``report.routed`` and
``report.status_changed``). Each is written once (unique per source event and type);
``ioc_event.id`` is its CloudEvent id and its position for replay and the stream.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.common.fields import LOCAL_TZ
from api.ioc.feed import report_snapshot
from api.ioc.models import IocEvent, WebhookDelivery, WebhookSubscription
from api.reports.models import ReportEvent
from api.reports.outbox import lease

SPEC_VERSION = "1.0"
SOURCE_PATH = "/api/v1/reports"


def ioc_types(event: ReportEvent) -> list[str]:
    """Which CloudEvent types a report event stands for (DESIGN §7)."""
    if event.type == "created":
        return ["report.created"]
    if event.type in ("sla.warning", "sla.breached"):
        return [event.type]
    if event.type == "sla.escalated":
        return ["sla.breached"]  # the same breach, now with leadership: data.level says so
    if event.type == "rated":
        return ["report.rated"]
    types = []
    if event.type in ("routed", "triage") or (event.to_status == "routed"
                                              and event.from_status != "routed"):
        types.append("report.routed")
    if event.to_status and event.from_status and event.to_status != event.from_status:
        types.append("report.status_changed")
    elif event.to_status == "routed" and event.from_status == "routed":
        types.append("report.routed")  # a re-route to another unit
    return list(dict.fromkeys(types))


def _event_data(event: ReportEvent, snapshot: dict) -> dict:
    change = {"type": event.type, "from_status": event.from_status, "to_status": event.to_status,
              "actor_kind": event.actor_kind,
              "at": event.created_at.astimezone(LOCAL_TZ).isoformat()}
    if event.public and event.note:
        change["note"] = event.note
    extra = {k: v for k, v in (event.data or {}).items()
             if k in ("clock", "percent", "level", "notify", "due_at", "unit_code",
                      "duplicate_of", "possible_duplicate_of", "score")}
    if event.type == "sla.escalated":
        extra["level"] = "leadership"
    if event.type == "triage":
        extra["triage"] = True
    return snapshot | {"change": change | extra}


def record(session: Session, event: ReportEvent, now: datetime | None = None) -> list[IocEvent]:
    """Write the CloudEvents of ``event`` (idempotent); returns the rows this call created."""
    types = ioc_types(event)
    if not types:
        return []
    snapshot = report_snapshot(session, event.report_id, now)
    if snapshot is None:
        return []
    data = _event_data(event, snapshot)
    created = []
    for ce_type in types:
        new_id = session.execute(
            insert(IocEvent).values(source_event_id=event.id, report_id=event.report_id,
                                    type=ce_type, subject=snapshot["code"], time=event.created_at,
                                    data=data)
            .on_conflict_do_nothing(constraint="uq_ioc_event_source_type")
            .returning(IocEvent.id)).scalar()
        if new_id is not None:
            created.append(session.get(IocEvent, new_id))
    return created


def cloudevent(row: IocEvent) -> dict:
    """The structured-mode CloudEvent. SLA state and due time ride as extension attributes."""
    base = current_app.config["PUBLIC_BASE_URL"]
    data = row.data
    return {
        "specversion": SPEC_VERSION, "id": str(row.id), "source": base + SOURCE_PATH,
        "type": row.type, "subject": row.subject,
        "time": row.time.astimezone(LOCAL_TZ).isoformat(),
        "datacontenttype": "application/json",
        "dataschema": base + "/api/v1/ioc/schema/event-data.json",
        "slastate": data.get("sla_state"), "sladue": data.get("resolve_due_at"),
        "data": data,
    }


def body_bytes(row: IocEvent) -> bytes:
    return json.dumps(cloudevent(row), ensure_ascii=False, separators=(",", ":")).encode()


def fan_out(session: Session, rows: list[IocEvent], now: datetime | None = None) -> list[int]:
    """One pending delivery per (active subscriber wanting the type, event); returns their ids."""
    if not rows:
        return []
    now = now or datetime.now(timezone.utc)
    subs = session.scalars(select(WebhookSubscription).where(
        WebhookSubscription.active.is_(True))).all()
    values = [{"subscription_id": s.id, "ioc_event_id": r.id, "status": "pending", "attempts": 0,
               "next_attempt_at": now + lease(), "created_at": now}
              for r in rows for s in subs if r.type in s.types]
    if not values:
        return []
    return list(session.scalars(
        insert(WebhookDelivery).values(values)
        .on_conflict_do_nothing(constraint="uq_webhook_delivery_sub_event")
        .returning(WebhookDelivery.id)))


def stream_channel() -> str:
    """The Redis channel of the live stream, per database (one Redis may serve several)."""
    from sqlalchemy.engine import make_url
    from api.db import db
    return f"ioc:{make_url(str(db.engine.url)).database}:events"
