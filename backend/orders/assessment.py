"""考核 (issue 26, items 3 and 5): the month's assessment of every unit — worker, grid, community,
department and property company — computed one way for the console's ranking, its XLSX report, the
dashboard and 公示. The formulas are in docs/architecture.md (考核); in short, for a calendar month
in TIMEZONE and one unit:

    响应率     = 按时响应 / 应响应: takes (接单, 派单, a department's or property's 报到) within the limit
                 the order waited under, over takes + orders the tick moved on unclaimed (limit missed)
    按时办结率 = 按时办结 / 应办结: resolutions by resolve-by (an approved 延期 moved it, a 挂起 gave the
                 stopped time back), over resolutions + orders the tick took away while held (resolve
                 limit missed); exempt orders (申诉/免责 approved) in neither
    解决率     = 已解决 / 受理: of the orders that came to the unit in the month, those resolved (and not
                 reopened since) at the month's end
    满意率     = (满意 + 基本满意) / 评价, the residents' own ratings, exempt orders left out; 回访满意率
                 the same over the ratings staff recorded by phone (回访), apart
    重办率     = 重办 / 办结: reopenings (resident's 不满意, 回访 不满意, staff) of the unit's resolutions
    催办, 督办  = presses (`supervise`) before and after the order's deadline
    延期, 挂起  = extensions approved and pauses that stopped the clock; 未评价 = archived unrated
Everything is read from the events the lifecycle rows write (`at`: where the order stood and who held
it; `claim_on_time`, `on_time`, `overdue`): a later transfer, escalation or recategorisation changes
no past month. One thing may: an exemption approved after the month (申诉 are decided after the
fact) takes the order out of that month's rates.

A unit answers for what happened while it was there: a worker for what they took, held, resolved
or were pressed on; a department or property company for what happened at its rung; a grid and a
community for everything in their area (as the 三率 are published per area). A rating, reopening or
未评价 answers a resolution and counts for the units of that resolution.

Points (扣分, `DEDUCTIONS`): 100 less each order's deductions; the ranking explains them per order."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select

from .. import replica
from ..extensions import db
from .models import Order, OrderEvent
from .states import CLAIMED_STATES, UNCLAIMED_STATES

SATISFIED = ("satisfied", "basically_satisfied")
LEVELS = ("community", "grid", "worker", "department", "property")
LEVEL_NAMES = {"scope": "全部", "community": "社区", "grid": "网格", "worker": "网格员及工作人员",
               "department": "职能部门", "property": "物业公司"}
# Points lost per order and reason (扣分): a unit starts the month at 100.
DEDUCTIONS = {"late_claim": 1.0, "late_resolve": 2.0, "unsatisfied": 2.0, "reopened": 1.0,
              "urged": 0.5, "supervised": 1.0}
REASONS = {"late_claim": "超时签收", "late_resolve": "超时办结", "unsatisfied": "不满意",
           "reopened": "重办", "urged": "被催办", "supervised": "被督办"}
_READ = ("submit", "claim", "assign", "settle", "resolve", "escalate", "return_from_property",
         "dispatch_property", "supervise", "approve_extension", "pause", "approve_pause", "rate", "reopen",
         "callback", "callback_reopen", "close", "cancel", "merge", "unmerge")
COUNTS = ("received", "solved", "respond_due", "responded", "resolve_due", "resolved", "on_time", "exempt",
          "rated", "satisfied", "callbacks", "callback_satisfied", "reopened", "urged", "supervised",
          "extensions", "pauses", "unrated", "resolutions")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rates(t: dict) -> dict:
    """The rates of one unit's counts (the formulas above)."""
    return {"response_rate": _rate(t["responded"], t["respond_due"]),
            "on_time_rate": _rate(t["on_time"], t["resolve_due"]),
            "solve_rate": _rate(t["solved"], t["received"]),
            "satisfaction_rate": _rate(t["satisfied"], t["rated"]),
            "callback_satisfaction_rate": _rate(t["callback_satisfied"], t["callbacks"]),
            "reopen_rate": _rate(t["reopened"], t["resolutions"])}


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, in the configured time zone."""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


@dataclass
class _Unit:
    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    lost: list = field(default_factory=list)  # (order id, reason, points)


def _units(at: dict | None, order: dict) -> list[tuple[str, int]]:
    """The units an event counts for: the whole scope, its area (grid, community), its rung's
    department or property, and the worker who held it. Events written before `at` existed fall
    back to the order's columns."""
    at = at or {"grid": order["grid_id"], "community": order["community_id"], "worker": None,
                "department": None, "property": None}
    found = [("scope", 0)]
    for level in ("grid", "community", "department", "property"):
        if at.get(level):
            found.append((level, at[level]))
    workers = at.get("worker")
    for w in (workers if isinstance(workers, list) else [workers]):
        if w:
            found.append(("worker", w))
    return found


def compute(where, year: int, month: int) -> dict:
    """{(level, key): _Unit} for the orders `where` selects (a staff scope, a community, every order)
    in the month: one statement for the orders touched in it, one for their events."""
    start, end = month_bounds(year, month)
    # Touched in the month (every event sets updated_at; ix_orders_updated_at), made before its end.
    touched = and_(where, Order.updated_at >= start, Order.created_at < end)
    orders = {row.id: row._asdict() for row in db.session.execute(
        select(Order.id, Order.number, Order.grid_id, Order.community_id).where(touched))}
    units: dict = defaultdict(_Unit)
    # Their events up to the month's end (and every exemption), in one semi-join: no list of ids.
    events = db.session.execute(
        select(OrderEvent.order_id, OrderEvent.action, OrderEvent.actor_type, OrderEvent.from_state,
               OrderEvent.data, OrderEvent.created_at)
        .where(OrderEvent.order_id.in_(select(Order.id).where(touched)),
               or_(and_(OrderEvent.action.in_(_READ), OrderEvent.created_at < end),
                   OrderEvent.action == "approve_appeal"))
        .order_by(OrderEvent.order_id, OrderEvent.id)).all()
    exempt = {e.order_id for e in events if e.action == "approve_appeal"}
    by_order = defaultdict(list)
    for e in events:
        if e.action != "approve_appeal":
            by_order[e.order_id].append(e)
    for order_id, history in by_order.items():
        if order_id in orders:  # touched after the first read: next time
            _tally(units, orders[order_id], history, start, order_id in exempt)
    return units


def _lose(units, where, order_id, reason):
    for unit in where:
        units[unit].lost.append((order_id, reason, DEDUCTIONS[reason]))


def _tally(units, order: dict, history: list, start: datetime, exempt: bool) -> None:
    resolution: list = []  # the units of the latest resolution (what a rating answers)
    gone = solved = False  # cancelled or merged / resolved at the month's end
    came: set = set()  # the units the order came to in the month (受理)
    oid = order["id"]
    for e in history:
        data = e.data or {}
        at = data.get("at")
        here = _units(at, order)
        inside = e.created_at >= start
        act = e.action
        if act in ("resolve", "settle"):
            resolution, solved = here, True
        elif act in ("reopen", "callback_reopen"):
            solved = False
        elif act in ("cancel", "merge"):
            gone = True
        elif act == "unmerge":
            gone = False
        if not inside:
            continue
        if act == "submit":
            came.update(here)
        elif act == "dispatch_property":
            came.update(u for u in here if u[0] == "property")
        elif act == "escalate" and data.get("department"):
            came.add(("department", data["department"]))
        if act in ("claim", "assign"):
            came.update(u for u in here if u[0] == "worker")
            on_time = data.get("claim_on_time", True)
            for u in here:
                units[u].counts["respond_due"] += 1
                units[u].counts["responded"] += bool(on_time)
            if not on_time:
                _lose(units, here, oid, "late_claim")
        elif act in ("escalate", "return_from_property") and e.actor_type == "system":
            if e.from_state in UNCLAIMED_STATES:  # nobody took it within the limit
                for u in here:
                    units[u].counts["respond_due"] += 1
                _lose(units, here, oid, "late_claim")
            elif e.from_state in CLAIMED_STATES and not exempt:  # held past resolve-by: taken away
                for u in here:
                    units[u].counts["resolve_due"] += 1
                _lose(units, here, oid, "late_resolve")
        elif act in ("resolve", "settle"):
            on_time = data.get("on_time", True) if act == "resolve" else True
            for u in here:
                c = units[u].counts
                c["resolutions"] += 1
                c["exempt"] += exempt
                if not exempt:
                    c["resolved"] += 1
                    c["resolve_due"] += 1
                    c["on_time"] += bool(on_time)
            if not on_time and not exempt:
                _lose(units, here, oid, "late_resolve")
        elif act in ("rate", "reopen", "callback", "callback_reopen", "close"):
            _answer(units, oid, e, data, resolution or here, exempt)
        elif act == "supervise":
            reason = "supervised" if data.get("overdue") else "urged"
            for u in here:
                units[u].counts[reason] += 1
            _lose(units, here, oid, reason)
        elif act == "approve_extension":
            for u in here:
                units[u].counts["extensions"] += 1
        elif act in ("pause", "approve_pause") and data.get("stopped"):
            for u in here:
                units[u].counts["pauses"] += 1
    if not gone:
        for u in came:
            units[u].counts["received"] += 1
            units[u].counts["solved"] += solved


def _answer(units, oid, e, data, resolution, exempt) -> None:
    """A rating (the resident's, or 回访 by phone), a reopening or 未评价: for the resolution's units."""
    act = e.action
    if act == "close":
        if data.get("unrated"):
            for u in resolution:
                units[u].counts["unrated"] += 1
        return
    if act in ("reopen", "callback_reopen"):
        for u in resolution:
            units[u].counts["reopened"] += 1
        _lose(units, resolution, oid, "reopened")
    satisfaction = data.get("satisfaction")
    if not satisfaction or (act == "reopen" and e.actor_type != "resident"):
        return
    if exempt:  # 免责: out of both 满意率
        return
    answered, satisfied = ("callbacks", "callback_satisfied") if act.startswith("callback") else ("rated", "satisfied")
    for u in resolution:
        units[u].counts[answered] += 1
        units[u].counts[satisfied] += satisfaction in SATISFIED
    if satisfaction not in SATISFIED:
        _lose(units, resolution, oid, "unsatisfied")


def _names(level: str, keys) -> dict:
    from ..accounts.models import Staff
    from ..grids.models import Community, Department, Grid, PropertyCompany
    model = {"community": Community, "grid": Grid, "worker": Staff, "department": Department,
             "property": PropertyCompany}[level]
    keys = [k for k in keys if k]
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(keys))).all()) if keys else {}


def _row(level, key, unit: _Unit, names, numbers) -> dict:
    points = float(round(sum(p for _, _, p in unit.lost), 1))
    per_order: dict = defaultdict(list)
    for order_id, reason, p in unit.lost:
        per_order[order_id].append((REASONS[reason], p))
    return {"level": level, "key": key, "name": names.get(key, "") if level != "scope" else LEVEL_NAMES["scope"],
            **unit.counts, **rates(unit.counts), "deducted": points, "score": max(0.0, round(100 - points, 1)),
            "deductions": [{"number": numbers.get(o, ""), "reasons": [{"reason": r, "points": p} for r, p in items],
                            "points": round(sum(p for _, p in items), 1)}
                           for o, items in sorted(per_order.items(), key=lambda kv: numbers.get(kv[0], ""))]}


def report(where, year: int, month: int, levels=LEVELS) -> dict:
    """The month's assessment: {"month", "scope": the whole's row, level: [rows, best first]} — a
    row is a unit's counts, rates, points and the orders that lost them (with reasons)."""
    units = compute(where, year, month)
    numbers = {}
    lost_ids = {o for unit in units.values() for o, _, _ in unit.lost}
    if lost_ids:
        numbers = dict(db.session.execute(select(Order.id, Order.number).where(Order.id.in_(list(lost_ids)))).all())
    found = {"month": f"{year}年{month}月", "year": year, "number": month,
             "scope": _row("scope", 0, units.get(("scope", 0)) or _Unit(), {}, numbers)}
    for level in levels:
        keys = [k for (lv, k) in units if lv == level]
        names = _names(level, keys)
        rows = [_row(level, k, units[(level, k)], names, numbers) for k in keys]
        found[level] = sorted(rows, key=lambda r: (-r["score"], r["name"], r["key"]))
    return found


def scope_row(key: str, where, year: int, month: int) -> dict:
    """The whole scope's row of the month (the dashboard's 本月考核 cards), reused for
    ASSESSMENT_CACHE_SECONDS per scope `key` in Redis — a month's assessment moves slowly, and the
    dashboard is opened all day; computed each time when Redis is down or the setting is 0."""
    import json
    import logging
    from ..extensions import redis
    ttl = int(current_app.config.get("ASSESSMENT_CACHE_SECONDS", 300))
    name = f"assessment:scope:{key}:{year:04d}{month:02d}"
    try:
        hit = redis.get(name) if ttl > 0 else None
    except Exception as error:  # noqa: BLE001 — Redis down: compute, never fail the dashboard
        logging.getLogger(__name__).warning("assessment cache unavailable (%s)", type(error).__name__)
        hit, ttl = None, 0
    if hit is not None:
        return json.loads(hit)
    row = report(where, year, month, levels=())["scope"]
    if ttl > 0:
        try:
            redis.set(name, json.dumps(row, ensure_ascii=False), ex=ttl)
        except Exception as error:  # noqa: BLE001
            logging.getLogger(__name__).warning("assessment cache not written (%s)", type(error).__name__)
    return row


SORTABLE = ("score", "response_rate", "on_time_rate", "solve_rate", "satisfaction_rate",
            "callback_satisfaction_rate", "reopen_rate", "received", "urged", "supervised", "extensions",
            "pauses", "unrated", "name")


def ranked(rows: list[dict], sort: str = "score", descending: bool = True) -> list[dict]:
    """Rows sorted by one column (a rate nobody has — None — last either way), ties by name."""
    sort = sort if sort in SORTABLE else "score"
    have = [r for r in rows if r[sort] is not None]
    have.sort(key=lambda r: r["name"])
    have.sort(key=lambda r: r[sort], reverse=descending)
    return have + [r for r in rows if r[sort] is None]


# --- the console's ranking and its XLSX report ------------------------------------------------------

RANKERS = frozenset({"community_admin", "street_admin", "sysadmin"})


@replica.reads("assessment")
def for_staff(actor, year: int, month: int) -> dict:
    """The month's assessment of the actor's scope (a community admin's community, a street admin's
    street, the sysadmin's district): 403 for anyone else."""
    from ..errors import Forbidden
    from .services import figures_filter
    if not actor.is_staff or actor.role not in RANKERS:
        raise Forbidden("只有社区、街道管理员可以查看月度考核", code="forbidden")
    return {**report(figures_filter(actor), year, month), "scope_name": _scope_name(actor)}


def _scope_name(actor) -> str:
    from ..accounts.actors import scope_value
    from ..grids.models import Community, Street
    model = {"community_admin": Community, "street_admin": Street}.get(actor.role)
    found = db.session.get(model, scope_value(actor)) if model is not None else None
    return found.name if found is not None else "全区"


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


COLUMNS = (("name", "单位"), ("score", "得分"), ("deducted", "扣分"), ("received", "受理"),
           ("response_rate", "响应率"), ("solve_rate", "解决率"), ("on_time_rate", "按时办结率"),
           ("satisfaction_rate", "满意率"), ("callback_satisfaction_rate", "回访满意率"),
           ("reopen_rate", "重办率"), ("resolutions", "办结"), ("exempt", "免责"), ("urged", "催办"),
           ("supervised", "督办"), ("extensions", "延期"), ("pauses", "挂起"), ("unrated", "未评价"))
RATE_COLUMNS = {"response_rate", "solve_rate", "on_time_rate", "satisfaction_rate", "callback_satisfaction_rate",
                "reopen_rate"}


def xlsx(found: dict, scope_name: str) -> bytes:
    """The month's 考核 report as a workbook: a cover sheet with the whole scope's figures and the
    formulas, one ranked sheet per level, and the deductions per order (扣分明细)."""
    import io
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    book = Workbook()
    cover = book.active
    cover.title = "汇总"
    cover.append([f"{scope_name}{found['month']}考核报表"])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([])
    cover.append([title for key, title in COLUMNS if key != "name"])
    cover.append([_cell(found["scope"], key) for key, _ in COLUMNS if key != "name"])
    cover.append([])
    for line in FORMULAS:
        cover.append([line])
    details = []
    for level in LEVELS:
        sheet = book.create_sheet(LEVEL_NAMES[level])
        sheet.append(["排名", *(title for _, title in COLUMNS)])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for rank, row in enumerate(found[level], 1):
            sheet.append([rank, *(_cell(row, key) for key, _ in COLUMNS)])
            for d in row["deductions"]:
                details.append([LEVEL_NAMES[level], row["name"], d["number"],
                                "、".join(f"{r['reason']}{r['points']:g}分" for r in d["reasons"]), d["points"]])
        sheet.column_dimensions["B"].width = 20
    detail = book.create_sheet("扣分明细")
    detail.append(["层级", "单位", "工单号", "扣分原因", "扣分"])
    for line in details:
        detail.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(row: dict, key: str):
    value = row[key]
    return _pct(value) if key in RATE_COLUMNS else value


FORMULAS = (
    "响应率 = 按时签收（接单、派单、部门和物业报到在时限内）÷（签收 + 超时未签收被上移）",
    "按时办结率 = 按时办结 ÷（办结 + 超过办结时限被收回），延期批准后按延长后的时限计，挂起时间不计；免责工单不计入",
    "解决率 = 本月受理中月末已办结（未被重办）的工单 ÷ 本月受理",
    "满意率 =（满意 + 基本满意）÷ 居民自评，免责工单不计入；回访满意率按电话回访另计",
    "重办率 = 重办 ÷ 办结；催办、督办 = 时限内、超时后的督办次数；延期、挂起 = 批准的延期、停表的挂起次数",
    "扣分：超时签收1分、超时办结2分、不满意2分、重办1分、被催办0.5分、被督办1分；得分 = 100 − 扣分",
)
