from marshmallow import Schema, fields


class AttributeValueOut(Schema):
    key = fields.String()
    name_vi = fields.String()
    name_en = fields.String()


class AttributeOut(Schema):
    code = fields.String()
    datatype = fields.String()
    required = fields.Boolean()
    order = fields.Integer()
    description_vi = fields.String()
    description_en = fields.String()
    values = fields.List(fields.Nested(AttributeValueOut))


class CategoryOut(Schema):
    code = fields.String()
    group = fields.String(attribute="group_code")
    name_vi = fields.String()
    name_en = fields.String()
    description_vi = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    sla_class = fields.String()
    default_level = fields.String()
    photo_required = fields.Boolean()
    anonymous_allowed = fields.Boolean()
    attributes = fields.List(fields.Nested(AttributeOut))


class CategoryGroupOut(Schema):
    code = fields.String()
    name_vi = fields.String()
    name_en = fields.String()
    icon = fields.String(allow_none=True)
    categories = fields.List(fields.Nested(CategoryOut))


class CategoryTreeOut(Schema):
    groups = fields.List(fields.Nested(CategoryGroupOut))
