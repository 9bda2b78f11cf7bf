"""Staff endpoints: the queue, the full view of a report, and each action of the workflow.

Officers and unit heads act on their unit's reports only; dispatchers and admins on any.
Each endpoint is one parse, one call into ``api.reports.actions`` / ``staff_queries``,
one commit. The console calls the same functions.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import current_staff
from api.reference.models import SLA_CLASSES, Unit
from api.reports import actions, queries, schemas, staff_queries
from api.reports.states import STATUSES
from api.reports.views import public_report
from api.reports.workflow import Actor, transition
from api.text import clean

blp = Blueprint("staff_reports", __name__, url_prefix="/api/v1/staff/reports",
                description="Staff: the queue and the actions on a report")
STAFF_AUTH = [{"staff": []}]
UNIT_TARGETS = frozenset({"accepted", "in_progress", "waiting_citizen", "resolved", "returned"})
def _note():
    return fields.String(load_default=None, validate=validate.Length(max=2000))


# --- reading ------------------------------------------------------------------------------

class QueueArgs(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    category = fields.String(load_default=None)
    ward = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=False)
    due_soon = fields.Boolean(load_default=False)
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "all"]),
                          metadata={"description": "Dispatchers: mine = triage queue, all = every open report"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))


class QueueItemOut(Schema):
    code = fields.String()
    status = fields.String()
    status_label = fields.String()
    category_code = fields.String()
    category_name = fields.String()
    ward_name = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    summary = fields.String()
    due_at = LocalDateTime(allow_none=True)
    sla_state = fields.String()
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    thumb_url = fields.String(allow_none=True)


class QueueOut(Schema):
    items = fields.List(fields.Nested(QueueItemOut))
    total = fields.Integer()


class TimelineOut(Schema):
    id = fields.Integer()
    type = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    status_label = fields.String(allow_none=True)
    actor_kind = fields.String()
    actor_name = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    public = fields.Boolean()
    data = fields.Dict()
    created_at = LocalDateTime()
    photos = fields.List(fields.Dict())


class ClockOut(Schema):
    kind = fields.String()
    cycle = fields.Integer()
    due_at = LocalDateTime()
    stopped_at = LocalDateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    paused = fields.Boolean()
    extended = fields.Boolean()


class ContactOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    anonymous = fields.Boolean()


class StaffReportOut(schemas.ReportOut):
    timeline = fields.List(fields.Nested(TimelineOut))
    clocks = fields.List(fields.Nested(ClockOut))
    assignee = fields.Dict(allow_none=True)
    possible_duplicate_of = fields.String(allow_none=True)
    sla_class = fields.String(allow_none=True)
    resolved_at = LocalDateTime(allow_none=True)
    close_reason = fields.String(allow_none=True)
    contact = fields.Nested(ContactOut, metadata={"description": "Dispatchers and admins only (audited)"})


@blp.route("/queue")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueueOut)
@blp.doc(security=STAFF_AUTH)
def get_queue(args):
    """My queue, most urgent deadline first (units: their open reports; dispatchers: triage)."""
    staff = current_staff()
    items, total = staff_queries.queue(db.session, staff, staff_queries.QueueFilters(**args))
    return {"items": items, "total": total}


@blp.route("/<code>")
@blp.response(200, StaffReportOut)
@blp.alt_response(403, description="FORBIDDEN (another unit's report)")
@blp.alt_response(404, description="REPORT_NOT_FOUND")
@blp.doc(security=STAFF_AUTH)
def get_report(code):
    """Everything about a report for staff: internal timeline, clocks; contact for dispatchers."""
    staff = current_staff()
    out = staff_queries.staff_view(db.session, staff, code)
    db.session.commit()  # the audit row of a contact view
    return out


# --- acting -------------------------------------------------------------------------------

def _done(report):
    db.session.commit()
    return public_report(report)


class NoteIn(Schema):
    note = _note()


class ReturnIn(Schema):
    reason_code = fields.String(required=True, validate=validate.OneOf(actions.RETURN_REASONS))
    suggested_unit_code = fields.String(load_default=None)
    note = _note()


class QuestionIn(Schema):
    question = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class UpdateIn(Schema):
    note = _note()
    photo_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=5))


class AssignIn(Schema):
    officer_id = fields.Integer(required=True)


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DecisionIn(Schema):
    approve = fields.Boolean(required=True)
    note = _note()


class RouteIn(Schema):
    unit_code = fields.String(required=True)
    note = _note()


class CategoryIn(Schema):
    category = fields.String(required=True)


class ClassIn(Schema):
    sla_class = fields.String(required=True, validate=validate.OneOf(SLA_CLASSES))


class RejectIn(Schema):
    reason_code = fields.String(required=True, validate=validate.OneOf(actions.REJECT_REASONS))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DuplicateIn(Schema):
    duplicate_of = fields.String(required=True)


def _action(path: str, schema, doc: str, call, errors: str):
    """Register POST /<code>/<path>: parse ``schema``, ``call(session, staff, code, body)``."""
    def view(body, code):
        staff = current_staff()
        return _done(call(db.session, staff, code, body))
    view.__name__ = "action_" + path.replace("-", "_").replace("/", "_")
    view.__doc__ = doc
    view = blp.doc(security=STAFF_AUTH)(view)
    view = blp.alt_response(409, description="INVALID_TRANSITION and the action's own conflicts")(view)
    view = blp.alt_response(422, description=errors)(view)
    view = blp.alt_response(403, description="FORBIDDEN")(view)
    view = blp.response(200, schemas.ReportOut)(view)
    view = blp.arguments(schema)(view)
    blp.route(f"/<code>/{path}", methods=["POST"])(view)


_action("accept", NoteIn, "Unit: accept the report (starts the work; the ACCEPT clock stops).",
        lambda s, st, c, b: actions.accept(s, st, c, clean(b["note"])), "VALIDATION_ERROR")
_action("return", ReturnIn, "Unit: give it back to the dispatcher with a reason (and a suggested unit).",
        lambda s, st, c, b: actions.return_to_dispatcher(
            s, st, c, reason_code=b["reason_code"], suggested_unit_code=b["suggested_unit_code"],
            note=clean(b["note"])), "NOTE_REQUIRED, UNKNOWN_UNIT")
_action("request-info", QuestionIn, "Unit: ask the citizen for information (the clocks pause).",
        lambda s, st, c, b: actions.request_info(s, st, c, clean(b["question"])), "NOTE_REQUIRED")
_action("progress", UpdateIn, "Unit: a public progress note, with photos from /api/v1/staff/photos.",
        lambda s, st, c, b: actions.progress(s, st, c, clean(b["note"]), b["photo_ids"]),
        "NOTE_REQUIRED, PHOTO_NOT_FOUND")
_action("resolve", UpdateIn, "Unit: answer the citizen, with evidence photos taken at the spot.",
        lambda s, st, c, b: actions.resolve(s, st, c, clean(b["note"]), b["photo_ids"]),
        "NOTE_REQUIRED, EVIDENCE_REQUIRED, EVIDENCE_NOT_LOCATED, EVIDENCE_TOO_FAR, PHOTO_NOT_FOUND")
_action("assign", AssignIn, "Unit head: give the report to an officer of the unit.",
        lambda s, st, c, b: actions.assign(s, st, c, b["officer_id"]), "UNKNOWN_OFFICER")
_action("extension", ReasonIn, "Unit: ask the unit head for the one extension the policy allows.",
        lambda s, st, c, b: actions.request_extension(s, st, c, clean(b["reason"])), "NOTE_REQUIRED")
_action("extension/decision", DecisionIn, "Unit head: approve or refuse the pending extension.",
        lambda s, st, c, b: actions.decide_extension(s, st, c, approve=b["approve"],
                                                     note=clean(b["note"])),
        "NO_EXTENSION_REQUEST, EXTENSION_NOT_ALLOWED")
_action("route", RouteIn, "Dispatcher: send it to a unit (triage, or re-route).",
        lambda s, st, c, b: actions.route(s, st, c, b["unit_code"], clean(b["note"])), "UNKNOWN_UNIT")
_action("recategorise", CategoryIn, "Dispatcher: change the category (the SLA class follows).",
        lambda s, st, c, b: actions.recategorise(s, st, c, b["category"]), "UNKNOWN_CATEGORY")
_action("class", ClassIn, "Dispatcher: change the SLA class (e.g. to urgent).",
        lambda s, st, c, b: actions.change_class(s, st, c, b["sla_class"]), "VALIDATION_ERROR")
_action("reject", RejectIn, "Dispatcher: reject (spam, not a problem, …) with a note for the citizen.",
        lambda s, st, c, b: actions.reject(s, st, c, b["reason_code"], clean(b["note"])),
        "NOTE_REQUIRED")
_action("duplicate", DuplicateIn, "Dispatcher: merge into another report (its reporter follows it).",
        lambda s, st, c, b: actions.mark_duplicate(s, st, c, b["duplicate_of"]),
        "DUPLICATE_OF_REQUIRED")
_action("transfer-out", ReasonIn, "Dispatcher: complaints and denunciations go to their own procedure.",
        lambda s, st, c, b: actions.transfer_out(s, st, c, clean(b["reason"])), "NOTE_REQUIRED")


# --- the generic transition (kept for integrations and tests) ----------------------------

class TransitionIn(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = _note()
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
    """Move the report to another status by the transition table alone (DESIGN §4); the
    named actions above add each step's own rules."""
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
    return _done(report)
