"""marshmallow schemas for the order API. Validation only: no queries, no permission checks."""
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..fields import BoundedInt, Function, id_field
from ..labels import label
from ..text import CleanSchema, clean
from .models import GRADES, KINDS, RESIDENT_CHANNELS, SATISFACTIONS
from . import states, timeline

# What residents type or tap for the 12345 scale, mapped onto its codes.
SATISFACTION_WORDS = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "unsatisfied"}

_text = validate.Length(min=1, max=2000)
PHOTO_MAX_COUNT = 9  # photos per order a resident may send (the mini-program's picker says the same)


def photo_url(**kwargs) -> fields.Url:
    """A photo's address: http(s), at most the 500 characters its column holds."""
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), **kwargs)


class StrictSchema(CleanSchema):
    class Meta:
        unknown = RAISE
        ordered = True


def _not_blank(value: str):
    if not clean(value).strip():
        raise ValidationError("must not be blank")


def required_text() -> fields.String:
    """A resident's or worker's text: present, not blank, at most 2000 characters."""
    return fields.String(required=True, validate=[_text, _not_blank])


class OrderCreateSchema(StrictSchema):
    text = required_text()
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "omitted: predicted from the text"})
    channel = fields.String(load_default="h5", validate=validate.OneOf(RESIDENT_CHANNELS))
    grade = fields.String(load_default="normal", validate=validate.OneOf(GRADES))
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    building_id = id_field(load_default=None, allow_none=True)
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    # Photos uploaded to one's own orders (`/uploads/…`, as `POST /orders/<number>/photos` answers
    # them); any other address is refused by the service (orders.services._own_photos).
    photos = fields.List(photo_url(relative=True), load_default=list,
                         validate=validate.Length(max=PHOTO_MAX_COUNT))


def idempotency_key(**kwargs) -> fields.String:
    """A client's key for one intake: printable ASCII, as in the IETF Idempotency-Key draft."""
    return fields.String(validate=[validate.Length(min=1, max=128), validate.Regexp(r"^[\x21-\x7e]+$")],
                         **kwargs)


class IdempotencyHeaders(Schema):
    class Meta:
        unknown = EXCLUDE  # every other header

    key = idempotency_key(data_key="Idempotency-Key", load_default=None, metadata={
        "description": "a fresh key per order (e.g. a UUID): a retry with the same key answers 200 with "
                       "the first order instead of making a second"})


class RatingSchema(StrictSchema):
    """满意 / 基本满意 close the loop; 不满意 reopens the order. A 1–5 `score` is still accepted:
    4–5 满意, 3 基本满意, 1–2 不满意."""
    satisfaction = fields.String(load_default=None, validate=validate.OneOf(SATISFACTIONS),
                                 metadata={"description": "satisfied | basically_satisfied | unsatisfied "
                                                          "(满意 / 基本满意 / 不满意 also accepted)"})
    score = BoundedInt(minimum=1, maximum=5, load_default=None, strict=True)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @pre_load
    def _words(self, data, **_):
        # Only a string can be one of the words: `{}` or a list is not hashable, and asking whether
        # it is a key of the dict raised TypeError (a 500) before the field could refuse it.
        word = data.get("satisfaction") if isinstance(data, dict) else None
        if isinstance(word, str) and word in SATISFACTION_WORDS:
            data = {**data, "satisfaction": SATISFACTION_WORDS[data["satisfaction"]]}
        return data

    @validates_schema
    def _one_of(self, data, **_):
        if data.get("satisfaction") is None and data.get("score") is None:
            raise ValidationError("give satisfaction (or score)", field_name="satisfaction")


class NoteSchema(StrictSchema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class PhotoSchema(StrictSchema):
    photo = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class OrderListArgs(StrictSchema):
    state = fields.String(load_default=None, validate=validate.OneOf(states.STATES))
    limit = BoundedInt(minimum=1, maximum=200, load_default=50)
    offset = BoundedInt(minimum=0, maximum=1_000_000, load_default=0)


class EventSchema(Schema):
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor_type = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ResidentEventSchema(EventSchema):
    # In words, so a client (the mini-program) draws the timeline from the one set of labels.
    action_label = Function(lambda e: label("actions", e.action))
    to_state_label = Function(lambda e: label("states", e.to_state) if e.to_state else None)


class AttachmentSchema(Schema):
    url = fields.String()
    kind = fields.String()


class OrderBaseSchema(Schema):
    """Fields everyone with access to an order sees; the resident and staff views add to it."""
    number = fields.String()
    state = fields.String()
    state_label = Function(lambda o: label("states", o.state))
    kind = fields.String()
    grade = fields.String()
    category = fields.String(allow_none=True)
    text = fields.String()
    location_text = fields.String(allow_none=True)
    community = Function(lambda o: o.community_shown)
    flags = fields.List(fields.String())
    claim_by = fields.DateTime(allow_none=True)
    resolve_by = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)
    satisfaction = fields.String(allow_none=True)
    satisfaction_label = Function(lambda o: label("satisfactions", o.satisfaction) if o.satisfaction else None)
    allowed_actions = fields.List(fields.String(), metadata={
        "description": "what the asking user may do with this order now (see the lifecycle table)"})
    reopen_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    photos = Function(lambda o: [a.url for a in o.attachments])
    events = fields.List(fields.Nested(EventSchema))


_RESIDENT_EVENT = ResidentEventSchema()  # built once: a schema's construction copies its fields


def _resident_events(order) -> list:
    viewer = order.co_viewer
    return [{**_RESIDENT_EVENT.dump(e), "note": timeline.note_for_resident(e, viewer)}
            for e in timeline.for_resident(order.events)]


class OrderSchema(OrderBaseSchema):
    """What the resident who sent the order sees: their own data, staff names masked. A co-reporter
    (附议, or merged in; `co_reporter` true) sees the same order in their own view: the reporter's
    words masked (backend/masking.py), no photos, score or comment of theirs, no other resident's notes."""
    channel = fields.String()
    category_confidence = fields.Float(allow_none=True)
    grid = Function(lambda o: o.grid_shown)
    assignee = Function(lambda o: o.assignee.name_masked if o.assignee else None)
    text = Function(lambda o: o.text_shown)
    location_text = Function(lambda o: o.location_shown, allow_none=True)
    photos = Function(lambda o: [a.url for a in o.photos_shown])
    rating_score = Function(lambda o: None if o.co_view else o.rating_score, allow_none=True)
    co_reporter = Function(lambda o: bool(o.co_view), metadata={
        "description": "true: you co-reported this order (附议, or your report was merged into it)"})
    events = Function(_resident_events,
                             metadata={"description": "the order's steps; staff-internal ones and notes left out"})


class OrderSummarySchema(OrderSchema):
    class Meta:
        exclude = ("events",)


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderSummarySchema))


# --- 附议 (issue 20, item 2): a resident's draft, the open orders it may repeat, joining one --------
_REQUIRED_CN = {"required": "必填", "null": "必填", "invalid": "应为文字"}


def _draft_text() -> fields.String:
    return fields.String(required=True, error_messages=_REQUIRED_CN,
                         validate=[validate.Length(min=1, max=2000, error="请写 1–2000 字"),
                                   _not_blank_cn])


def _not_blank_cn(value: str):
    if not clean(value).strip():
        raise ValidationError("请写下要反映的问题")


class DraftSchema(StrictSchema):
    """What the resident is about to report (nothing is stored)."""
    text = _draft_text()
    location_text = fields.String(load_default=None, allow_none=True, error_messages={"invalid": "应为文字"},
                                  validate=validate.Length(max=200, error="地点不能超过 200 字"))
    building_id = id_field(load_default=None, allow_none=True, error_messages={"invalid": "楼栋编号应为整数"})


class JoinSchema(DraftSchema):
    """附议: the draft the resident was reporting, and where they wrote from."""
    channel = fields.String(load_default="h5", error_messages={"invalid": "应为文字"},
                            validate=validate.OneOf(RESIDENT_CHANNELS, error="渠道只能是 wechat、miniprogram 或 h5"))


class CandidateSchema(Schema):
    number = fields.String()
    state = fields.String()
    state_label = Function(lambda c: label("states", c["state"]))


class CandidatesSchema(Schema):
    candidates = fields.List(fields.Nested(CandidateSchema), metadata={
        "description": "open orders that may be the same problem, best first: the number and state only"})


class JoinedSchema(Schema):
    """What a co-reporter learns of the order they joined: its number and state, how many residents
    raised it — not its text, place or reporter."""
    number = fields.String()
    state = fields.String()
    state_label = Function(lambda o: label("states", o.state))
    residents = Function(lambda o: 1 + len(o.co_reporters), metadata={
        "description": "residents who raised it: its reporter and its co-reporters"})
    joined = Function(lambda o: True)
