"""The citizen's devices (for push) and inbox (for everyone, push or not)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select, update

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import current_citizen
from api.notify.models import LOCALES, PLATFORMS, Device, Notification
from api.notify.service import register_device, unregister_device

blp = Blueprint("me_notifications", __name__, url_prefix="/api/v1/me",
                description="The signed-in citizen's devices and notifications")
CITIZEN_AUTH = [{"firebase": []}, {"device": []}]


class DeviceIn(Schema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=4096),
                          metadata={"description": "The FCM registration token"})
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    locale = fields.String(load_default="vi", validate=validate.OneOf(LOCALES))
    app_version = fields.String(load_default=None, validate=validate.Length(max=40))


class DeviceOut(Schema):
    id = fields.Integer()
    platform = fields.String()
    locale = fields.String()
    app_version = fields.String(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "The report's new status"})
    code = fields.String()
    title = fields.String()
    body = fields.String()
    data = fields.Dict(keys=fields.String(), values=fields.String())
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class NotificationArgs(Schema):
    before = fields.Integer(load_default=None, metadata={"description": "Page: ids below this"})
    limit = fields.Integer(load_default=30, validate=validate.Range(min=1, max=100))
    unread = fields.Boolean(load_default=False)


class NotificationPageOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    unread_count = fields.Integer()
    next_before = fields.Integer(allow_none=True)


class MarkReadIn(Schema):
    ids = fields.List(fields.Integer(), load_default=None, validate=validate.Length(max=500),
                      metadata={"description": "Omit to mark everything read"})


class MarkReadOut(Schema):
    marked = fields.Integer()
    unread_count = fields.Integer()


@blp.route("/devices", methods=["POST"])
@blp.arguments(DeviceIn)
@blp.response(201, DeviceOut)
@blp.alt_response(200, schema=DeviceOut, description="The token was registered already (updated)")
@blp.doc(security=CITIZEN_AUTH)
def add_device(body):
    """Register this phone for push (idempotent per token; send it again when it rotates)."""
    citizen = current_citizen()
    device, created = register_device(db.session, citizen, token=body["token"],
                                      platform=body["platform"], locale=body["locale"],
                                      app_version=body["app_version"])
    db.session.commit()
    return device, 201 if created else 200


@blp.route("/devices/<int:device_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="DEVICE_NOT_FOUND")
@blp.doc(security=CITIZEN_AUTH)
def remove_device(device_id: int):
    """Stop push to this phone (sign-out, or push turned off in the app)."""
    citizen = current_citizen()
    if not unregister_device(db.session, citizen, device_id):
        raise ApiError(404, "DEVICE_NOT_FOUND", "Không tìm thấy thiết bị.")
    db.session.commit()


def _unread(citizen_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.citizen_id == citizen_id, Notification.read_at.is_(None))) or 0


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationArgs, location="query")
@blp.response(200, NotificationPageOut)
@blp.doc(security=CITIZEN_AUTH)
def list_notifications(args):
    """My inbox, newest first: every change of the reports I sent or follow."""
    citizen = current_citizen()
    stmt = select(Notification).where(Notification.citizen_id == citizen.id)
    if args["before"]:
        stmt = stmt.where(Notification.id < args["before"])
    if args["unread"]:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = db.session.scalars(stmt.order_by(Notification.id.desc()).limit(args["limit"] + 1)).all()
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    items = [{"id": n.id, "kind": n.kind, "code": (n.data or {}).get("code"), "title": n.title,
              "body": n.body, "data": n.data, "created_at": n.created_at, "read_at": n.read_at}
             for n in rows]
    out = {"items": items, "unread_count": _unread(citizen.id),
           "next_before": rows[-1].id if more else None}
    db.session.commit()  # a first visit creates the citizen row
    return out


@blp.route("/notifications/read", methods=["POST"])
@blp.arguments(MarkReadIn)
@blp.response(200, MarkReadOut)
@blp.doc(security=CITIZEN_AUTH)
def mark_read(body):
    """Mark some (``ids``) or all of my notifications read."""
    citizen = current_citizen()
    stmt = update(Notification).where(Notification.citizen_id == citizen.id,
                                      Notification.read_at.is_(None))
    if body["ids"] is not None:
        stmt = stmt.where(Notification.id.in_(body["ids"]))
    marked = db.session.execute(stmt.values(read_at=datetime.now(timezone.utc))).rowcount
    db.session.commit()
    return {"marked": marked, "unread_count": _unread(citizen.id)}
