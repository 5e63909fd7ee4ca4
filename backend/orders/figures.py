"""The figures people judge the work by, computed one way for everyone who shows them: the staff
dashboard (per scope) and the public 公示 pages (per community and grid).

For a period starting at `since`: received (created, cancelled ones not counted), claimed (first
taken — 接单 or 派单 — in the period), resolved (resolved in the period, and still resolved, rated or
archived), 办结率 = resolved / received, 按时办结率 = resolved by its resolve limit / resolved, mean
hours to claim and to resolve (from creation), rated, 满意率 = (满意 + 基本满意) / rated, unrated
(archived without a rating, 未评价) and overdue (open now, past its deadline). Property companies
get their own (`by_property`): what they were given, reported and resolved in time, and 满意率."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.actors import Actor
from ..extensions import db
from . import states
from .models import FOUND_CHANNELS, Order, OrderEvent

DONE_STATES = (states.RESOLVED, states.RATED, states.CLOSED)
SATISFIED = ("satisfied", "basically_satisfied")
TAKEN = ("claim", "assign")
DAYS = 30  # the daily chart's span
WEEKS_BEFORE = 4  # a hot spot is measured against this many weeks before this one


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean_hours(spans: list[timedelta]) -> float | None:
    return round(sum(s.total_seconds() for s in spans) / len(spans) / 3600, 1) if spans else None


def local_starts(now: datetime) -> tuple[datetime, datetime]:
    """The first moment of today and of this month, in the configured time zone."""
    local = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today.replace(day=1)


def period(rows, since: datetime, now: datetime, claimed_at: dict | None = None) -> dict:
    """The figures of the rows (orders with the columns `columns()` selects) for the period."""
    claimed_at = claimed_at or {}
    # The same instants in UTC, as the rows' own: comparing against a ZoneInfo time costs ~40× more,
    # and a dashboard makes a dozen comparisons for each of tens of thousands of rows.
    since, now = since.astimezone(timezone.utc), now.astimezone(timezone.utc)
    received = resolved = on_time = rated = satisfied = unrated = overdue = claimed = 0
    to_claim, to_resolve = [], []
    for o in rows:
        if o.created_at >= since and o.state != states.CANCELLED:
            received += 1
        taken = claimed_at.get(o.id)
        if taken is not None and taken >= since:
            claimed += 1
            to_claim.append(taken - o.created_at)
        if o.state in DONE_STATES and o.resolved_at and o.resolved_at >= since:
            resolved += 1
            on_time += bool(o.resolve_by is None or o.resolved_at <= o.resolve_by)
            unrated += "unrated" in (o.flags or [])
            to_resolve.append(o.resolved_at - o.created_at)
        if o.satisfaction and o.rated_at and o.rated_at >= since:
            rated += 1
            satisfied += o.satisfaction in SATISFIED
        if o.state in states.OPEN_STATES and o.due_at and o.due_at < now:
            overdue += 1
    return {"received": received, "claimed": claimed, "resolved": resolved,
            "resolve_rate": _rate(resolved, received), "on_time": on_time, "on_time_rate": _rate(on_time, resolved),
            "hours_to_claim": _mean_hours(to_claim), "hours_to_resolve": _mean_hours(to_resolve),
            "rated": rated, "satisfaction_rate": _rate(satisfied, rated), "unrated": unrated, "overdue": overdue}


def columns():
    return (Order.id, Order.grid_id, Order.state, Order.channel, Order.category, Order.created_at,
            Order.resolved_at, Order.resolve_by, Order.satisfaction, Order.rated_at, Order.flags, Order.due_at)


def rows_since(where, since: datetime):
    """Orders touched since `since` (created, resolved or rated), plus every open overdue one."""
    return db.session.execute(select(*columns()).where(where, _touched_since(since))).all()


def claimed_since(where, since: datetime) -> dict:
    """order id → when it was first taken, for the orders `rows_since(where, since)` returns: one
    grouped join instead of the ids sent back in chunks."""
    return dict(db.session.execute(
        select(OrderEvent.order_id, func.min(OrderEvent.created_at))
        .join(Order, Order.id == OrderEvent.order_id)
        .where(where, _touched_since(since), OrderEvent.action.in_(TAKEN))
        .group_by(OrderEvent.order_id)).all())


def _touched_since(since: datetime):
    return or_(Order.created_at >= since, Order.resolved_at >= since, Order.rated_at >= since,
               Order.state.in_(states.OPEN_STATES))


def claimed_times(order_ids) -> dict:
    """order id → when it was first taken (claim or assign)."""
    ids = list(order_ids)
    found = {}
    for chunk in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        found.update(db.session.execute(
            select(OrderEvent.order_id, func.min(OrderEvent.created_at))
            .where(OrderEvent.order_id.in_(ids[chunk:chunk + 900]), OrderEvent.action.in_(TAKEN))
            .group_by(OrderEvent.order_id)).all())
    return found


def _top(path: str | None, levels: int) -> str:
    return "/".join(path.split("/")[:levels]) if path else "未分类"


def dashboard(actor: Actor, now: datetime | None = None) -> dict:
    """Everything the dashboard shows for the actor's scope: today's and this month's figures,
    orders per day (30 days), by category (top level, and second level under each), by grid, by
    channel, and the hot spots (top categories per grid this month; `rising` when this week has at
    least 3 and at least twice the weekly mean of the four weeks before)."""
    from .services import scope_filter
    now = now or clock.now()
    today, month = local_starts(now)
    first_day = today - timedelta(days=DAYS - 1)
    week = now - timedelta(days=7)
    since = min(month, first_day, week - timedelta(weeks=WEEKS_BEFORE))
    rows = rows_since(scope_filter(actor), since)
    claimed = claimed_since(scope_filter(actor), since)
    month_utc, first_day_utc = month.astimezone(timezone.utc), first_day.astimezone(timezone.utc)
    this_month = [r for r in rows if r.created_at >= month_utc]

    per_day = Counter(r.created_at.astimezone(today.tzinfo).date() for r in rows if r.created_at >= first_day_utc)
    by_top = Counter(_top(r.category, 1) for r in this_month)
    by_second = defaultdict(Counter)
    for r in this_month:
        by_second[_top(r.category, 1)][_top(r.category, 2)] += 1
    grids = _grid_names({r.grid_id for r in rows if r.grid_id})
    return {
        "today": period(rows, today, now, claimed),
        "month": period(rows, month, now, claimed),
        "per_day": [{"day": (first_day + timedelta(days=i)).date().isoformat(),
                     "count": per_day.get((first_day + timedelta(days=i)).date(), 0)} for i in range(DAYS)],
        "by_category": [{"category": k, "count": v, "children": [{"category": c, "count": n}
                                                                  for c, n in by_second[k].most_common()]}
                        for k, v in by_top.most_common()],
        "by_grid": [{"grid": grids.get(k, "待分派"), "count": v}
                    for k, v in Counter(r.grid_id for r in this_month).most_common()],
        "by_channel": [{"channel": k, "count": v} for k, v in Counter(r.channel for r in this_month).most_common()],
        "sources": sources(this_month),
        "hot_spots": _hot_spots(rows, this_month, grids, week),
        "by_property": by_property(scope_filter(actor), month),
    }


def sources(rows) -> dict:
    """Found by the grid's own rounds (patrol) against reported by residents (every other channel:
    their own, or told to staff by phone, letter, visit), and how many found ones were settled on
    the spot (resolved with no claim, "小事不出格"). Cancelled orders are not counted, as in `period`."""
    counted = [r for r in rows if r.state != states.CANCELLED]
    found = [r for r in counted if r.channel in FOUND_CHANNELS]
    return {"found": len(found), "reported": len(counted) - len(found),
            "settled_on_spot": sum("on_the_spot" in (r.flags or []) for r in found)}


def _hot_spots(rows, this_month, grids: dict, week: datetime, per_grid: int = 3) -> list[dict]:
    before = week - timedelta(weeks=WEEKS_BEFORE)
    recent = Counter((r.grid_id, _top(r.category, 2)) for r in rows if r.created_at >= week)
    earlier = Counter((r.grid_id, _top(r.category, 2)) for r in rows if before <= r.created_at < week)
    month = Counter((r.grid_id, _top(r.category, 2)) for r in this_month if r.grid_id)
    spots = []
    for grid_id in sorted({g for g, _ in month}, key=lambda g: grids.get(g, "")):
        top = sorted(((c, n) for (g, c), n in month.items() if g == grid_id), key=lambda cn: (-cn[1], cn[0]))
        for category, count in top[:per_grid]:
            this_week, weekly = recent[(grid_id, category)], earlier[(grid_id, category)] / WEEKS_BEFORE
            spots.append({"grid": grids.get(grid_id, ""), "category": category, "month": count,
                          "this_week": this_week, "weekly_before": round(weekly, 2),
                          "rising": this_week >= 3 and this_week >= 2 * weekly})
    return spots


def _grid_names(ids) -> dict:
    from ..grids.models import Grid
    return dict(db.session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(list(ids)))).all()) if ids else {}


# --- property companies (物业): the figures underperforming ones were replaced on ---------------

_PROPERTY_EVENTS = ("submit", "dispatch_property", "claim", "resolve", "return_from_property", "rate", "reopen")


def _property_tally() -> dict:
    return {"offered": 0, "acknowledged": 0, "acknowledged_on_time": 0, "resolved": 0, "resolved_on_time": 0,
            "returned": 0, "returned_unacknowledged": 0, "missed": 0, "rated": 0, "satisfied": 0}


def by_property(where, since: datetime) -> list[dict]:
    """Per property company, for what it was given from `since` on: offered (at creation or by
    派给物业), reported (报到) and reported in time, resolved and resolved in time, returned to the
    community (and of those, by a missed limit), and the residents' 满意率 of what it resolved —
    a rating counts for the property that made the resolution it rates. The rates count only what is
    decided: an order still waiting within its limit is neither in time nor late yet. Read from the
    events the lifecycle rows write (`property`, `on_time`), so a later move of the order changes
    nothing."""
    from ..grids.models import PropertyCompany
    order_ids = list(db.session.scalars(select(Order.id).where(
        where, Order.property_company_id.is_not(None), Order.updated_at >= since)))
    events = []
    for chunk in range(0, len(order_ids), 900):  # SQLite's bound-parameter limit
        events += db.session.execute(
            select(OrderEvent.order_id, OrderEvent.action, OrderEvent.actor_type, OrderEvent.data,
                   OrderEvent.from_state, OrderEvent.created_at)
            .where(OrderEvent.order_id.in_(order_ids[chunk:chunk + 900]), OrderEvent.action.in_(_PROPERTY_EVENTS))
            .order_by(OrderEvent.order_id, OrderEvent.id)).all()
    tallies: dict[int, dict] = defaultdict(_property_tally)
    resolved_by: dict[int, int | None] = {}
    for e in events:
        data = e.data or {}
        if e.action == "resolve":
            resolved_by[e.order_id] = data.get("property")
        company = data.get("property") if e.action not in ("rate", "reopen") else resolved_by.get(e.order_id)
        if company is None or e.created_at < since:
            continue
        tally = tallies[company]
        if e.action in ("submit", "dispatch_property"):
            tally["offered"] += 1
        elif e.action == "claim":
            tally["acknowledged"] += 1
            tally["acknowledged_on_time"] += bool(data.get("on_time"))
        elif e.action == "resolve":
            tally["resolved"] += 1
            tally["resolved_on_time"] += bool(data.get("on_time"))
        elif e.action == "return_from_property":
            tally["returned"] += 1
            tally["returned_unacknowledged"] += e.from_state in states.UNCLAIMED_STATES
            tally["missed"] += e.actor_type == "system"
        elif e.actor_type == "resident" and data.get("satisfaction"):
            tally["rated"] += 1
            tally["satisfied"] += data["satisfaction"] in SATISFIED
    names = dict(db.session.execute(select(PropertyCompany.id, PropertyCompany.name)
                                    .where(PropertyCompany.id.in_(list(tallies)))).all()) if tallies else {}
    return [{"company": names.get(company_id, ""), **tally,
             "acknowledge_rate": _rate(tally["acknowledged_on_time"],
                                       tally["acknowledged"] + tally["returned_unacknowledged"]),
             "on_time_rate": _rate(tally["resolved_on_time"], tally["resolved"] + tally["returned"]),
             "satisfaction_rate": _rate(tally["satisfied"], tally["rated"])}
            for company_id, tally in sorted(tallies.items(), key=lambda kv: names.get(kv[0], ""))]
