"""Shapes of the chat API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.common.fields import LocalDateTime
from api.reports.schemas import NfcSchema

SENDER = validate.Regexp(r"^[A-Za-z0-9._:-]{8,128}$",
                         error="8–128 characters: letters, digits, . _ : -")


class ChatIn(NfcSchema):
    sender = fields.String(required=True, validate=SENDER, metadata={
        "description": "The conversation: a random id the app keeps per install (a UUID)"})
    message = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "What the person typed, or a button's payload (e.g. `/check_status`), or "
                       '`/share_location{"lat":21.18,"lon":106.07}`'})


class ChatButton(Schema):
    title = fields.String()
    payload = fields.String()


class ChatMessageOut(Schema):
    """One reply. `text` replies carry buttons; cards (`report_status`, `report_created`,
    `report_draft`, `place`, …) are described in mobile_contracts/chat/cards.schema.json."""
    class Meta:
        unknown = "include"

    type = fields.String(required=True)
    text = fields.String()
    buttons = fields.List(fields.Nested(ChatButton))
    url = fields.String()


class ChatOut(Schema):
    sender = fields.String()
    messages = fields.List(fields.Dict(), metadata={
        "description": "The bot's replies in order: {type: text, text, buttons}, {type: image, url}"
                       " or a card (mobile_contracts/chat/cards.schema.json)"})


class TranscriptLine(Schema):
    speaker = fields.String(required=True, data_key="from", validate=validate.OneOf(("user", "bot")))
    text = fields.String(required=True, validate=validate.Length(max=4000))


class HandoffIn(NfcSchema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    lang = fields.String(load_default="vi", validate=validate.OneOf(("vi", "en")))
    transcript = fields.List(fields.Nested(TranscriptLine), load_default=list,
                             validate=validate.Length(max=50))
    report_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=40))


class HandoffOut(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    lang = fields.String()
    summary = fields.String()
    report_code = fields.String(allow_none=True)
    created_at = LocalDateTime()
    closed_at = LocalDateTime(allow_none=True)
    close_note = fields.String(allow_none=True)


class HandoffStaffOut(HandoffOut):
    transcript = fields.List(fields.Dict())
    citizen_id = fields.Integer(allow_none=True)


class HandoffListArgs(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "closed", "all")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class HandoffListOut(Schema):
    items = fields.List(fields.Nested(HandoffStaffOut))


class HandoffCloseIn(NfcSchema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
