"""Staff actions on a report. Officers and unit heads act on their unit's reports only;
dispatchers and admins on any. The console and the unit queue build on this."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api.db import db
from api.errors import ApiError
from api.identity.auth import current_staff
from api.reference.models import Unit
from api.reports import queries, schemas
from api.reports.states import STATUSES
from api.reports.views import public_report
from api.reports.workflow import Actor, transition
from api.text import clean

blp = Blueprint("staff_reports", __name__, url_prefix="/api/v1/staff/reports",
                description="Staff actions on reports")
STAFF_AUTH = [{"staff": []}]
# What a unit may do with a report in its queue; the rest is the dispatcher's.
UNIT_TARGETS = frozenset({"accepted", "in_progress", "waiting_citizen", "resolved", "returned"})


class TransitionIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(validate=validate.Length(max=2000), load_default=None)
    public = fields.Boolean(load_default=True, metadata={
        "description": "Whether the note appears on the public timeline and in the citizen's push"})
    unit_code = fields.String(load_default=None, metadata={"description": "Required for to=routed"})
    duplicate_of = fields.String(load_default=None,
                                 metadata={"description": "Tracking code; required for to=duplicate"})


@blp.route("/<code>/transitions", methods=["POST"])
@blp.arguments(TransitionIn)
@blp.response(200, schemas.ReportOut)
@blp.alt_response(403, description="FORBIDDEN (another unit's report, or not a unit action)")
@blp.alt_response(404, description="REPORT_NOT_FOUND, UNKNOWN_UNIT")
@blp.alt_response(409, description="INVALID_TRANSITION")
@blp.alt_response(422, description="UNIT_REQUIRED, DUPLICATE_OF_REQUIRED, VALIDATION_ERROR")
@blp.doc(security=STAFF_AUTH)
def post_transition(body, code):
    """Move the report to another status (the transition table of DESIGN §4 applies)."""
    staff = current_staff()
    session = db.session
    report = queries.get_by_code_for_update(session, code)
    if staff.role in ("officer", "unit_head"):
        if report.unit_id != staff.unit_id or body["to"] not in UNIT_TARGETS:
            raise ApiError(403, "FORBIDDEN", "Bạn không có quyền thực hiện thao tác này.")
    unit = None
    if body["unit_code"]:
        unit = session.scalar(select(Unit).where(Unit.code == body["unit_code"]))
        if unit is None:
            raise ApiError(404, "UNKNOWN_UNIT", "Không tìm thấy đơn vị.")
    duplicate_of = queries.get_by_code(session, body["duplicate_of"]) if body["duplicate_of"] else None
    transition(session, report, body["to"], Actor("staff", staff.id), note=clean(body["note"]),
               public=body["public"], unit=unit, duplicate_of=duplicate_of)
    session.commit()
    return public_report(report)
