"""Shapes of report input and output. Business rules live in the service."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from api.common.fields import LocalDateTime
from api.text import nfc


class NfcSchema(Schema):
    """NFC-normalise every string on the way in, so limits count what we store."""

    @pre_load
    def _nfc(self, data, **_):
        if isinstance(data, dict):
            return {k: (nfc(v) if isinstance(v, str) else v) for k, v in data.items()}
        return data


class ContactIn(NfcSchema):
    name = fields.String(validate=validate.Length(max=200), allow_none=True)
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 .-]{8,20}$",
                                                  error="Số điện thoại không hợp lệ."),
                          allow_none=True)


class ReportIn(NfcSchema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True)
    lon = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True)
    photo_ids = fields.List(fields.UUID(), load_default=list)
    address = fields.String(validate=validate.Length(max=500), allow_none=True)
    contact = fields.Nested(ContactIn, allow_none=True)
    attributes = fields.Dict(keys=fields.String(validate=validate.Length(max=60)),
                             load_default=dict)

    @validates_schema
    def _both_or_neither(self, data, **_):
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("Cần cả vĩ độ (lat) và kinh độ (lon), hoặc bỏ cả hai.",
                                  field_name="lat")

    @pre_load
    def _strip_description(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("description"), str):
            data = dict(data, description=data["description"].strip())
        return data


class PhotoOut(Schema):
    id = fields.UUID()
    url = fields.String()
    thumb_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class NamedRef(Schema):
    code = fields.String()
    name_vi = fields.String()
    name_en = fields.String()


class WardRef(Schema):
    code = fields.String()
    name = fields.String()


class SlaOut(Schema):
    sla_class = fields.String()
    due_at = LocalDateTime(metadata={"description": "When the citizen's answer is due (RESOLVE)"})
    status = fields.String(metadata={"description": "running, paused, breached, met"})
    cycle = fields.Integer()


class ReportOut(Schema):
    """The public view: never the reporter's identity or contact."""
    code = fields.String()
    status = fields.String()
    status_label = fields.String()
    category = fields.Nested(NamedRef)
    description = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    address = fields.String(allow_none=True)
    ward = fields.Nested(WardRef)
    unit = fields.Nested(NamedRef, allow_none=True)
    attributes = fields.Dict()
    photos = fields.List(fields.Nested(PhotoOut))
    duplicate_of = fields.String(allow_none=True)
    sla = fields.Nested(SlaOut, allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    public_url = fields.String()


class ReportCreatedOut(ReportOut):
    replayed = fields.Boolean()


class EventPhotoOut(Schema):
    id = fields.UUID()
    url = fields.String()
    thumb_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class EventOut(Schema):
    type = fields.String()
    status = fields.String(allow_none=True)
    status_label = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    actor_kind = fields.String(metadata={"description": "citizen, staff or system"})
    photos = fields.List(fields.Nested(EventPhotoOut),
                         metadata={"description": "Progress and evidence photos of this step"})
    created_at = LocalDateTime()


class RatingIn(Schema):
    score = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReplyIn(Schema):
    text = fields.String(load_default=None, validate=validate.Length(max=4000))
    photo_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=5))


class DisputeIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class EventListOut(Schema):
    code = fields.String()
    events = fields.List(fields.Nested(EventOut))


class ReportListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.List(fields.String(validate=validate.Length(max=20)))
    category = fields.List(fields.String(validate=validate.Length(max=60)))
    ward = fields.List(fields.String(validate=validate.Length(max=5)))
    bbox = fields.String(metadata={"description": "min_lon,min_lat,max_lon,max_lat"})
    near = fields.String(metadata={"description": "lat,lon"})
    radius = fields.Integer(validate=validate.Range(min=1, max=50_000), load_default=1000,
                            metadata={"description": "metres, with near"})
    updated_since = fields.AwareDateTime(
        metadata={"description": "ISO 8601 with offset; results then run oldest first"})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    format = fields.String(validate=validate.OneOf(["json", "geojson"]), load_default="json")


class ReportPageOut(Schema):
    items = fields.List(fields.Nested(ReportOut))
    next_cursor = fields.String(allow_none=True)


class DuplicateArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))


class DuplicateOut(ReportOut):
    distance_m = fields.Float()


class DuplicateListOut(Schema):
    items = fields.List(fields.Nested(DuplicateOut))


class FollowOut(Schema):
    code = fields.String()
    following = fields.Boolean()


class MyReportsArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    include_followed = fields.Boolean(load_default=False)
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
