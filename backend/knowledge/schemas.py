"""The bot's question and the 知识库's answer (the action server's service API)."""
from marshmallow import Schema, fields, validate

from ..fields import SENDER_PATTERN
from ..orders.schemas import StrictSchema, required_text


class BotAskSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))
    text = required_text()
    hint = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^ask_faq/[a-z_]{1,60}$"),
                         metadata={"description": "the seed the bot's ResponseSelector chose"})
    hint_confidence = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=1))


class EntryAnswerSchema(Schema):
    id = fields.Integer()
    question = fields.String()
    answer = fields.String()
    link = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    place = fields.String(allow_none=True)


class OfferSchema(Schema):
    id = fields.Integer()
    question = fields.String()


class BotAnswerSchema(Schema):
    outcome = fields.String(metadata={"description": "answered | offered (the two closest) | declined"})
    score = fields.Float()
    entry = fields.Nested(EntryAnswerSchema, allow_none=True)
    offers = fields.List(fields.Nested(OfferSchema))
