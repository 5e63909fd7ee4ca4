"""公示 (结果公开): what the public may see of a community's work — the month's figures per community
and grid, and recently resolved orders with what was done, masked.

Never shown: cancelled orders, orders staff marked private (lifecycle `make_private`), the text of
any order WeChat's content check has not passed (flagged, or not checked yet), and anything personal (`masking.mask` on every text; no names, no
openids, no resident ids). Pages are computed once per PUBLIC_CACHE_SECONDS and kept in Redis; when
Redis is down they are computed per request (slower, never an error)."""
import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from .. import clock, replica
from ..categories import taxonomy
from ..errors import NotFound
from ..extensions import db, redis
from ..grids.models import Community, Grid
from ..labels import label
from ..masking import mask
from ..orders import figures, states
from ..orders.models import Order
from ..wechat.services import is_publishable

log = logging.getLogger(__name__)

DONE_STATES = (states.RESOLVED, states.RATED, states.CLOSED)
def listed(order) -> bool:
    """May the public see that this order exists? Not when it was withdrawn or staff marked it
    private (lifecycle `make_private`)."""
    return order.state != states.CANCELLED and "private" not in (order.flags or [])


def text_public(order) -> bool:
    """May the public read what the resident wrote? Only once WeChat's content check passed and
    nobody flagged it (`wechat.services.is_publishable`, the rule the check was built for)."""
    return listed(order) and is_publishable(order)
TEXT_LIMIT = 140  # characters of a request shown in the list: the gist, not the whole letter


def _figures(where, since: datetime, group_by=None):
    """The month's figures (orders.figures, counted in the database; the claim figures are not
    public), of the whole or, with `group_by`, (whole, {value: figures})."""
    found = figures.periods(where, {"month": since}, clock.now(), claims=False, group_by=group_by)
    if group_by is None:
        return found["month"]
    whole, groups = found
    return whole["month"], {k: v["month"] for k, v in groups.items()}


def _category(path: str | None) -> str:
    if not path:
        return "其他"
    return "／".join(path.split("/")[:2]) if taxonomy.is_valid(path) else path


def _local(dt: datetime | None, tz: str) -> str | None:
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d") if dt else None


def _recent(community_id: int, tz: str, limit: int) -> list[dict]:
    # Fetch a few times the limit: hidden orders are filtered here (flags are JSON, not a column).
    candidates = db.session.scalars(
        select(Order).options(selectinload(Order.events), selectinload(Order.grid), selectinload(Order.co_reporters))
        # Done orders always carry resolved_at (the lifecycle sets it on resolving); said here, it
        # keeps PostgreSQL's newest-first scan from first stepping over every unresolved order,
        # whose NULLs sort first.
        .where(Order.community_id == community_id, Order.state.in_(DONE_STATES), Order.resolved_at.is_not(None))
        .order_by(Order.resolved_at.desc(), Order.id.desc()).limit(limit * 4)).all()
    shown = []
    for o in candidates:
        if not text_public(o):
            continue
        text = mask(o.text) or ""
        shown.append({
            "number": o.number,
            "category": _category(o.category),
            "grid": o.grid.name if o.grid else None,
            "request": text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…",
            # one result per problem (merged duplicates are never listed), with how many residents
            # raised it: its reporter and co-reporters, counted, never named (issue 20)
            "residents": 1 + len(o.co_reporters),
            "result": mask(o.result),
            "resolved_on": _local(o.resolved_at, tz),
            "satisfaction": label("satisfactions", o.satisfaction) if o.state != states.RESOLVED else None,
        })
        if len(shown) == limit:
            break
    return shown


def _cached(key: str, compute):
    ttl = int(current_app.config["PUBLIC_CACHE_SECONDS"])
    if ttl > 0:
        try:
            hit = redis.get(key)
            if hit is not None:
                return json.loads(hit)
        except Exception as error:  # noqa: BLE001 — Redis down: compute, never fail the page
            log.warning("public page cache unavailable (%s); computing without it", type(error).__name__)
            return compute()
    value = compute()
    if ttl > 0:
        try:
            redis.set(key, json.dumps(value, ensure_ascii=False), ex=ttl)
        except Exception as error:  # noqa: BLE001
            log.warning("public page cache not written (%s)", type(error).__name__)
    return value


def _month_label(since: datetime) -> str:
    return f"{since.year}年{since.month}月"


@replica.reads("public")
def index(now: datetime | None = None) -> dict:
    """Every community with this month's figures."""
    since = figures.local_starts(now or clock.now())[1]

    def compute():
        communities = db.session.scalars(select(Community).order_by(Community.name)).all()
        _, per_community = _figures(true(), since, group_by=Order.community_id)
        empty = figures.empty_period()
        return {"month": _month_label(since), "communities": [
            {"id": c.id, "name": c.name, "street": c.street.name, "figures": per_community.get(c.id, empty)}
            for c in communities]}
    return _cached(f"public:index:{since:%Y%m}", compute)


@replica.reads("public")
def community_page(community_id: int, now: datetime | None = None) -> dict:
    """One community: the month's figures, the same per grid, and recently resolved orders."""
    tz = current_app.config["TIMEZONE"]
    since = figures.local_starts(now or clock.now())[1]
    # A number too large for the column is simply no community (not a database error).
    community = db.session.get(Community, community_id) if 0 < community_id < 2**31 else None
    if community is None:
        raise NotFound("没有这个社区")

    def compute():
        grids = db.session.scalars(select(Grid).where(Grid.community_id == community.id).order_by(Grid.code)).all()
        whole, per_grid = _figures(Order.community_id == community.id, since, group_by=Order.grid_id)
        empty = figures.empty_period()
        return {
            "id": community.id, "name": community.name, "street": community.street.name,
            "month": _month_label(since), "figures": whole,
            "grids": [{"name": g.name, "figures": per_grid.get(g.id, empty)} for g in grids],
            "recent": _recent(community.id, tz, int(current_app.config["PUBLIC_RECENT_LIMIT"])),
        }
    return _cached(f"public:community:{community.id}:{since:%Y%m}", compute)


@replica.reads("public")
def disputes_page() -> dict:
    """公示 of settled disputes: only those every party agreed to publish (disputes.lifecycle
    `publish`), with the text masked when it was published; parties only as kinds, never names."""
    from ..disputes import services as disputes
    tz = current_app.config["TIMEZONE"]
    return {"disputes": [{
        "id": d.id, "community": d.community.name, "topic": label("dispute_topics", d.topic),
        "text": d.public_text, "method": label("decision_methods", d.decision_method),
        "votes": (d.votes_for, d.votes_against, d.votes_abstain) if d.decision_method == "vote" else None,
        "meetings": len(d.meetings), "parties": sorted({label("party_kinds", p.kind) for p in d.parties}),
        "published_on": _local(d.published_at, tz)} for d in disputes.published()]}


@replica.reads("public")
def assessment_page(month: str | None = None, now: datetime | None = None) -> dict:
    """The month's 三率 — 响应率, 解决率, 满意率 — and 按时办结率 per community and per grid, from the one
    assessment module (orders.assessment, which the console's ranking and its report read too).
    Units and rates only: no worker, no order, no deduction is public."""
    from ..errors import ValidationFailed
    from ..orders import assessment
    local = clock.local(now or clock.now(), current_app.config["TIMEZONE"])
    year, number = local.year, local.month
    if month:
        try:
            if len(month) != 7 or not month.isascii():
                raise ValueError(month)
            year, number = (int(x) for x in month.split("-"))
            assessment.month_bounds(year, number)
        except ValueError:
            raise ValidationFailed("月份格式应为 2026-11", fields={"month": ["月份格式应为 2026-11"]}) from None
        if (year, number) > (local.year, local.month) or year < 2000:
            raise NotFound("没有这个月份的考核")

    def compute():
        found = assessment.report(true(), year, number, levels=("community", "grid"))
        shown = ("received", "response_rate", "solve_rate", "satisfaction_rate", "on_time_rate", "rated")
        public = {level: {r["key"]: {k: r[k] for k in shown} for r in found[level]} for level in ("community", "grid")}
        empty = dict.fromkeys(shown)
        communities = db.session.scalars(select(Community).order_by(Community.name)).all()
        grids = db.session.scalars(select(Grid).order_by(Grid.code)).all()
        return {"month": found["month"], "value": f"{year:04d}-{number:02d}", "communities": [
            {"id": c.id, "name": c.name, "street": c.street.name, "figures": public["community"].get(c.id, empty),
             "grids": [{"name": g.name, "figures": public["grid"].get(g.id, empty)}
                       for g in grids if g.community_id == c.id]} for c in communities]}
    return _cached(f"public:assessment:{year:04d}{number:02d}", compute)
