"""An order action's input beyond what the engine checks (present, cleaned, bounded): the targets
it names looked up and checked against the actor's scope, and the values only orders know."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..accounts.actors import Actor
from ..accounts.models import Staff
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..grids.models import Building, Grid
from ..lifecycle import refuse as _refuse
from ..text import for_matching
from ..types import INT32_MAX, get_by_id
from . import deadlines, ladder
from .models import GRADES, Order

# The 1–5 score some clients still send, mapped once onto the 12345 scale.
SCORE_SATISFACTION = {5: "satisfied", 4: "satisfied", 3: "basically_satisfied", 2: "unsatisfied",
                      1: "unsatisfied"}
# Satisfied and basically satisfied close the loop; unsatisfied reopens it (the 12345 scale).
CLOSING_SATISFACTIONS = ("satisfied", "basically_satisfied")


def check_satisfaction(action: str, satisfaction: str | None) -> bool:
    return satisfaction in (CLOSING_SATISFACTIONS if action in ("rate", "callback") else ("unsatisfied",))


def check(actor, order, row, data: dict, ctx) -> None:
    """The order table's `check` hook: `data` gains the looked-up targets the effects use."""
    required = row.required_for(actor)
    if data.get("score") is not None and "satisfaction" not in data:
        data["satisfaction"] = SCORE_SATISFACTION.get(data["score"])
    if "satisfaction" in required and not check_satisfaction(row.name, data.get("satisfaction")):
        _refuse("评价与操作不符", ValidationFailed, fields={"satisfaction": [f"not valid for {row.name}"]})
    if row.name == "merge":
        from .merging import check_original
        data["original"] = check_original(actor, order, data)
    if row.name == "escalate":
        data["next_rung"] = ladder.next_rung(order)
    if "grid" in required:
        data["grid"] = _target_grid(actor, order, data)
    if "assignee" in required:
        data["assignee"] = _target_worker(order, data.get("assignee_id") or data.get("assignee"))
    if row.name == "correct_category":
        data["category"] = _valid_category(order, data["category"])
    if row.name == "extend":
        data["until"] = _extension_until(order, data["until"])
    if row.name == "pause":
        _check_pause(data)
    if row.name == "appeal" and data["ground"] not in APPEAL_GROUNDS:
        _refuse("请选择申诉类别", ValidationFailed, fields={"ground": ["不合理诉求、重复诉求或恶意诉求"]})
    if row.name == "set_grade" and (data["grade"] not in GRADES or data["grade"] == order.grade):
        _refuse("等级无效或未改变", ValidationFailed, fields={"grade": ["unknown or unchanged"]})


PAUSE_REASONS = ("resident", "third_party", "weather")  # labels.yml pause_reasons
APPEAL_GROUNDS = ("unreasonable", "repeated", "malicious")  # labels.yml appeal_grounds


def _extension_until(order: Order, value) -> datetime:
    """The new resolve-by: a moment later than the current one (without a zone: local time, as
    the console's form sends it), within ORDER_EXTENSION_MAX_DAYS working days of it."""
    try:
        until = deadlines.parse_time(value)
    except (TypeError, ValueError):
        _refuse("延期时间格式不对", ValidationFailed, fields={"until": ["请填写日期和时间"]})
    if until.tzinfo is None:
        until = until.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    if until <= order.resolve_by:
        _refuse("延期时间须晚于现在的办结时限", ValidationFailed, fields={"until": ["须晚于现在的办结时限"]})
    most = deadlines.extension_max_days()
    if deadlines.extension_length(order, until) > deadlines.day_length() * most:
        _refuse(f"一次延期最多 {most:g} 个工作日", ValidationFailed, fields={"until": [f"最多 {most:g} 个工作日"]})
    return until


def _check_pause(data: dict) -> None:
    if data["why"] not in PAUSE_REASONS:
        _refuse("请选择挂起原因", ValidationFailed, fields={"why": ["等待居民、等待第三方或天气原因"]})
    days = data.get("days")
    if days is not None:
        try:
            days = float(days)
        except (TypeError, ValueError):
            days = -1
        if not 0 < days <= 365:
            _refuse("预计挂起天数须为 1 到 365 之间的数", ValidationFailed, fields={"days": ["1 到 365"]})
        data["days"] = days


def _target_grid(actor: Actor, order: Order, given: dict):
    building = db.session.get(Building, given["building_id"]) if given.get("building_id") else None
    if building is not None:
        grid = building.grid
    elif given.get("grid_id"):
        grid = db.session.get(Grid, given["grid_id"])
    else:
        code = for_matching(given.get("grid"))  # ｓｊｃ－２ typed on a phone is sjc-2
        grid = db.session.scalar(select(Grid).where(Grid.code == code)) if code else None
    if grid is None:
        _refuse("没有这个网格或楼栋", ValidationFailed, fields={"grid": ["unknown grid"]})
    if actor.is_staff and not _may_send_to(actor, grid):
        _refuse("目标网格不在你的管辖范围内", Forbidden, code="target_out_of_scope")
    if grid.id == order.grid_id:
        _refuse("工单已在这个网格", ValidationFailed, fields={"grid": ["same grid"]})
    return grid, building


def _may_send_to(actor: Actor, grid: Grid) -> bool:
    """Where an actor may transfer or place an order: grid workers and leaders to the grids of their
    own community (a neighbour's grid they know), admins within their own scope."""
    if actor.role == "sysadmin":
        return True
    if actor.role in ("grid_worker", "grid_leader"):
        own = db.session.get(Grid, actor.grid_id) if actor.grid_id else None
        return own is not None and own.community_id == grid.community_id
    if actor.role == "community_admin":
        return grid.community_id == actor.community_id
    if actor.role == "street_admin":
        return grid.community.street_id == actor.street_id
    return False


def _target_worker(order: Order, who) -> Staff:
    worker = None
    if isinstance(who, str) and who.isascii() and who.isdigit():
        who = int(who)
    if isinstance(who, int):
        # A number past the id column's range names nobody (and SQLite's driver refuses it).
        worker = get_by_id(Staff, who)
    elif isinstance(who, str):
        worker = db.session.scalar(select(Staff).where(Staff.username == for_matching(who)))
    if worker is None or not worker.active or worker.role not in ("grid_worker", "grid_leader") \
            or order.grid_id is None or worker.grid_id != order.grid_id:
        _refuse("只能派给本网格在岗的网格员或网格长", ValidationFailed, fields={"assignee": ["not a worker of this grid"]})
    return worker


def _valid_category(order: Order, path: str) -> str:
    from ..categories import taxonomy
    path = taxonomy.normalize_path(path)
    if not taxonomy.is_valid(path) or path == order.category:
        _refuse("类别无效或未改变", ValidationFailed, fields={"category": ["unknown or unchanged"]})
    return path
