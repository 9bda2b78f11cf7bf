"""Request and response shapes of the tourism API (public reads, admin writes)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from api.common.fields import LocalDateTime
from api.tourism.models import CALENDARS, PLACE_KINDS


def _lang():
    return fields.String(
        load_default="vi", validate=validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
        metadata={"description": "vi (default) or en; other languages fall back to Vietnamese"})


# --- public reads ---------------------------------------------------------------------------

class PlaceListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "name, alias or words; diacritics and case ignored"})
    kind = fields.List(fields.String(validate=validate.Length(max=20)),
                       metadata={"description": f"repeatable; one of {', '.join(PLACE_KINDS)}"})
    tag = fields.List(fields.String(validate=validate.Length(max=40)),
                      metadata={"description": "repeatable; places having every tag"})
    near = fields.String(metadata={"description": "lat,lon: only places within radius, nearest first"})
    radius = fields.Integer(load_default=10_000, validate=validate.Range(min=1, max=200_000),
                            metadata={"description": "metres, with near"})
    open_now = fields.Boolean(metadata={"description": "only places open now (or at `at`)"})
    at = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset: judge open_now "
                                                       "and opening times at this instant"})
    lang = _lang()
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000))


class PlaceDetailArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    lang = _lang()
    at = fields.AwareDateTime(metadata={"description": "judge opening times at this instant"})


class LangArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    lang = _lang()


class FoodArgs(LangArgs):
    q = fields.String(validate=validate.Length(max=100))


class EventArgs(LangArgs):
    from_ = fields.Date(data_key="from", metadata={"description": "first day (default: today)"})
    to = fields.Date(metadata={"description": "last day (default: from + 365 days)"})


class TourismWardRef(Schema):
    code = fields.String()
    name = fields.String()


class PlacePhotoOut(Schema):
    id = fields.UUID()
    url = fields.String()
    thumb_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class OpenStateOut(Schema):
    open_now = fields.Boolean(allow_none=True, metadata={"description": "null: hours unknown"})
    opens_at = LocalDateTime(allow_none=True)
    closes_at = LocalDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class PlaceSummaryOut(OpenStateOut):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    name_vi = fields.String()
    address = fields.String(allow_none=True)
    ward = fields.Nested(TourismWardRef, allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    distance_m = fields.Float(allow_none=True)
    tags = fields.List(fields.String())
    rating = fields.Float(allow_none=True)
    rating_count = fields.Integer()
    thumb_url = fields.String(allow_none=True)
    unverified = fields.List(fields.String(), metadata={
        "description": "fields not yet checked by an administrator (show them as approximate)"})


class PlacePageOut(Schema):
    lang = fields.String()
    items = fields.List(fields.Nested(PlaceSummaryOut))
    next_offset = fields.Integer(allow_none=True)


class TicketOut(Schema):
    label = fields.String()
    price_vnd = fields.Integer(allow_none=True, metadata={"description": "0: free; null: unknown"})


class HoursExceptionOut(Schema):
    date = fields.String()
    until = fields.String()
    closed = fields.Boolean()
    hours = fields.List(fields.List(fields.String()))
    note = fields.String(allow_none=True)


class OpeningHoursOut(Schema):
    weekly = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.String())),
                         metadata={"description": "mon…sun → [[\"HH:MM\", \"HH:MM\"], …]; "
                                                  "a missing day is closed"})
    always_open = fields.Boolean()
    exceptions = fields.List(fields.Nested(HoursExceptionOut))
    note = fields.String(allow_none=True)


class OccurrenceOut(Schema):
    start = fields.Date()
    end = fields.Date()
    main_day = fields.Date()


class EventRefOut(OccurrenceOut):
    id = fields.Integer()
    name = fields.String()


class PlaceOut(PlaceSummaryOut):
    lang = fields.String()
    aliases = fields.List(fields.String())
    description = fields.String(allow_none=True)
    opening_hours = fields.Nested(OpeningHoursOut, allow_none=True)
    tickets = fields.List(fields.Nested(TicketOut))
    phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    photos = fields.List(fields.Nested(PlacePhotoOut))
    events = fields.List(fields.Nested(EventRefOut),
                         metadata={"description": "festivals here in the next 365 days"})


class LunarDateOut(Schema):
    month = fields.Integer()
    day = fields.Integer()
    leap = fields.Boolean()


class PlaceRef(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    lat = fields.Float()
    lon = fields.Float()


class TourismEventOut(OccurrenceOut):
    id = fields.Integer()
    name = fields.String()
    name_vi = fields.String()
    description = fields.String(allow_none=True)
    calendar = fields.String(metadata={"description": "solar or lunar"})
    lunar_date = fields.Nested(LunarDateOut, allow_none=True,
                               metadata={"description": "the main day in the lunar calendar"})
    venue = fields.String(allow_none=True)
    place = fields.Nested(PlaceRef, allow_none=True)
    ward = fields.Nested(TourismWardRef, allow_none=True)
    tags = fields.List(fields.String())
    unverified = fields.List(fields.String())


class TourismEventPageOut(Schema):
    lang = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    items = fields.List(fields.Nested(TourismEventOut))


class FoodOut(Schema):
    id = fields.Integer()
    name = fields.String()
    name_vi = fields.String()
    description = fields.String(allow_none=True)
    where = fields.String(allow_none=True, metadata={"description": "where to find it, in words"})
    season = fields.String(allow_none=True)
    places = fields.List(fields.Nested(PlaceRef))
    tags = fields.List(fields.String())
    unverified = fields.List(fields.String())


class FoodListOut(Schema):
    lang = fields.String()
    items = fields.List(fields.Nested(FoodOut))


# --- admin writes ---------------------------------------------------------------------------

class TicketIn(Schema):
    label_vi = fields.String(required=True, validate=validate.Length(min=1, max=200))
    label_en = fields.String(validate=validate.Length(max=200), allow_none=True)
    price_vnd = fields.Integer(validate=validate.Range(min=0, max=100_000_000), allow_none=True)


_TEXT = validate.Length(max=10_000)
_TAG = fields.String(validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"))


class PlaceIn(Schema):
    slug = fields.String(validate=validate.Regexp(r"^[a-z0-9-]{2,80}$"))
    kind = fields.String(required=True, validate=validate.OneOf(PLACE_KINDS))
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(max=200), allow_none=True)
    aliases = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                          validate=validate.Length(max=30))
    description_vi = fields.String(validate=_TEXT, allow_none=True)
    description_en = fields.String(validate=_TEXT, allow_none=True)
    address_vi = fields.String(validate=validate.Length(max=300), allow_none=True)
    address_en = fields.String(validate=validate.Length(max=300), allow_none=True)
    ward_code = fields.String(validate=validate.Length(equal=5), allow_none=True,
                              metadata={"description": "default: the ward at lat/lon"})
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    opening_hours = fields.Dict(allow_none=True,
                                metadata={"description": "see docs/tourism.md (weekly + exceptions)"})
    tickets = fields.List(fields.Nested(TicketIn), validate=validate.Length(max=30))
    phone = fields.String(validate=validate.Length(max=40), allow_none=True)
    website = fields.Url(validate=validate.Length(max=300), allow_none=True)
    tags = fields.List(_TAG, validate=validate.Length(max=30))
    rating = fields.Float(validate=validate.Range(min=0, max=5), allow_none=True)
    rating_count = fields.Integer(validate=validate.Range(min=0))
    unverified = fields.List(fields.String(validate=validate.Length(max=40)),
                             metadata={"description": "default on edit: the previous list less "
                                                      "the fields this request sets"})
    photo_ids = fields.List(fields.UUID(), validate=validate.Length(max=30),
                            metadata={"description": "staff photos, in display order"})
    active = fields.Boolean()


class PlacePatch(PlaceIn):
    """Only the fields sent change."""
    kind = fields.String(validate=validate.OneOf(PLACE_KINDS))
    name_vi = fields.String(validate=validate.Length(min=1, max=200))
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))


class PlaceAdminOut(Schema):
    id = fields.Integer()
    slug = fields.String()
    kind = fields.String()
    name_vi = fields.String()
    name_en = fields.String(allow_none=True)
    aliases = fields.List(fields.String())
    description_vi = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    address_vi = fields.String(allow_none=True)
    address_en = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    opening_hours = fields.Dict(allow_none=True)
    tickets = fields.List(fields.Dict())
    phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    rating = fields.Float(allow_none=True)
    rating_count = fields.Integer()
    unverified = fields.List(fields.String())
    photos = fields.List(fields.Nested(PlacePhotoOut), attribute="photos_out")
    active = fields.Boolean()
    updated_at = LocalDateTime()


class PlacePhotoUploadIn(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class EventIn(Schema):
    slug = fields.String(validate=validate.Regexp(r"^[a-z0-9-]{2,80}$"))
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(validate=validate.Length(max=200), allow_none=True)
    description_vi = fields.String(validate=_TEXT, allow_none=True)
    description_en = fields.String(validate=_TEXT, allow_none=True)
    calendar = fields.String(required=True, validate=validate.OneOf(CALENDARS))
    month = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    day = fields.Integer(required=True, validate=validate.Range(min=1, max=31))
    leap_month = fields.Boolean(metadata={"description": "lunar only: the leap month"})
    starts_before_days = fields.Integer(validate=validate.Range(min=0, max=30))
    duration_days = fields.Integer(validate=validate.Range(min=1, max=60))
    year = fields.Integer(validate=validate.Range(min=1901, max=2099), allow_none=True,
                          metadata={"description": "only in this year; null: every year"})
    place_id = fields.Integer(allow_none=True)
    venue_vi = fields.String(validate=validate.Length(max=300), allow_none=True)
    venue_en = fields.String(validate=validate.Length(max=300), allow_none=True)
    ward_code = fields.String(validate=validate.Length(equal=5), allow_none=True)
    tags = fields.List(_TAG, validate=validate.Length(max=30))
    unverified = fields.List(fields.String(validate=validate.Length(max=40)))
    active = fields.Boolean()

    @validates_schema
    def _lunar_day(self, data, **_):
        if data.get("calendar") == "lunar" and data.get("day", 0) > 30:
            raise ValidationError("A lunar month has at most 30 days.", "day")
        if data.get("calendar") == "solar" and data.get("leap_month"):
            raise ValidationError("Only a lunar date has a leap month.", "leap_month")


class EventPatch(EventIn):
    """Only the fields sent change."""
    name_vi = fields.String(validate=validate.Length(min=1, max=200))
    calendar = fields.String(validate=validate.OneOf(CALENDARS))
    month = fields.Integer(validate=validate.Range(min=1, max=12))
    day = fields.Integer(validate=validate.Range(min=1, max=31))


class EventAdminOut(Schema):
    id = fields.Integer()
    slug = fields.String()
    name_vi = fields.String()
    name_en = fields.String(allow_none=True)
    description_vi = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    calendar = fields.String()
    month = fields.Integer()
    day = fields.Integer()
    leap_month = fields.Boolean()
    starts_before_days = fields.Integer()
    duration_days = fields.Integer()
    year = fields.Integer(allow_none=True)
    place_id = fields.Integer(allow_none=True)
    venue_vi = fields.String(allow_none=True)
    venue_en = fields.String(allow_none=True)
    ward_code = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    unverified = fields.List(fields.String())
    active = fields.Boolean()
    next = fields.List(fields.Nested(OccurrenceOut),
                       metadata={"description": "the next occurrences (three years)"})
    updated_at = LocalDateTime()
