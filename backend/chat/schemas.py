from marshmallow import Schema, fields, validate

from ..fields import SENDER_PATTERN
from ..orders.models import KINDS, RESIDENT_CHANNELS
from ..orders.schemas import (DraftSchema, JoinSchema, OrderSummarySchema, RatingSchema, StrictSchema,
                              idempotency_key, photo_url, required_text)



class ChatSchema(StrictSchema):
    text = required_text()
    # Where the resident writes from, as `POST /orders` takes it: the mini-program says miniprogram.
    channel = fields.String(load_default="h5", validate=validate.OneOf(RESIDENT_CHANNELS), metadata={
        "description": "the resident's channel, kept on any order the conversation makes"})
    client_id = idempotency_key(load_default=None, allow_none=True, metadata={
        "description": "the client's id of this message: sent again (a retry), it gives the order it "
                       "already made instead of a second"})


class ButtonSchema(Schema):
    title = fields.String(metadata={"description": "what the button says (附议)"})
    payload = fields.String(metadata={"description": "send it as the next message's text when tapped"})


class ChatReplySchema(Schema):
    replies = fields.List(fields.String())
    buttons = fields.List(fields.Nested(ButtonSchema), dump_default=list, metadata={
        "description": "quick replies the bot offers after its replies (附议 / 不是一回事; none when it offers "
                       "none or is down): a tap sends the payload"})
    order_number = fields.String(allow_none=True)
    joined = fields.String(allow_none=True, metadata={
        "description": "附议: the order this message made the resident a co-reporter of"})
    bot = fields.String()


class ParseSchema(StrictSchema):
    text = required_text()


class ParseResultSchema(Schema):
    intent = fields.Dict(allow_none=True)
    category = fields.Dict()
    entities = fields.List(fields.Dict())
    bot = fields.String()


class BotOrderCreateSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))
    text = required_text()
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "omitted: predicted from the text"})
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    photo_url = photo_url(load_default=None, allow_none=True)
    # Where the conversation came from (the chat passes it to Rasa as message metadata).
    channel = fields.String(load_default="h5", validate=validate.OneOf(RESIDENT_CHANNELS))
    # The bot marks what it took down without understanding it, so a person looks at it.
    flags = fields.List(fields.String(validate=validate.OneOf(["unclassified"])), load_default=list)
    # The key the backend gave this turn (message metadata): a retried turn finds its first order.
    idempotency_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=150))


class BotSenderSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))
    number = fields.String(load_default=None)


class BotRatingSchema(RatingSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))


class BotCancelSchema(StrictSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))


class BotOrderSchema(OrderSummarySchema):
    assignee_name_masked = fields.Function(lambda o: o.assignee.name_masked if o.assignee else None)
    category_info = fields.Function(lambda o: {"path": o.category, "confidence": o.category_confidence}
                                    if o.category else None, data_key="category_detail")


class BotOrderListSchema(Schema):
    orders = fields.List(fields.Nested(BotOrderSchema))


class BotDraftSchema(DraftSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))


class BotJoinSchema(JoinSchema):
    sender_id = fields.String(required=True, validate=validate.Regexp(SENDER_PATTERN))
