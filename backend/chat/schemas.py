from marshmallow import Schema, fields, validate

from ..orders.models import KINDS
from ..orders.schemas import (RESIDENT_CHANNELS, OrderSummarySchema, RatingSchema, StrictSchema, photo_url,
                              required_text)

# The conversation id the chat gives Rasa: "resident-<id>", the id a 32-bit integer.
_SENDER = validate.Regexp(r"^resident-[0-9]{1,10}$")



class ChatSchema(StrictSchema):
    text = required_text()


class ChatReplySchema(Schema):
    replies = fields.List(fields.String())
    order_number = fields.String(allow_none=True)
    bot = fields.String()


class ParseSchema(StrictSchema):
    text = required_text()


class ParseResultSchema(Schema):
    intent = fields.Dict(allow_none=True)
    category = fields.Dict()
    entities = fields.List(fields.Dict())
    bot = fields.String()


class BotOrderCreateSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=_SENDER)
    text = required_text()
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    kind = fields.String(load_default="complaint", validate=validate.OneOf(KINDS))
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    photo_url = photo_url(load_default=None, allow_none=True)
    # Where the conversation came from (the chat passes it to Rasa as message metadata).
    channel = fields.String(load_default="h5", validate=validate.OneOf(RESIDENT_CHANNELS))
    # The bot marks what it took down without understanding it, so a person looks at it.
    flags = fields.List(fields.String(validate=validate.OneOf(["unclassified"])), load_default=list)


class BotSenderSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=_SENDER)
    number = fields.String(load_default=None)


class BotRatingSchema(RatingSchema):
    sender_id = fields.String(required=True, validate=_SENDER)


class BotCancelSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=_SENDER)


class BotOrderSchema(OrderSummarySchema):
    assignee_name_masked = fields.Function(lambda o: o.assignee.name_masked if o.assignee else None)
    category_info = fields.Function(lambda o: {"path": o.category, "confidence": o.category_confidence}
                                    if o.category else None, data_key="category_detail")


class BotOrderListSchema(Schema):
    orders = fields.List(fields.Nested(BotOrderSchema))
