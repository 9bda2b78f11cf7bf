from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.common.fields import LocalDateTime
from api.reference.models import SLA_CLASSES
from api.sla.models import EXCEPTION_KINDS
from api.sla.policies import CALENDAR_KINDS, TARGET_UNITS


class RoutingRuleIn(Schema):
    category = fields.String(validate=validate.Length(min=1, max=60), allow_none=True)
    group = fields.String(validate=validate.Length(min=1, max=40), allow_none=True)
    ward = fields.String(validate=validate.Length(equal=5), allow_none=True)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))
    priority = fields.Integer(load_default=0, validate=validate.Range(min=-1000, max=1000))
    note = fields.String(validate=validate.Length(max=300), allow_none=True)

    @validates_schema
    def _scope(self, data, **_):
        if data.get("category") and data.get("group"):
            raise ValidationError("Chọn loại phản ánh hoặc nhóm, không chọn cả hai.", "group")
        if not (data.get("category") or data.get("group") or data.get("ward")):
            raise ValidationError("Quy tắc cần ít nhất loại/nhóm phản ánh hoặc phường/xã.", "category")


class RoutingRuleOut(Schema):
    id = fields.Integer()
    category = fields.String(attribute="category_code", allow_none=True)
    group = fields.String(attribute="group_code", allow_none=True)
    ward = fields.String(attribute="ward_code", allow_none=True)
    unit = fields.Function(lambda r: r.unit.code)
    priority = fields.Integer()
    active = fields.Boolean()
    note = fields.String(allow_none=True)
    created_at = LocalDateTime()


class RoutingRuleListOut(Schema):
    items = fields.List(fields.Nested(RoutingRuleOut))


class CalendarExceptionIn(Schema):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(EXCEPTION_KINDS))
    name = fields.String(validate=validate.Length(max=200), allow_none=True)


class CalendarExceptionOut(CalendarExceptionIn):
    id = fields.Integer()
    created_at = LocalDateTime()


class CalendarExceptionListOut(Schema):
    items = fields.List(fields.Nested(CalendarExceptionOut))


class CalendarExceptionArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class TargetSchema(Schema):
    amount = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=10_000))
    unit = fields.String(required=True, validate=validate.OneOf(TARGET_UNITS))


class SlaPolicyIn(Schema):
    sla_class = fields.String(required=True, validate=validate.OneOf(SLA_CLASSES))
    calendar = fields.String(validate=validate.OneOf(CALENDAR_KINDS), load_default=None)
    triage = fields.Nested(TargetSchema, required=True)
    accept = fields.Nested(TargetSchema, required=True)
    resolve = fields.Nested(TargetSchema, required=True)
    extension = fields.Nested(TargetSchema, allow_none=True, load_default=None)


class SlaPolicyOut(Schema):
    id = fields.Integer()
    sla_class = fields.String()
    version = fields.Integer()
    body = fields.Dict()
    created_at = LocalDateTime()


class SlaPolicyListOut(Schema):
    items = fields.List(fields.Nested(SlaPolicyOut))
