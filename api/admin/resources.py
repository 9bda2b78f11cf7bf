"""Administration of routing rules, the working calendar and SLA policies (admin writes)."""
from __future__ import annotations

from datetime import date

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import extract, select
from sqlalchemy.exc import IntegrityError

from api.admin import schemas
from api.db import db
from api.errors import ApiError
from api.identity.auth import staff_required
from api.reference.models import Category, CategoryGroup, Unit, Ward
from api.routing.models import RoutingRule
from api.sla.models import CalendarException, SlaPolicyVersion
from api.sla.policies import policy_from_dict, policy_to_dict
from api.sla.service import current_policy, recompute_running

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin",
                description="Administration (admin role)")
STAFF_AUTH = [{"staff": []}]


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy quy tắc.")
    return rule


def _check_references(body: dict) -> Unit:
    """Every referenced code must exist; collect all problems and raise once."""
    session, errors = db.session, {}
    unit = session.scalar(select(Unit).where(Unit.code == body["unit"], Unit.active.is_(True)))
    if unit is None:
        errors["unit"] = ["Đơn vị không tồn tại."]
    for field, model in (("category", Category), ("group", CategoryGroup), ("ward", Ward)):
        if body.get(field) and session.get(model, body[field]) is None:
            errors[field] = ["Mã không tồn tại."]
    if errors:
        raise ApiError(422, "UNKNOWN_REFERENCE", "Mã tham chiếu không tồn tại.", errors)
    return unit


@blp.route("/routing-rules", methods=["GET"])
@staff_required("admin", "dispatcher")
@blp.response(200, schemas.RoutingRuleListOut)
@blp.doc(security=STAFF_AUTH)
def list_rules():
    """Active routing rules, most specific first."""
    rules = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))).all()
    return {"items": sorted(rules, key=lambda r: (-r.specificity, -r.priority, r.id))}


@blp.route("/routing-rules", methods=["POST"])
@staff_required("admin")
@blp.arguments(schemas.RoutingRuleIn)
@blp.response(201, schemas.RoutingRuleOut)
@blp.doc(security=STAFF_AUTH)
def create_rule(body):
    """Add a rule: category or group, and/or ward → unit. New reports use it at once."""
    unit = _check_references(body)
    rule = RoutingRule(category_code=body.get("category"), group_code=body.get("group"),
                       ward_code=body.get("ward"), unit_id=unit.id, priority=body["priority"],
                       note=body.get("note"))
    db.session.add(rule)
    db.session.commit()
    return rule


@blp.route("/routing-rules/<int:rule_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(204)
@blp.doc(security=STAFF_AUTH)
def delete_rule(rule_id: int):
    """Retire a rule (kept for the record, no longer applied)."""
    _rule_or_404(rule_id).active = False
    db.session.commit()


@blp.route("/calendar-exceptions", methods=["GET"])
@staff_required("admin", "dispatcher")
@blp.arguments(schemas.CalendarExceptionArgs, location="query")
@blp.response(200, schemas.CalendarExceptionListOut)
@blp.doc(security=STAFF_AUTH)
def list_exceptions(args):
    """Make-up working days, announced days off and holidays that do not apply."""
    stmt = select(CalendarException).order_by(CalendarException.day)
    if args.get("year"):
        stmt = stmt.where(extract("year", CalendarException.day) == args["year"])
    return {"items": db.session.scalars(stmt).all()}


@blp.route("/calendar-exceptions", methods=["POST"])
@staff_required("admin")
@blp.arguments(schemas.CalendarExceptionIn)
@blp.response(201, schemas.CalendarExceptionOut)
@blp.doc(security=STAFF_AUTH)
def create_exception(body):
    """Add a calendar exception."""
    problems = {}
    if body["kind"] == "working_day" and body["day"].weekday() < 5:
        problems["day"] = ["Ngày làm bù phải là thứ Bảy hoặc Chủ nhật."]
    if body["day"] < date(2000, 1, 1):
        problems["day"] = ["Ngày không hợp lệ."]
    if problems:
        raise ApiError(422, "VALIDATION_ERROR", "Dữ liệu không hợp lệ.", problems)
    exception = CalendarException(day=body["day"], kind=body["kind"], name=body.get("name"),
                                  created_by=g.staff.id)
    db.session.add(exception)
    try:
        db.session.flush()
        recompute_running(db.session)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "ALREADY_EXISTS", "Ngày này đã có ngoại lệ cùng loại.")
    return exception


@blp.route("/calendar-exceptions/<int:exception_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(204)
@blp.doc(security=STAFF_AUTH)
def delete_exception(exception_id: int):
    """Remove a calendar exception."""
    exception = db.session.get(CalendarException, exception_id)
    if exception is None:
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy.")
    db.session.delete(exception)
    db.session.flush()
    recompute_running(db.session)
    db.session.commit()


@blp.route("/sla-policies", methods=["GET"])
@staff_required("admin", "dispatcher")
@blp.response(200, schemas.SlaPolicyListOut)
@blp.doc(security=STAFF_AUTH)
def list_policies():
    """Every version of every class's targets, newest first."""
    return {"items": db.session.scalars(select(SlaPolicyVersion).order_by(
        SlaPolicyVersion.sla_class, SlaPolicyVersion.version.desc())).all()}


@blp.route("/sla-policies", methods=["POST"])
@staff_required("admin")
@blp.arguments(schemas.SlaPolicyIn)
@blp.response(201, schemas.SlaPolicyOut)
@blp.doc(security=STAFF_AUTH)
def create_policy(body):
    """A new version of a class's targets. Reports received from now on use it; running
    reports keep the version they were received under."""
    _row, current = current_policy(db.session, body["sla_class"])
    data = {"sla_class": body["sla_class"], "version": current.version + 1,
            "calendar": body["calendar"] or current.calendar,
            **{k: (None if body[k] is None else
                   {"amount": int(body[k]["amount"]) if body[k]["amount"].is_integer()
                    else body[k]["amount"], "unit": body[k]["unit"]})
               for k in ("triage", "accept", "resolve", "extension")}}
    try:
        policy = policy_from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ApiError(422, "VALIDATION_ERROR", "Chính sách không hợp lệ.", {"policy": [str(exc)]})
    row = SlaPolicyVersion(sla_class=policy.sla_class, version=policy.version,
                           body=policy_to_dict(policy), created_by=g.staff.id)
    db.session.add(row)
    db.session.commit()
    return row
