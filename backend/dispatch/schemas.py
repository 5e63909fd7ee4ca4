"""marshmallow schemas for the worker / staff API. Validation only: no queries, no permissions."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..fields import BoundedInt, id_field
from ..accounts.models import mask_name
from ..masking import mask
from ..orders.inputs import APPEAL_GROUNDS, PAUSE_REASONS
from ..orders.intake import STAFF_CHANNELS
from ..orders.models import GRADES, KINDS, SATISFACTIONS
from ..orders.schemas import SATISFACTION_WORDS
from ..orders.schemas import OrderBaseSchema, StrictSchema, photo_url, required_text

_note = validate.Length(max=2000)
_photos = fields.List(photo_url(), load_default=list, validate=validate.Length(max=9))


class EmptySchema(StrictSchema):
    pass


class ReleaseSchema(StrictSchema):
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class ProgressSchema(StrictSchema):
    note = required_text()
    photos = _photos


class ResolveSchema(StrictSchema):
    result = required_text()
    photos = _photos


class ReasonSchema(StrictSchema):
    reason = required_text()


# 延期 / 挂起 / 申诉 (issue 26)
class ExtendSchema(StrictSchema):
    reason = required_text()
    until = fields.AwareDateTime(required=True)  # the resolve-by asked for


class PauseSchema(StrictSchema):
    reason = required_text()
    why = fields.String(required=True, validate=validate.OneOf(PAUSE_REASONS))
    days = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False, max=365))


class AppealSchema(StrictSchema):
    ground = fields.String(required=True, validate=validate.OneOf(APPEAL_GROUNDS))
    reason = required_text()


class _TargetGrid(StrictSchema):
    grid = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                         metadata={"description": "grid code, e.g. sjc-2"})
    grid_id = id_field(load_default=None, allow_none=True)
    building_id = id_field(load_default=None, allow_none=True)

    @validates_schema
    def _one_target(self, data, **_):
        if not any(data.get(k) for k in ("grid", "grid_id", "building_id")):
            raise ValidationError("give grid, grid_id or building_id", field_name="grid")


class TransferSchema(_TargetGrid):
    reason = required_text()


class PlaceSchema(_TargetGrid):
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class MergeSchema(StrictSchema):
    original = fields.String(required=True, validate=validate.Length(min=1, max=32),
                             metadata={"description": "the original order's number (HX…)"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class CallbackSchema(StrictSchema):
    """电话回访: the resident's answer on the phone; 不满意 reopens the order."""
    satisfaction = fields.String(required=True, validate=validate.OneOf(SATISFACTIONS),
                                 metadata={"description": "satisfied | basically_satisfied | unsatisfied "
                                                          "(满意 / 基本满意 / 不满意 also accepted)"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)
    called_at = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                              metadata={"description": "when the call was made (ISO 8601 with offset); default now"})

    @pre_load
    def _words(self, data, **_):
        word = data.get("satisfaction") if isinstance(data, dict) else None
        if isinstance(word, str) and word in SATISFACTION_WORDS:
            data = {**data, "satisfaction": SATISFACTION_WORDS[word]}
        return data


class ReplySchema(StrictSchema):
    """回复居民: their own words (`text`) or a canned reply of the order's community (`canned_id`)."""
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    canned_id = id_field(load_default=None, allow_none=True)
    expected = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                             metadata={"description": "fills {预计时间}; default the order's current deadline"})


class SuperviseSchema(StrictSchema):
    note = required_text()


class AssignSchema(StrictSchema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "the worker's username or staff id"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class DutySchema(StrictSchema):
    """上班/下班: a grid worker's on-duty flag, which 轮派 reads (orders/rota.py)."""
    on_duty = fields.Boolean(required=True, truthy={True}, falsy={False},
                             metadata={"description": "true: 上班 (new orders may be assigned to me by load)"})


class CategorySchema(StrictSchema):
    category = fields.String(required=True, validate=validate.Length(min=2, max=80),
                             metadata={"description": "taxonomy path, e.g. 城乡建设/物业管理"})
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class GradeSchema(StrictSchema):
    grade = fields.String(required=True, validate=validate.OneOf(GRADES))
    note = fields.String(load_default=None, allow_none=True, validate=_note)


class QueueArgs(StrictSchema):
    limit = BoundedInt(minimum=1, maximum=500, load_default=100)


class SupervisionArgs(StrictSchema):
    within = BoundedInt(minimum=60, maximum=7 * 86400, load_default=None, allow_none=True,
                        metadata={"description": "seconds; default DUE_SOON_SECONDS (1 h)"})


class IntakeSchema(StrictSchema):
    """A request entered by staff: a hotline call, walk-in, photo report, letter from the paper
    mailbox, what a resident told a volunteer on their round, or a patrol report (settled on the
    spot with `settled` and what was `done`)."""
    channel = fields.String(required=True, validate=validate.OneOf(STAFF_CHANNELS))
    text = required_text()
    caller_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    caller_phone = fields.String(load_default=None, allow_none=True,
                                 validate=[validate.Length(max=20), validate.Regexp(r"^[0-9+\- ]*$")])
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    building_id = id_field(load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "omitted: predicted from the text"})
    grade = fields.String(load_default="normal", validate=validate.OneOf(GRADES))
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    photos = _photos
    done = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    settled = fields.Boolean(load_default=False)
    opened_on = fields.Date(load_default=None, allow_none=True,
                            validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)))


class StaffOrderSchema(OrderBaseSchema):
    """What staff see of an order in their scope; the caller's phone and name are masked unless
    their work needs them (services.needs_contact)."""
    rung = fields.String()
    contact = fields.String(attribute="contact_shown", allow_none=True)
    caller_name = fields.String(attribute="caller_shown", allow_none=True)
    grid = fields.Function(lambda o: o.grid.code if o.grid else None)
    grid_name = fields.Function(lambda o: o.grid.name if o.grid else None)
    department = fields.Function(lambda o: o.department.name if o.department else None)
    property_company = fields.Function(lambda o: o.property_company.name if o.property_company else None)
    assignee = fields.Function(lambda o: o.assignee.name if o.assignee else None)
    ack_by = fields.DateTime(allow_none=True)
    channel = fields.String()
    # 合并 (issue 20): the original a duplicate was closed into; how many residents joined this one
    merged_into = fields.Function(lambda o: o.merged_into.number if o.merged_into_id else None)
    co_reporters = fields.Function(lambda o: len(o.co_reporters))
    rating_source = fields.String(allow_none=True, metadata={"description": "resident | callback (电话回访)"})
    # 疑似重复 (issue 20): set by orders.duplicates.attach on the intake's answer (and the console's
    # order page); an action's answer does not score the grid's texts again, so it carries null.
    possible_duplicates = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "on the intake's answer: orders that may report the same problem: [{number, score (0–1), "
                       "state}], best first (same grid, same level-2 category, created or resolved within "
                       "DUPLICATE_WINDOW_DAYS); null on the answers of actions"})


class StaffOrderSummarySchema(StaffOrderSchema):
    """A line of a list: the contact and the caller masked (a full number is shown, and audited, one
    order at a time)."""
    contact = fields.Function(lambda o: mask(o.contact), allow_none=True)
    caller_name = fields.Function(lambda o: mask_name(o.caller_name), allow_none=True)

    class Meta:
        exclude = ("events", "photos", "merged_into", "co_reporters", "possible_duplicates")


class QueueSchema(Schema):
    waiting = fields.List(fields.Nested(StaffOrderSummarySchema))
    mine = fields.List(fields.Nested(StaffOrderSummarySchema))


class SupervisionSchema(Schema):
    now = fields.DateTime()
    overdue = fields.List(fields.Nested(StaffOrderSummarySchema))
    due_soon = fields.List(fields.Nested(StaffOrderSummarySchema))
    # 延期, long 挂起 and 申诉 waiting for someone's decision (its flags say which)
    requests = fields.List(fields.Nested(StaffOrderSummarySchema))
