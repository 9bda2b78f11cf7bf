"""The IOC pull API and live stream (staff dispatcher/admin, or an ``ioc`` API key)."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime

from flask import Response, current_app, request, stream_with_context
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList
from sqlalchemy import select

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.ioc import feed
from api.ioc.auth import ioc_access
from api.ioc.events import cloudevent, stream_channel
from api.ioc.models import EVENT_TYPES, IocEvent

blp = Blueprint("ioc", __name__, url_prefix="/api/v1/ioc",
                description="The IOC feed: pull, events and live stream")
IOC_AUTH = [{"staff": []}, {"ioc_key": []}]
STREAM_BACKLOG = 20


class Cursor(fields.String):
    """Opaque to clients: the (updated_at, id) of the last item of the previous page."""

    def _deserialize(self, value, attr, data, **kwargs):
        raw = super()._deserialize(value, attr, data, **kwargs)
        try:
            at, rid = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
            return datetime.fromisoformat(at), int(rid)
        except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError("Invalid cursor: pass next_cursor back unchanged.") from exc


def encode_cursor(at: datetime, rid: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), rid]).encode()).decode().rstrip("=")


class ReportsArgs(Schema):
    updated_since = fields.AwareDateTime(load_default=None, metadata={
        "description": "Only reports changed after this instant (ISO 8601 with offset)"})
    cursor = Cursor(load_default=None)
    page_size = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))
    open = fields.Boolean(load_default=False, metadata={"description": "Only open reports"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "geojson"]))


class IocReportOut(Schema):
    code = fields.String()
    status = fields.String()
    status_label = fields.String()
    open311_status = fields.String()
    category_code = fields.String()
    category_name = fields.String()
    sla_class = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    ward_code = fields.String()
    ward_name = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    address = fields.String(allow_none=True)
    source = fields.String()
    sla_state = fields.String(metadata={"enum": list(feed.SLA_STATES)})
    resolve_due_at = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class IocReportPageOut(Schema):
    items = fields.List(fields.Nested(IocReportOut))
    next_cursor = fields.String(allow_none=True)


@blp.route("/reports")
@ioc_access
@blp.arguments(ReportsArgs, location="query")
@blp.response(200, IocReportPageOut, description="JSON, or a GeoJSON FeatureCollection "
              "(format=geojson or Accept: application/geo+json)")
@blp.doc(security=IOC_AUTH)
def reports(args):
    """Reports changed since a time, oldest change first, keyset-paged (no personal data)."""
    items = feed.page(db.read_session, updated_since=args["updated_since"], after=args["cursor"],
                      open_only=args["open"], limit=args["page_size"] + 1)
    more = len(items) > args["page_size"]
    items = items[:args["page_size"]]
    next_cursor = (encode_cursor(items[-1]["_updated_at"], items[-1]["_id"]) if more else None)
    wants_geo = args["format"] == "geojson" or (
        request.accept_mimetypes.best == "application/geo+json")
    if wants_geo:
        body = {"type": "FeatureCollection", "features": [feed.feature(i) for i in items],
                "next_cursor": next_cursor}
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/geo+json")
    return {"items": items, "next_cursor": next_cursor}


class EventsArgs(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "Return events with an id above this"})
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))
    types = DelimitedList(fields.String(validate=validate.OneOf(EVENT_TYPES)), load_default=list,
                          metadata={"description": "Comma-separated CloudEvent types"})


class CloudEventOut(Schema):
    specversion = fields.String()
    id = fields.String()
    source = fields.String()
    type = fields.String()
    subject = fields.String()
    time = fields.String()
    datacontenttype = fields.String()
    dataschema = fields.String()
    slastate = fields.String(allow_none=True)
    sladue = fields.String(allow_none=True)
    data = fields.Dict()


class EventPageOut(Schema):
    items = fields.List(fields.Nested(CloudEventOut))
    last_id = fields.Integer(metadata={"description": "Pass as 'after' for the next page"})


def _events_after(session, after: int, limit: int, types=None) -> list[IocEvent]:
    stmt = select(IocEvent).where(IocEvent.id > after)
    if types:
        stmt = stmt.where(IocEvent.type.in_(types))
    return list(session.scalars(stmt.order_by(IocEvent.id).limit(limit)))


@blp.route("/events")
@ioc_access
@blp.arguments(EventsArgs, location="query")
@blp.response(200, EventPageOut)
@blp.doc(security=IOC_AUTH)
def events(args):
    """The CloudEvents log in id order: catch up after a gap, or sync without webhooks."""
    rows = _events_after(db.read_session, args["after"], args["limit"], args["types"])
    return {"items": [cloudevent(r) for r in rows],
            "last_id": rows[-1].id if rows else args["after"]}


@blp.route("/schema/event-data.json")
@blp.doc(security=[])
@blp.response(200, description="JSON Schema of the CloudEvents' data (their dataschema)")
def event_data_schema():
    """The JSON Schema every IOC CloudEvent's ``data`` follows (public)."""
    from pathlib import Path
    body = (Path(__file__).resolve().parent / "event-data.schema.json").read_bytes()
    return Response(body, mimetype="application/schema+json",
                    headers={"Cache-Control": "public, max-age=3600"})


def _sse(event: dict) -> str:
    return (f"id: {event['id']}\nevent: {event['type']}\n"
            f"data: {json.dumps(event, ensure_ascii=False, separators=(',', ':'))}\n\n")


@blp.route("/stream")
@ioc_access
@blp.response(200, description="text/event-stream: `id` = event id, `event` = CloudEvent type, "
              "`data` = the CloudEvent. Without Last-Event-ID the last 20 events come first. "
              "The server ends the stream after STREAM_MAX_SECONDS; reconnect with Last-Event-ID.")
@blp.doc(security=IOC_AUTH, parameters=[{
    "in": "header", "name": "Last-Event-ID", "required": False, "schema": {"type": "string"}}])
def stream():
    """Live changes for the wall (Server-Sent Events)."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    try:
        last_id = int(raw) if raw not in (None, "") else None
    except ValueError:
        raise ApiError(400, "INVALID_LAST_EVENT_ID", "Last-Event-ID phải là số.")
    client = current_app.extensions.get("redis")
    if client is None:
        raise ApiError(503, "SERVICE_UNAVAILABLE", "Luồng sự kiện tạm thời gián đoạn.",
                       headers={"Retry-After": "5"})
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(stream_channel())  # first: nothing published from now on is missed
    except Exception:
        pubsub.close()
        raise ApiError(503, "SERVICE_UNAVAILABLE", "Luồng sự kiện tạm thời gián đoạn.",
                       headers={"Retry-After": "5"})
    if last_id is None:
        backlog = list(reversed(db.session.scalars(
            select(IocEvent).order_by(IocEvent.id.desc()).limit(STREAM_BACKLOG)).all()))
    else:
        # the primary: a lagging replica's backlog would leave a gap before the live events
        backlog = _events_after(db.session, last_id, 1000)
    backlog = [cloudevent(r) for r in backlog]
    db.session.commit()  # ends the transaction: the stream holds no database connection
    cfg = current_app.config["APP"]
    return Response(stream_with_context(_generate(pubsub, backlog, cfg)),
                    mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _generate(pubsub, backlog: list[dict], cfg):
    sent: set[str] = set()
    try:
        yield "retry: 3000\n\n"
        for event in backlog:
            sent.add(event["id"])
            yield _sse(event)
        started = last_beat = time.monotonic()
        while time.monotonic() - started < cfg.STREAM_MAX_SECONDS:
            message = pubsub.get_message(timeout=1.0)
            if message and message.get("type") == "message":
                event = json.loads(message["data"])
                if event["id"] not in sent:
                    sent.add(event["id"])
                    yield _sse(event)
            if time.monotonic() - last_beat >= cfg.STREAM_HEARTBEAT_SECONDS:
                last_beat = time.monotonic()
                yield ": keepalive\n\n"
    finally:
        pubsub.close()
