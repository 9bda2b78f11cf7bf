from marshmallow import Schema, fields, validate

from api.common.fields import LocalDateTime


class LoginIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = LocalDateTime(required=True)
    role = fields.String(required=True)
    unit_id = fields.Integer(allow_none=True)
