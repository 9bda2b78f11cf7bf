"""Personal data: the citizen's copy and erasure (``/api/v1/me/data``), and the admin's
audit log of every view or change of personal data (``/api/v1/admin/audit-log``)."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select, tuple_

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import current_citizen, staff_required
from api.identity.models import StaffUser
from api.privacy import service
from api.privacy.models import AuditLog
from api.reports import queries
from api.reports.models import Report
from api.reports.schemas import EventOut, PhotoOut, ReportOut

me_data_blp = Blueprint("me_data", __name__, url_prefix="/api/v1/me",
                        description="The signed-in citizen's personal data: a copy, or erasure")
audit_blp = Blueprint("audit_log", __name__, url_prefix="/api/v1/admin",
                      description="Audit log of personal-data views and changes (admin role)")
CITIZEN_AUTH = [{"firebase": []}, {"device": []}]
STAFF_AUTH = [{"staff": []}]


# --- the citizen's copy -------------------------------------------------------------------

class MyDataPhotoOut(PhotoOut):
    lat = fields.Float(allow_none=True, metadata={"description": "GPS read from the upload"})
    lon = fields.Float(allow_none=True)
    taken_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()


class MyDataContactOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class MyDataReportOut(ReportOut):
    contact = fields.Nested(MyDataContactOut, metadata={
        "description": "As given with the report (seen by IOC dispatchers only)"})
    photos = fields.List(fields.Nested(MyDataPhotoOut))
    events = fields.List(fields.Nested(EventOut), metadata={"description": "Public timeline"})
    anonymised_at = LocalDateTime(allow_none=True)


class MyDataCitizenOut(Schema):
    id = fields.Integer()
    sign_in = fields.String(metadata={"description": "firebase or device"})
    firebase_uid = fields.String(allow_none=True)
    device_id_tail = fields.String(allow_none=True,
                                   metadata={"description": "Last 6 characters of X-Device-Id"})
    phone = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    locale = fields.String()
    created_at = LocalDateTime()
    last_seen_at = LocalDateTime()


class MyDataFollowOut(Schema):
    code = fields.String()
    created_at = LocalDateTime()


class MyDataDeviceOut(Schema):
    id = fields.Integer()
    platform = fields.String()
    locale = fields.String()
    app_version = fields.String(allow_none=True)
    token_tail = fields.String(metadata={"description": "Last 6 characters of the push token"})
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class MyDataNotificationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    data = fields.Dict()
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class MyDataRatingOut(Schema):
    code = fields.String()
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    created_at = LocalDateTime()


class MyDataHandoffOut(Schema):
    reference = fields.String()
    status = fields.String()
    summary = fields.String()
    transcript = fields.List(fields.Dict())
    report_code = fields.String(allow_none=True)
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)


class MyDataOut(Schema):
    generated_at = LocalDateTime()
    citizen = fields.Nested(MyDataCitizenOut)
    reports = fields.List(fields.Nested(MyDataReportOut), metadata={"description": "Reports I sent"})
    other_photos = fields.List(fields.Nested(MyDataPhotoOut), metadata={
        "description": "Photos I uploaded that are not on one of my reports (replies, drafts)"})
    follows = fields.List(fields.Nested(MyDataFollowOut))
    devices = fields.List(fields.Nested(MyDataDeviceOut))
    notifications = fields.List(fields.Nested(MyDataNotificationOut))
    ratings = fields.List(fields.Nested(MyDataRatingOut))
    chat_handoffs = fields.List(fields.Nested(MyDataHandoffOut), metadata={
        "description": "Conversations the chatbot handed to the IOC"})


@me_data_blp.route("/data", methods=["GET"])
@me_data_blp.response(200, MyDataOut)
@me_data_blp.alt_response(401, description="UNAUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED")
@me_data_blp.doc(security=CITIZEN_AUTH)
def export_my_data():
    """Everything we hold about me, as one JSON document (the request is audited)."""
    citizen = current_citizen()
    document = service.export(db.session, citizen)
    db.session.commit()
    return document, 200, {"Cache-Control": "no-store"}


@me_data_blp.route("/data", methods=["DELETE"])
@me_data_blp.response(204)
@me_data_blp.alt_response(401, description="UNAUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED")
@me_data_blp.doc(security=CITIZEN_AUTH)
def erase_my_data():
    """Erase my personal data (devices, inbox, follows, rating comments, phone and name; my
    reports stay as public records without my contact or link to me). Idempotent. The app
    should sign out afterwards: signing in again starts an empty account."""
    citizen = current_citizen()
    service.erase(db.session, citizen)
    db.session.commit()


# --- the audit log ------------------------------------------------------------------------

class AuditLogArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    report = fields.String(validate=validate.Length(max=40),
                           metadata={"description": "A tracking code, typed in any form"})
    actor_kind = fields.String(validate=validate.OneOf(["staff", "citizen", "system"]))
    actor_id = fields.Integer()
    citizen_id = fields.Integer(metadata={"description": "Rows about this citizen"})
    action = fields.String(validate=validate.Length(max=60),
                           metadata={"description": "e.g. report.contact.viewed"})
    at_from = fields.AwareDateTime(data_key="from",
                                   metadata={"description": "ISO 8601 with offset, inclusive"})
    at_to = fields.AwareDateTime(data_key="to",
                                 metadata={"description": "ISO 8601 with offset, exclusive"})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)

    @validates_schema
    def _range(self, data, **_):
        if data.get("at_from") and data.get("at_to") and data["at_from"] > data["at_to"]:
            raise ValidationError("'from' must not be after 'to'.", "from")


class AuditLogOut(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    actor_kind = fields.String(metadata={"description": "staff, citizen or system"})
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True, metadata={"description": "Staff only"})
    action = fields.String()
    report_code = fields.String(allow_none=True)
    citizen_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    detail = fields.Dict()


class AuditLogPageOut(Schema):
    items = fields.List(fields.Nested(AuditLogOut))
    next_cursor = fields.String(allow_none=True)


def _encode_cursor(row: AuditLog) -> str:
    raw = json.dumps([row.at.isoformat(), row.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(stamp)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, int(row_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ApiError(400, "INVALID_CURSOR", "Tham số cursor không hợp lệ.", {"cursor": ["invalid"]})


@audit_blp.route("/audit-log", methods=["GET"])
@staff_required("admin")
@audit_blp.arguments(AuditLogArgs, location="query")
@audit_blp.response(200, AuditLogPageOut)
@audit_blp.alt_response(404, description="REPORT_NOT_FOUND (the report filter)")
@audit_blp.doc(security=STAFF_AUTH)
def audit_log(args):
    """Who saw or changed personal data, newest first (keyset pages: pass ``next_cursor``)."""
    session = db.session
    stmt = select(AuditLog, Report.code, StaffUser.full_name) \
        .outerjoin(Report, Report.id == AuditLog.report_id) \
        .outerjoin(StaffUser, (AuditLog.actor_kind == "staff") & (StaffUser.id == AuditLog.actor_id))
    if args.get("report"):
        stmt = stmt.where(AuditLog.report_id == queries.get_by_code(session, args["report"]).id)
    if args.get("actor_kind"):
        stmt = stmt.where(AuditLog.actor_kind == args["actor_kind"])
    if args.get("actor_id") is not None:
        stmt = stmt.where(AuditLog.actor_id == args["actor_id"])
    if args.get("citizen_id") is not None:
        stmt = stmt.where(AuditLog.citizen_id == args["citizen_id"])
    if args.get("action"):
        stmt = stmt.where(AuditLog.action == args["action"])
    if args.get("at_from"):
        stmt = stmt.where(AuditLog.at >= args["at_from"])
    if args.get("at_to"):
        stmt = stmt.where(AuditLog.at < args["at_to"])
    if args.get("cursor"):
        stmt = stmt.where(tuple_(AuditLog.at, AuditLog.id) < tuple_(*_decode_cursor(args["cursor"])))
    limit = args["limit"]
    rows = session.execute(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                           .limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    items = [{"id": a.id, "at": a.at, "actor_kind": a.actor_kind, "actor_id": a.actor_id,
              "actor_name": name, "action": a.action, "report_code": code,
              "citizen_id": a.citizen_id, "ip": a.ip, "request_id": a.request_id,
              "detail": a.detail or {}} for a, code, name in rows]
    return {"items": items, "next_cursor": _encode_cursor(rows[-1][0]) if more and rows else None}
