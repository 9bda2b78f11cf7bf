"""Admin endpoints for IOC webhook subscribers: register, list, disable, inspect deliveries,
retry the dead letters, replay from an event id."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, g
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import func, select

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import staff_required
from api.ioc import webhooks
from api.ioc.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription, WEBHOOK_STATUSES

blp = Blueprint("ioc_webhooks", __name__, url_prefix="/api/v1/admin/webhooks",
                description="IOC webhook subscribers (admin role)")
STAFF_AUTH = [{"staff": []}]


class WebhookIn(Schema):
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000))
    secret = fields.String(load_default=None, validate=validate.Length(min=16, max=200), metadata={
        "description": "HMAC key for X-Signature; omit to have one generated (shown once)"})
    types = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                        load_default=lambda: list(EVENT_TYPES), validate=validate.Length(min=1))

    @validates("url")
    def _https_in_production(self, value, **_):
        if current_app.config["APP"].APP_ENV == "production" and urlsplit(value).scheme != "https":
            raise ValidationError("Webhook URLs must use https in production.")


class WebhookOut(Schema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    types = fields.List(fields.String())
    active = fields.Boolean()
    created_at = LocalDateTime()
    disabled_at = LocalDateTime(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Deliveries by status"})


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(metadata={"description": "Shown once: store it to verify signatures"})


class WebhookListOut(Schema):
    items = fields.List(fields.Nested(WebhookOut))


class DeliveryArgs(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(WEBHOOK_STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DeliveryOut(Schema):
    id = fields.Integer()
    event_id = fields.Integer(attribute="ioc_event_id")
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = LocalDateTime()
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = LocalDateTime(allow_none=True)


class DeliveryListOut(Schema):
    items = fields.List(fields.Nested(DeliveryOut))


class ReplayIn(Schema):
    from_event_id = fields.Integer(required=True, validate=validate.Range(min=1))


class CountOut(Schema):
    queued = fields.Integer()


def _counts(sub_id: int) -> dict:
    rows = db.session.execute(select(WebhookDelivery.status, func.count()).where(
        WebhookDelivery.subscription_id == sub_id).group_by(WebhookDelivery.status)).all()
    return {status: 0 for status in WEBHOOK_STATUSES} | dict(rows)


def _out(sub: WebhookSubscription) -> dict:
    return {"id": sub.id, "name": sub.name, "url": sub.url, "types": sub.types,
            "active": sub.active, "created_at": sub.created_at, "disabled_at": sub.disabled_at,
            "counts": _counts(sub.id)}


def _get(sub_id: int) -> WebhookSubscription:
    sub = db.session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise ApiError(404, "WEBHOOK_NOT_FOUND", "Không tìm thấy webhook.")
    return sub


@blp.route("", methods=["GET"])
@staff_required("admin")
@blp.response(200, WebhookListOut)
@blp.doc(security=STAFF_AUTH)
def list_webhooks():
    subs = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    return {"items": [_out(s) for s in subs]}


@blp.route("", methods=["POST"])
@staff_required("admin")
@blp.arguments(WebhookIn)
@blp.response(201, WebhookCreatedOut)
@blp.doc(security=STAFF_AUTH)
def create_webhook(body):
    """Register a subscriber; events from now on are delivered to it (replay for older ones)."""
    secret = body["secret"] or webhooks.new_secret()
    sub = WebhookSubscription(name=body["name"] or urlsplit(body["url"]).netloc, url=body["url"],
                              secret=secret, types=sorted(set(body["types"])), active=True,
                              created_by=g.staff.id, created_at=datetime.now(timezone.utc))
    db.session.add(sub)
    db.session.flush()
    out = _out(sub) | {"secret": secret}
    db.session.commit()
    return out


@blp.route("/<int:sub_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(204)
@blp.alt_response(404, description="WEBHOOK_NOT_FOUND")
@blp.doc(security=STAFF_AUTH)
def disable_webhook(sub_id: int):
    """Stop deliveries to a subscriber; its record and delivery history stay."""
    sub = _get(sub_id)
    if sub.active:
        sub.active, sub.disabled_at = False, datetime.now(timezone.utc)
    db.session.commit()


@blp.route("/<int:sub_id>/deliveries", methods=["GET"])
@staff_required("admin")
@blp.arguments(DeliveryArgs, location="query")
@blp.response(200, DeliveryListOut)
@blp.alt_response(404, description="WEBHOOK_NOT_FOUND")
@blp.doc(security=STAFF_AUTH)
def list_deliveries(args, sub_id: int):
    """Recent deliveries, newest first; ``status=dead`` lists the dead letters."""
    _get(sub_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
    if args["status"]:
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    return {"items": db.session.scalars(stmt.order_by(WebhookDelivery.id.desc())
                                        .limit(args["limit"])).all()}


@blp.route("/<int:sub_id>/replay", methods=["POST"])
@staff_required("admin")
@blp.arguments(ReplayIn)
@blp.response(202, CountOut)
@blp.alt_response(404, description="WEBHOOK_NOT_FOUND")
@blp.alt_response(409, description="WEBHOOK_DISABLED")
@blp.doc(security=STAFF_AUTH)
def replay_webhook(body, sub_id: int):
    """Deliver again every event from ``from_event_id`` on (of the subscriber's types)."""
    sub = _get(sub_id)
    if not sub.active:
        raise ApiError(409, "WEBHOOK_DISABLED", "Webhook đã bị tắt.")
    queued = webhooks.replay(db.session, sub, body["from_event_id"])
    db.session.commit()
    return {"queued": queued}


@blp.route("/<int:sub_id>/retry-dead", methods=["POST"])
@staff_required("admin")
@blp.response(202, CountOut)
@blp.alt_response(404, description="WEBHOOK_NOT_FOUND")
@blp.doc(security=STAFF_AUTH)
def retry_dead(sub_id: int):
    """Put the dead letters back in the queue (after the receiver is fixed)."""
    queued = webhooks.retry_dead(db.session, _get(sub_id))
    db.session.commit()
    return {"queued": queued}
