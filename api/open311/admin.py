"""Admin endpoints for API keys of integrating systems (admin role): issue once, revoke.

A key carries scopes: ``open311`` for GeoReport v2, ``ioc`` for the IOC pull API and stream.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import staff_required
from api.open311 import keys
from api.open311.models import Open311ApiKey

blp = Blueprint("open311_admin", __name__, url_prefix="/api/v1/admin/open311-keys",
                description="Open311 API keys (admin role)")
STAFF_AUTH = [{"staff": []}]


class KeyIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    rate_limit_per_minute = fields.Integer(load_default=keys.DEFAULT_RATE_LIMIT,
                                           validate=validate.Range(min=1, max=100_000))
    scopes = fields.List(fields.String(validate=validate.OneOf(keys.SCOPES)),
                         load_default=lambda: ["open311"], validate=validate.Length(min=1),
                         metadata={"description": "open311 (GeoReport v2) and/or ioc (IOC feed)"})


class KeyOut(Schema):
    id = fields.Integer()
    name = fields.String()
    rate_limit_per_minute = fields.Integer()
    scopes = fields.List(fields.String())
    created_at = LocalDateTime()
    revoked_at = LocalDateTime(allow_none=True)


class KeyCreatedOut(KeyOut):
    key = fields.String(metadata={"description": "The raw key: shown once, never stored"})


class KeyListOut(Schema):
    items = fields.List(fields.Nested(KeyOut))


@blp.route("", methods=["GET"])
@staff_required("admin")
@blp.response(200, KeyListOut)
@blp.doc(security=STAFF_AUTH)
def list_keys():
    """Every key (active and revoked), without the keys themselves."""
    return {"items": db.session.scalars(select(Open311ApiKey).order_by(Open311ApiKey.id)).all()}


@blp.route("", methods=["POST"])
@staff_required("admin")
@blp.arguments(KeyIn)
@blp.response(201, KeyCreatedOut)
@blp.doc(security=STAFF_AUTH)
def create_key(body):
    """Issue a key for a partner. The raw key is in this answer only: store it now."""
    row, raw = keys.create_key(db.session, body["name"].strip(), body["rate_limit_per_minute"],
                               scopes=sorted(set(body["scopes"])))
    db.session.commit()
    return {"id": row.id, "name": row.name, "rate_limit_per_minute": row.rate_limit_per_minute,
            "scopes": row.scopes, "created_at": row.created_at, "revoked_at": None, "key": raw}


@blp.route("/<int:key_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(204)
@blp.doc(security=STAFF_AUTH)
def revoke_key(key_id: int):
    """Revoke a key: its next call gets 403. Kept for the record."""
    if keys.revoke(db.session, key_id) is None:
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy khóa API.")
    db.session.commit()
