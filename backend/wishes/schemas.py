"""The forms of the wish pages (H5 and console), in marshmallow with the messages in Chinese: a
resident or a community worker reads them beside the field."""
from decimal import Decimal

from marshmallow import EXCLUDE, RAISE, Schema, fields, post_load, validate

from ..labels import label
from ..masking import mask

from .models import LIST_KINDS, MEMBER_KINDS

_REQUIRED = {"required": "必填", "null": "必填", "invalid": "格式不对"}


def _text(max_length: int, required: bool = True, min_length: int = 1):
    return fields.String(required=required, error_messages=_REQUIRED,
                         validate=validate.Length(min=min_length, max=max_length, error=f"请填写{min_length}–{max_length}个字"))


def _id(required: bool = True):
    return fields.Integer(required=required, strict=False, error_messages={**_REQUIRED, "invalid": "请选择"},
                          validate=validate.Range(min=1, max=2**31 - 1, error="请选择"))


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the buttons' names ride along


class WishForm(_Form):
    community = _id()
    text = _text(500)
    beneficiary = _text(80, required=False)
    wanted_by = fields.Date(load_default=None, error_messages={"invalid": "日期格式应为 年-月-日"})


class RegisterForm(_Form):
    community = _id()
    kind = fields.String(required=True, error_messages=_REQUIRED,
                         validate=validate.OneOf(MEMBER_KINDS, error="请选择报到身份"))
    name = _text(40)
    workplace = _text(80, required=False)
    skills = fields.String(load_default="", validate=validate.Length(max=200, error="最多200个字"))
    hours_available = fields.Integer(load_default=0, error_messages={"invalid": "请填写整数"},
                                     validate=validate.Range(min=0, max=168, error="每周0–168小时"))
    join_code = _text(32, required=False)

    @post_load
    def _skills(self, data, **_):
        words = data["skills"].replace("，", ",").replace("、", ",").replace(" ", ",").split(",")
        data["skills"] = [w.strip() for w in words if w.strip()][:20]
        return data


class FulfilForm(_Form):
    evidence = _text(1000)
    hours = fields.Decimal(required=True, places=1, as_string=False, error_messages={**_REQUIRED, "invalid": "请填写小时数"},
                           validate=validate.Range(min=0.5, max=100, error="0.5–100小时"))


class ReasonForm(_Form):
    reason = _text(500)


class NoteForm(_Form):
    note = _text(500, required=False)


class UnitForm(_Form):
    community = _id()
    name = _text(80)


class ItemForm(_Form):
    community = _id()
    kind = fields.String(required=True, error_messages=_REQUIRED, validate=validate.OneOf(LIST_KINDS, error="请选择清单类别"))
    title = _text(120)
    detail = _text(1000, required=False)
    unit = _id(required=False)


class ItemClaimForm(_Form):
    unit = _id(required=False)


class HoursForm(_Form):
    member = _id()
    task = _text(200)
    hours = fields.Decimal(required=True, places=1, error_messages={**_REQUIRED, "invalid": "请填写小时数"},
                           validate=validate.Range(min=0.5, max=24, error="0.5–24小时"))
    day = fields.Date(required=True, error_messages={**_REQUIRED, "invalid": "日期格式应为 年-月-日"})


# --- the resident API (/api/v1/wishes, /api/v1/volunteers: the mini-program) -----------------------
# The same fields and messages as the forms, but JSON and strict: an unknown field is refused.


class WishCreateSchema(WishForm):
    class Meta:
        unknown = RAISE

    client_id = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(min=1, max=128), validate.Regexp(r"^[\x21-\x7e]+$")], metadata={
        "description": "the client's id of this wish: sent again (a retry), it gives the wish it already made"})


class WishActionSchema(Schema):
    """What an action may carry: a note (claim, release, confirm, withdraw), the evidence and the
    hours (fulfil). The wish table says which it requires (422 without)."""
    class Meta:
        unknown = RAISE

    note = _text(500, required=False)
    evidence = _text(1000, required=False)
    # A number with its bounds in the OpenAPI document (a Decimal field would write them as strings),
    # taken to one decimal place as the form's Decimal is.
    hours = fields.Float(error_messages={"invalid": "请填写小时数"}, allow_nan=False,
                         validate=validate.Range(min=0.5, max=100, error="0.5–100小时"))

    @post_load
    def _tenths(self, data, **_):
        if "hours" in data:
            data["hours"] = Decimal(str(data["hours"])).quantize(Decimal("0.1"))
        return data


class RegisterSchema(RegisterForm):
    class Meta:
        unknown = RAISE


def _shown_text(wish) -> str:
    # The wisher and the one who holds it read the wish as written; other members read it masked.
    return wish.text if getattr(wish, "close_view", False) else mask(wish.text)


class WishSummarySchema(Schema):
    id = fields.Integer()
    state = fields.String()
    state_label = fields.Function(lambda w: label("wish_states", w.state))
    text = fields.Function(_shown_text)
    community = fields.Function(lambda w: w.community.name if w.community else None)
    wanted_by = fields.Date(allow_none=True)
    claim_due_at = fields.DateTime(allow_none=True)
    offered = fields.Function(lambda w: w.offered_at is not None)
    created_at = fields.DateTime()


class WishSchema(WishSummarySchema):
    """One wish as the asking resident may see it, with what they may do with it now."""
    beneficiary = fields.Function(lambda w: w.beneficiary if getattr(w, "close_view", False) else None)
    reason = fields.String(allow_none=True)
    evidence = fields.String(allow_none=True)
    hours = fields.Float(allow_none=True)
    mine = fields.Function(lambda w: getattr(w, "mine", False))
    allowed_actions = fields.List(fields.String(), metadata={
        "description": "what the asking resident may do with this wish now (the wish table)"})


class MemberSchema(Schema):
    id = fields.Integer()
    community_id = fields.Integer()
    community = fields.Function(lambda m: m.community.name if m.community else None)
    kind = fields.String()
    kind_label = fields.Function(lambda m: label("member_kinds", m.kind))
    name = fields.String()


class CommunitySchema(Schema):
    id = fields.Integer()
    name = fields.String()


class WishBoardSchema(Schema):
    mine = fields.List(fields.Nested(WishSummarySchema), metadata={"description": "the wishes I posted"})
    open = fields.List(fields.Nested(WishSummarySchema), metadata={
        "description": "published wishes of the communities I registered with, masked"})
    held = fields.List(fields.Nested(WishSummarySchema), metadata={"description": "the wishes I claimed"})
    memberships = fields.List(fields.Nested(MemberSchema))
    communities = fields.List(fields.Nested(CommunitySchema), metadata={
        "description": "the communities a wish can go to or a resident can register with"})
