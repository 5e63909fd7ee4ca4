"""The console's form and query-string schemas (marshmallow at the edge: shapes and bounds only,
no queries, no permissions — the services decide those)."""
from datetime import date

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..fields import BoundedInt
from ..text import clean_all
from ..orders import desk, states
from ..orders.intake import STAFF_CHANNELS
from ..orders.models import CHANNELS, GRADES, KINDS
from ..types import INT32_MAX

def _blank_to_none(data: dict) -> dict:
    # Control characters go first (PostgreSQL refuses a NUL in a query); an empty select or text
    # box then means "any", not "the empty string".
    data = clean_all(data)
    return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


# Dates a person means: far outside, date arithmetic overflows (9999-12-31 plus a day).
_DAYS = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31), error="日期超出范围")


class DeskQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # the page's own parameters (e.g. an export button's name) are not filters

    state = fields.List(fields.String(validate=validate.OneOf(states.STATES)))
    grid = BoundedInt(minimum=1, maximum=INT32_MAX)
    category = fields.String(validate=validate.Length(max=100))
    grade = fields.String(validate=validate.OneOf(GRADES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    overdue = fields.Boolean()
    assignee = BoundedInt(minimum=1, maximum=INT32_MAX)
    created_from = fields.Date(validate=_DAYS)
    created_to = fields.Date(validate=_DAYS)
    q = fields.String(validate=validate.Length(max=100))
    sort = fields.String(validate=validate.OneOf(desk.SORTS), load_default="newest")
    after = fields.String(validate=validate.Length(max=200))

    @post_load
    def to_filters(self, data, **kwargs):
        filters = desk.Filters(
            states=tuple(data.get("state") or ()), grid_id=data.get("grid"), category=data.get("category"),
            grade=data.get("grade"), channel=data.get("channel"), overdue=bool(data.get("overdue")),
            assignee_id=data.get("assignee"), created_from=data.get("created_from"),
            created_to=data.get("created_to"), q=(data.get("q") or "").strip() or None, sort=data["sort"])
        return filters, data.get("after")


def load_desk_query(args) -> tuple[desk.Filters, str | None]:
    """The desk's filters from a query string (a MultiDict: `state` may repeat)."""
    data = _blank_to_none({k: (args.getlist(k) if k == "state" else args.get(k)) for k in args})
    if "state" in data:
        data["state"] = [s for s in data["state"] if s]
    return DeskQuery().load(data)


class IntakeForm(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the submit button

    channel = fields.String(required=True, validate=validate.OneOf(STAFF_CHANNELS))
    text = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    caller_name = fields.String(validate=validate.Length(max=40))
    caller_phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{5,20}$"))
    location_text = fields.String(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.String(validate=validate.OneOf(KINDS), load_default=None)  # none chosen: predicted from the text
    grade = fields.String(validate=validate.OneOf(GRADES), load_default="normal")
    category = fields.String(validate=validate.Length(max=100))
    # A fresh id per form shown: a double tap or a resubmitted page makes one order, not two.
    client_id = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"))


_phone = validate.Regexp(r"^[0-9+\- ]{5,20}$")
_client_id = validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$")


class PatrolForm(Schema):
    """A patrol report from the phone (巡查上报): what was found, where, and what was done."""
    class Meta:
        unknown = EXCLUDE

    text = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    location_text = fields.String(validate=validate.Length(min=2, max=200))
    building_id = BoundedInt(data_key="building", minimum=1, maximum=INT32_MAX)
    category = fields.String(validate=validate.Length(max=100))
    grade = fields.String(validate=validate.OneOf(GRADES), load_default="normal")
    done = fields.String(validate=validate.Length(max=2000))
    settled = fields.Boolean(load_default=False)
    client_id = fields.String(validate=_client_id)

    @validates_schema
    def _somewhere(self, data, **kwargs):
        if not data.get("location_text") and not data.get("building_id"):
            raise ValidationError("choose a building or write the place", "location_text")
        if data.get("settled") and not data.get("done"):
            raise ValidationError("say what was done to settle it", "done")


class VisitForm(Schema):
    """What a resident told a volunteer on their round (走访), entered on the phone."""
    class Meta:
        unknown = EXCLUDE

    text = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    caller_name = fields.String(validate=validate.Length(max=40))
    caller_phone = fields.String(validate=_phone)
    location_text = fields.String(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.String(validate=validate.OneOf(KINDS), load_default=None)  # none chosen: predicted from the text
    client_id = fields.String(validate=_client_id)


class LetterForm(VisitForm):
    """One letter from the paper mailbox: what a visit records, and the day the box was opened
    (每天开箱一次)."""
    opened_on = fields.Date(required=True, validate=_DAYS)


class NewStaffForm(Schema):
    class Meta:
        unknown = EXCLUDE

    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{3,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=40))
    role = fields.String(required=True, validate=validate.OneOf(("grid_worker", "grid_leader", "grid_member")))
    team_role = fields.String(validate=validate.OneOf(("part_time", "other")))
    grid = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{5,20}$"))


class CannedReplyForm(Schema):
    """常用语: a community's ready-made reply (its variables are filled when it is sent)."""
    class Meta:
        unknown = EXCLUDE

    community = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=INT32_MAX))
    title = fields.String(required=True, validate=validate.Length(min=1, max=40))
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))


class AssessmentQuery(Schema):
    """月度考核: which month (YYYY-MM, this month when left out), which units, sorted how."""
    class Meta:
        unknown = EXCLUDE

    month = fields.String(validate=validate.Regexp(r"^(20\d\d)-(0[1-9]|1[0-2])$", error="月份格式应为 2026-11"))
    level = fields.String(validate=validate.OneOf(("community", "grid", "worker", "department", "property")),
                          load_default="community")
    sort = fields.String(validate=validate.OneOf(("score", "response_rate", "on_time_rate", "solve_rate",
                                                  "satisfaction_rate", "callback_satisfaction_rate",
                                                  "reopen_rate", "received", "urged", "supervised",
                                                  "extensions", "pauses", "unrated", "name")),
                         load_default="score")
    order = fields.String(validate=validate.OneOf(("asc", "desc")), load_default="desc")


def load_assessment_query(args) -> dict:
    """The ranking's query; a bad one is 422 with the fields named (pages.load)."""
    from ..pages import load
    return load(AssessmentQuery(), args, names="form_fields")


class RosterWeekForm(Schema):
    """排班: a grid worker's weekly days on duty (0 = 周一 … 6 = 周日; none at all is allowed)."""
    class Meta:
        unknown = EXCLUDE

    grid = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    staff = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    weekdays = fields.List(BoundedInt(minimum=0, maximum=6), load_default=list)


class RosterDayForm(Schema):
    """排班: one date that differs from the week — 上班 (on), 休息 (off), or 按周排班 (as the week)."""
    class Meta:
        unknown = EXCLUDE

    grid = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    staff = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    on_date = fields.Date(required=True, validate=_DAYS)
    duty = fields.String(required=True, validate=validate.OneOf(("on", "off", "week")))


class GridRuleForm(Schema):
    class Meta:
        unknown = EXCLUDE

    grid = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    rule = fields.String(required=True, validate=validate.OneOf(("on", "off", "community")))


class CommunityRuleForm(Schema):
    class Meta:
        unknown = EXCLUDE

    grid = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)  # the page to go back to
    community = BoundedInt(required=True, minimum=1, maximum=INT32_MAX)
    enabled = fields.Boolean(required=True, truthy={"1"}, falsy={"0"})


class KnowledgeForm(Schema):
    """知识库: one entry (its other ways of asking one a line); the scope is a place the staff keeps."""
    class Meta:
        unknown = EXCLUDE

    target = fields.String(required=True, validate=validate.Regexp(r"^(district|(street|community):[0-9]{1,9})$"))
    question = fields.String(required=True, validate=validate.Length(min=1, max=200))
    variants = fields.String(load_default="", validate=validate.Length(max=2000))
    answer = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    link = fields.String(load_default=None, validate=validate.Length(max=300))
    phone = fields.String(load_default=None, validate=validate.Length(max=40))
    place = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(load_default=None, validate=validate.Length(max=40))
    valid_from = fields.Date(load_default=None, validate=_DAYS)
    valid_until = fields.Date(load_default=None, validate=_DAYS)
    order = fields.String(load_default=None, validate=validate.Length(max=40))
    questions = fields.String(load_default="", validate=validate.Regexp(r"^[0-9,]{0,6000}$"))

    @post_load
    def _lists(self, data, **kwargs):
        data["variants"] = [line.strip() for line in data["variants"].splitlines() if line.strip()]
        data["questions"] = [int(n) for n in data["questions"].split(",") if n.isdigit() and len(n) < 10]
        return data


class KnowledgeQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(validate=validate.Length(max=100))
    order = fields.String(validate=validate.Length(max=40))
    questions = fields.String(validate=validate.Regexp(r"^[0-9,]{0,6000}$"))
