"""marshmallow schemas for disputes: validation at the edge only (no queries, no permission checks)."""
from marshmallow import Schema, fields, validate

from ..fields import BoundedInt, id_field
from ..orders.schemas import StrictSchema, photo_url, required_text
from .models import CONSENTS, METHODS, PARTY_KINDS, STATES, TOPICS

_short = validate.Length(min=1, max=80)
_text = validate.Length(max=2000)


class PartySchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(PARTY_KINDS))
    name = fields.String(required=True, validate=_short)


class DisputeCreateSchema(StrictSchema):
    """定: a dispute from an order of kind dispute (`order_number`) or directly in a grid (`grid` code)."""
    topic = fields.String(required=True, validate=validate.OneOf(TOPICS))
    subject = fields.String(load_default=None, allow_none=True, validate=_text,
                            metadata={"description": "what is in dispute (default: the order's text)"})
    parties = fields.List(fields.Nested(PartySchema), required=True, validate=validate.Length(min=2, max=30))
    order_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    grid = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class DisputeActionSchema(StrictSchema):
    """Every action's input; which fields an action requires is its lifecycle row's business."""
    reason = fields.String(load_default=None, allow_none=True, validate=_text)
    note = fields.String(load_default=None, allow_none=True, validate=_text)
    party = fields.Nested(PartySchema, load_default=None, allow_none=True)
    held_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    place = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    attendees = fields.List(fields.String(validate=_short), load_default=None, allow_none=True,
                            validate=validate.Length(max=50))
    positions = fields.String(load_default=None, allow_none=True, validate=_text)
    minutes = fields.String(load_default=None, allow_none=True, validate=_text)
    photos = fields.List(photo_url(), load_default=None, allow_none=True, validate=validate.Length(max=9))
    decision = fields.String(load_default=None, allow_none=True, validate=_text)
    method = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(METHODS))
    votes_for = BoundedInt(minimum=0, maximum=100_000, load_default=None, allow_none=True, strict=True)
    votes_against = BoundedInt(minimum=0, maximum=100_000, load_default=None, allow_none=True, strict=True)
    votes_abstain = BoundedInt(minimum=0, maximum=100_000, load_default=None, allow_none=True, strict=True)
    text = fields.String(load_default=None, allow_none=True, validate=_text)
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    building_id = id_field(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    result = fields.String(load_default=None, allow_none=True, validate=_text)
    feedback = fields.String(load_default=None, allow_none=True, validate=_text)
    party_id = id_field(load_default=None, allow_none=True)
    consent = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CONSENTS))


class DisputeListArgs(StrictSchema):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    limit = BoundedInt(minimum=1, maximum=200, load_default=50)
    offset = BoundedInt(minimum=0, maximum=1_000_000, load_default=0)


class PartyOutSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    consent = fields.String(allow_none=True)


class MeetingSchema(Schema):
    held_at = fields.DateTime()
    place = fields.String()
    attendees = fields.List(fields.String())
    positions = fields.String(allow_none=True)
    minutes = fields.String()
    photos = fields.List(fields.String())


class DisputeEventSchema(Schema):
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    level = fields.String()
    actor_type = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class DisputeSchema(Schema):
    id = fields.Integer()
    topic = fields.String()
    subject = fields.String()
    state = fields.String()
    level = fields.String()
    grid = fields.Function(lambda d: d.grid.code if d.grid else None)
    community = fields.Function(lambda d: d.community.name)
    source_order = fields.Function(lambda d: d.source_order.number if d.source_order else None)
    parties = fields.List(fields.Nested(PartyOutSchema))
    meetings = fields.List(fields.Nested(MeetingSchema))
    decision = fields.String(allow_none=True)
    decision_method = fields.String(allow_none=True)
    votes = fields.Function(lambda d: {"for": d.votes_for, "against": d.votes_against, "abstain": d.votes_abstain}
                            if d.decision_method == "vote" else None)
    tasks = fields.Function(lambda d: [{"number": t.order.number, "state": t.order.state} for t in d.tasks])
    work_result = fields.String(allow_none=True)
    feedback = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    public_text = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    allowed_actions = fields.List(fields.String())
    created_at = fields.DateTime()
    events = fields.List(fields.Nested(DisputeEventSchema))


class DisputeSummarySchema(DisputeSchema):
    class Meta:
        exclude = ("events", "meetings")


class DisputeListSchema(Schema):
    disputes = fields.List(fields.Nested(DisputeSummarySchema))
