"""marshmallow schemas for the order API. Validation only: no queries, no permission checks."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..labels import label
from .models import CHANNELS, GRADES, KINDS
from . import states

_text = validate.Length(min=1, max=2000)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def _not_blank(value: str):
    if not value.strip():
        raise ValidationError("must not be blank")


def required_text() -> fields.String:
    """A resident's or worker's text: present, not blank, at most 2000 characters."""
    return fields.String(required=True, validate=[_text, _not_blank])


class OrderCreateSchema(StrictSchema):
    text = required_text()
    kind = fields.String(load_default="complaint", validate=validate.OneOf(KINDS))
    channel = fields.String(load_default="h5", validate=validate.OneOf(CHANNELS))
    grade = fields.String(load_default="normal", validate=validate.OneOf(GRADES))
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    building_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    photos = fields.List(fields.Url(schemes={"http", "https"}), load_default=list,
                         validate=validate.Length(max=9))


class RatingSchema(StrictSchema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class NoteSchema(StrictSchema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class OrderListArgs(StrictSchema):
    state = fields.String(load_default=None, validate=validate.OneOf(states.STATES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class EventSchema(Schema):
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor_type = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AttachmentSchema(Schema):
    url = fields.String()
    kind = fields.String()


class OrderBaseSchema(Schema):
    """Fields everyone with access to an order sees; the resident and staff views add to it."""
    number = fields.String()
    state = fields.String()
    state_label = fields.Function(lambda o: label("states", o.state))
    kind = fields.String()
    grade = fields.String()
    category = fields.String(allow_none=True)
    text = fields.String()
    location_text = fields.String(allow_none=True)
    community = fields.Function(lambda o: o.community.name if o.community else None)
    flags = fields.List(fields.String())
    claim_by = fields.DateTime(allow_none=True)
    resolve_by = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)
    reopen_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    photos = fields.Function(lambda o: [a.url for a in o.attachments])
    events = fields.List(fields.Nested(EventSchema))


class OrderSchema(OrderBaseSchema):
    """What the resident who sent the order sees: their own data, staff names masked."""
    channel = fields.String()
    category_confidence = fields.Float(allow_none=True)
    grid = fields.Function(lambda o: o.grid.name if o.grid else None)
    assignee = fields.Function(lambda o: o.assignee.name_masked if o.assignee else None)
    rating_score = fields.Integer(allow_none=True)


class OrderSummarySchema(OrderSchema):
    class Meta:
        exclude = ("events",)


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderSummarySchema))
