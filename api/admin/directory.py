"""Administration of the directory: staff accounts and roles, units, categories (admin role).

Records are never deleted (reports and the audit log point at them): they are deactivated.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import staff_required
from api.identity.models import STAFF_ROLES, StaffUser
from api.identity.staff import hash_password
from api.privacy import audit
from api.reference.models import (HANDLING_LEVELS, SLA_CLASSES, UNIT_KINDS, Category, CategoryGroup,
                                  Unit, Ward)
from api.text import clean, fold

blp = Blueprint("admin_directory", __name__, url_prefix="/api/v1/admin",
                description="Staff accounts, units and categories (admin role)")
STAFF_AUTH = [{"staff": []}]
UNIT_SCOPED = ("officer", "unit_head")


# --- staff ------------------------------------------------------------------------------

class StaffIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=200))
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    unit_code = fields.String(load_default=None)
    password = fields.String(required=True, validate=validate.Length(min=12, max=200),
                             load_only=True)


class StaffPatch(Schema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    unit_code = fields.String(allow_none=True)
    active = fields.Boolean()
    password = fields.String(validate=validate.Length(min=12, max=200), load_only=True)


class StaffOut(Schema):
    id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.String()
    unit_code = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = LocalDateTime()
    last_login_at = LocalDateTime(allow_none=True)


class StaffArgs(Schema):
    unit_code = fields.String(load_default=None)
    role = fields.String(load_default=None, validate=validate.OneOf(STAFF_ROLES))


class StaffListOut(Schema):
    items = fields.List(fields.Nested(StaffOut))


def _staff_out(user: StaffUser) -> dict:
    return {"id": user.id, "email": user.email, "full_name": user.full_name, "role": user.role,
            "unit_code": user.unit.code if user.unit else None, "active": user.active,
            "created_at": user.created_at, "last_login_at": user.last_login_at}


def _unit(code: str | None) -> Unit | None:
    if code is None:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ApiError(422, "UNKNOWN_REFERENCE", "Không tìm thấy đơn vị.", {"unit_code": [code]})
    return unit


def _check_password(password: str | None) -> None:
    from flask import current_app
    cfg = current_app.config["APP"]
    if password is not None and not cfg.is_demo and cfg.is_demo_staff_password(password):
        raise ApiError(422, "VALIDATION_ERROR", "Không dùng mật khẩu mẫu cho tài khoản thật.",
                       {"password": ["the demo password is refused outside demo mode"]})


def _check_scope(role: str, unit: Unit | None) -> None:
    if role in UNIT_SCOPED and unit is None:
        raise ApiError(422, "VALIDATION_ERROR", "Cán bộ đơn vị cần thuộc một đơn vị.",
                       {"unit_code": ["required for officer and unit_head"]})


@blp.route("/staff", methods=["GET"])
@staff_required("admin")
@blp.arguments(StaffArgs, location="query")
@blp.response(200, StaffListOut)
@blp.doc(security=STAFF_AUTH)
def list_staff(args):
    stmt = select(StaffUser).order_by(StaffUser.id)
    if args["unit_code"]:
        stmt = stmt.join(Unit, Unit.id == StaffUser.unit_id).where(Unit.code == args["unit_code"])
    if args["role"]:
        stmt = stmt.where(StaffUser.role == args["role"])
    return {"items": [_staff_out(u) for u in db.session.scalars(stmt)]}


@blp.route("/staff", methods=["POST"])
@staff_required("admin")
@blp.arguments(StaffIn)
@blp.response(201, StaffOut)
@blp.alt_response(409, description="ALREADY_EXISTS")
@blp.doc(security=STAFF_AUTH)
def create_staff(body):
    """Create an account (the password is set by the admin and changed by its owner)."""
    email = body["email"].strip().lower()
    if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
        raise ApiError(409, "ALREADY_EXISTS", "Email đã được dùng cho tài khoản khác.")
    unit = _unit(body["unit_code"])
    _check_scope(body["role"], unit)
    _check_password(body["password"])
    user = StaffUser(email=email, full_name=clean(body["full_name"]), role=body["role"],
                     unit_id=unit.id if unit else None, unit=unit,
                     password_hash=hash_password(body["password"]), active=True,
                     created_at=datetime.now(timezone.utc))
    db.session.add(user)
    db.session.flush()
    audit.record(db.session, "staff.created", detail={"staff_id": user.id, "role": user.role})
    out = _staff_out(user)
    db.session.commit()
    return out


@blp.route("/staff/<int:staff_id>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(StaffPatch)
@blp.response(200, StaffOut)
@blp.alt_response(404, description="NOT_FOUND")
@blp.doc(security=STAFF_AUTH)
def update_staff(body, staff_id: int):
    """Change role, unit, name, password, or deactivate (tokens already issued expire soon)."""
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy tài khoản.")
    if "unit_code" in body:
        user.unit = _unit(body["unit_code"])
        user.unit_id = user.unit.id if user.unit else None
    if "role" in body:
        user.role = body["role"]
    _check_scope(user.role, user.unit)
    if "full_name" in body:
        user.full_name = clean(body["full_name"])
    if "active" in body:
        user.active = body["active"]
    if "password" in body:
        _check_password(body["password"])
        user.password_hash = hash_password(body["password"])
    audit.record(db.session, "staff.updated",
                 detail={"staff_id": user.id, "fields": sorted(k for k in body if k != "password")
                         + (["password"] if "password" in body else [])})
    out = _staff_out(user)
    db.session.commit()
    return out


# --- units ------------------------------------------------------------------------------

class AdminUnitIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_-]{2,40}$"))
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    short_vi = fields.String(load_default=None, validate=validate.Length(max=120))
    ward_code = fields.String(load_default=None)
    phone = fields.String(load_default=None, validate=validate.Length(max=40))
    email = fields.Email(load_default=None)


class AdminUnitPatch(Schema):
    name_vi = fields.String(validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(min=1, max=200))
    short_vi = fields.String(allow_none=True, validate=validate.Length(max=120))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    email = fields.Email(allow_none=True)
    active = fields.Boolean()


class AdminUnitOut(Schema):
    code = fields.String()
    kind = fields.String()
    name_vi = fields.String()
    name_en = fields.String()
    short_vi = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    active = fields.Boolean()


class UnitListOut(Schema):
    items = fields.List(fields.Nested(AdminUnitOut))


@blp.route("/units", methods=["GET"])
@staff_required("admin")
@blp.response(200, UnitListOut)
@blp.doc(security=STAFF_AUTH)
def list_units():
    return {"items": db.session.scalars(select(Unit).order_by(Unit.kind, Unit.code)).all()}


@blp.route("/units", methods=["POST"])
@staff_required("admin")
@blp.arguments(AdminUnitIn)
@blp.response(201, AdminUnitOut)
@blp.alt_response(409, description="ALREADY_EXISTS")
@blp.doc(security=STAFF_AUTH)
def create_unit(body):
    if db.session.scalar(select(Unit).where(Unit.code == body["code"])) is not None:
        raise ApiError(409, "ALREADY_EXISTS", "Mã đơn vị đã tồn tại.")
    if body["ward_code"] and db.session.get(Ward, body["ward_code"]) is None:
        raise ApiError(422, "UNKNOWN_REFERENCE", "Không tìm thấy xã/phường.",
                       {"ward_code": [body["ward_code"]]})
    unit = Unit(**{k: (clean(v) if isinstance(v, str) else v) for k, v in body.items()},
                handles=[], verified=True, active=True)
    db.session.add(unit)
    db.session.commit()
    return unit


@blp.route("/units/<code>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(AdminUnitPatch)
@blp.response(200, AdminUnitOut)
@blp.alt_response(404, description="UNKNOWN_UNIT")
@blp.doc(security=STAFF_AUTH)
def update_unit(body, code):
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ApiError(404, "UNKNOWN_UNIT", "Không tìm thấy đơn vị.")
    for key, value in body.items():
        setattr(unit, key, clean(value) if isinstance(value, str) else value)
    db.session.commit()
    return unit


# --- categories -------------------------------------------------------------------------

class AdminCategoryIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,60}$"))
    group = fields.String(required=True)
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description_vi = fields.String(load_default=None)
    description_en = fields.String(load_default=None)
    keywords = fields.List(fields.String(validate=validate.Length(max=80)), load_default=list)
    sla_class = fields.String(required=True, validate=validate.OneOf(SLA_CLASSES))
    default_level = fields.String(required=True, validate=validate.OneOf(HANDLING_LEVELS))
    default_unit_code = fields.String(load_default=None)
    photo_required = fields.Boolean(load_default=True)
    anonymous_allowed = fields.Boolean(load_default=True)


class AdminCategoryPatch(Schema):
    name_vi = fields.String(validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(min=1, max=200))
    description_vi = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    keywords = fields.List(fields.String(validate=validate.Length(max=80)))
    sla_class = fields.String(validate=validate.OneOf(SLA_CLASSES),
                              metadata={"description": "New reports only; open ones keep theirs"})
    default_level = fields.String(validate=validate.OneOf(HANDLING_LEVELS))
    default_unit_code = fields.String(allow_none=True)
    photo_required = fields.Boolean()
    anonymous_allowed = fields.Boolean()
    active = fields.Boolean()


class AdminCategoryOut(Schema):
    code = fields.String()
    group = fields.String(attribute="group_code")
    name_vi = fields.String()
    name_en = fields.String()
    keywords = fields.List(fields.String())
    sla_class = fields.String()
    default_level = fields.String()
    default_unit_code = fields.String(allow_none=True)
    photo_required = fields.Boolean()
    anonymous_allowed = fields.Boolean()
    active = fields.Boolean()


class CategoryListOut(Schema):
    items = fields.List(fields.Nested(AdminCategoryOut))


def _fold_keywords(category: Category) -> None:
    category.keywords_folded = " | ".join(
        fold(k) for k in [category.name_vi, category.name_en, *(category.keywords or [])])


def _check_unit_code(code: str | None) -> None:
    if code is not None and db.session.scalar(select(Unit).where(Unit.code == code)) is None:
        raise ApiError(422, "UNKNOWN_REFERENCE", "Không tìm thấy đơn vị.", {"default_unit_code": [code]})


@blp.route("/categories", methods=["GET"])
@staff_required("admin")
@blp.response(200, CategoryListOut)
@blp.doc(security=STAFF_AUTH)
def list_categories():
    """Every category, active or not (the public list shows active ones only)."""
    return {"items": db.session.scalars(select(Category).order_by(Category.group_code,
                                                                  Category.sort)).all()}


@blp.route("/categories", methods=["POST"])
@staff_required("admin")
@blp.arguments(AdminCategoryIn)
@blp.response(201, AdminCategoryOut)
@blp.alt_response(409, description="ALREADY_EXISTS")
@blp.doc(security=STAFF_AUTH)
def create_category(body):
    if db.session.get(Category, body["code"]) is not None:
        raise ApiError(409, "ALREADY_EXISTS", "Mã loại phản ánh đã tồn tại.")
    if db.session.get(CategoryGroup, body["group"]) is None:
        raise ApiError(422, "UNKNOWN_REFERENCE", "Không tìm thấy nhóm.", {"group": [body["group"]]})
    _check_unit_code(body["default_unit_code"])
    data = dict(body)
    data["group_code"] = data.pop("group")
    category = Category(**data, attributes=[], active=True, sort=999)
    _fold_keywords(category)
    db.session.add(category)
    db.session.commit()
    return category


@blp.route("/categories/<code>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(AdminCategoryPatch)
@blp.response(200, AdminCategoryOut)
@blp.alt_response(404, description="UNKNOWN_CATEGORY")
@blp.doc(security=STAFF_AUTH)
def update_category(body, code):
    category = db.session.get(Category, code)
    if category is None:
        raise ApiError(404, "UNKNOWN_CATEGORY", "Không tìm thấy loại phản ánh.")
    if "default_unit_code" in body:
        _check_unit_code(body["default_unit_code"])
    for key, value in body.items():
        setattr(category, key, value)
    _fold_keywords(category)
    db.session.commit()
    return category
