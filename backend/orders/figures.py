"""The figures people judge the work by, computed one way for everyone who shows them: the staff
dashboard (per scope) and the public 公示 pages (per community and grid).

For a period starting at `since`: received (created; cancelled ones, and duplicates merged into another, not counted), claimed (first
taken — 接单 or 派单 — in the period), resolved (resolved in the period, and still resolved, rated or
archived), 办结率 = resolved / received, 按时办结率 = resolved by its resolve limit / resolved, mean
hours to claim and to resolve (from creation), rated, 满意率 = (满意 + 基本满意) / rated, unrated
(archived without a rating, 未评价) and overdue (open now, past its deadline, not paused).
延期 / 挂起 / 免责 (issue 26): an approved extension moves resolve-by, so 按时办结 is judged against the
extended limit, and `extended` counts those resolved orders apart; `paused` counts the resolved ones
whose clock was stopped; `exempt` counts the resolved ones the community exempted (申诉 approved):
they stay in received and resolved but leave 按时办结率 (on_time / (resolved − exempt)) and 满意率
(satisfied / rated, both without exempt orders). 回访 (issue 20): a rating staff recorded by phone
is not in `rated`; `callbacks` counts them and 回访满意率 = satisfied callbacks / callbacks. 合并 and 附议
(issue 20): `received` counts problems (件), `reports` the residents who raised them (人次: each
received order's reporter and its co-reporters, counted with the problem's period) — shown as
「反映 N 人次，合并为 M 件」. Property companies
get their own (`by_property`): what they were given, reported and resolved in time, and 满意率 —
exempt orders out of its rates too. The month's 考核 per unit (三率, 重办率, 催办/督办 …) is
`assessment.py`; the dashboard shows its scope's row."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, and_, case, cast, func, or_, select, text

from .. import clock, replica
from ..accounts.actors import Actor
from ..extensions import db
from . import assessment, states
from .models import FOUND_CHANNELS, CoReporter, Order, OrderEvent

DONE_STATES = (states.RESOLVED, states.RATED, states.CLOSED)
SATISFIED = ("satisfied", "basically_satisfied")
NOT_RECEIVED = (states.CANCELLED, states.MERGED)
TAKEN = ("claim", "assign")
DAYS = 30  # the daily chart's span
WEEKS_BEFORE = 4  # a hot spot is measured against this many weeks before this one


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def local_starts(now: datetime) -> tuple[datetime, datetime]:
    """The first moment of today and of this month, in the configured time zone."""
    local = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return today, today.replace(day=1)


def _seconds(later, earlier):
    """SQL for `later - earlier` in seconds, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def flagged(flag: str):
    """SQL: the order carries `flag`."""
    # flags is a JSON list of plain identifiers, stored as its text on both databases: a quoted
    # match is exact and needs neither jsonb nor SQLite's json_each.
    return cast(Order.flags, String).like('%"' + flag.replace("_", "\\_") + '"%', escape="\\")


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum(condition, value):
    return func.coalesce(func.sum(case((condition, value), else_=None)), 0)


def _figures(t: dict) -> dict:
    """The rates and means of one period's tallies."""
    def mean_hours(seconds, n):
        return round(float(seconds) / n / 3600, 1) if n else None
    return {"received": t["received"], "reports": int(t["reports"]), "claimed": t["claimed"], "resolved": t["resolved"],
            "resolve_rate": _rate(t["resolved"], t["received"]), "on_time": t["on_time"],
            "on_time_rate": _rate(t["on_time"], t["resolved"] - t["exempt"]),
            "hours_to_claim": mean_hours(t["claim_seconds"], t["claimed"]),
            # 接单 takes minutes (2 h at most for a normal order): the dashboard says minutes
            "minutes_to_claim": round(float(t["claim_seconds"]) / t["claimed"] / 60) if t["claimed"] else None,
            "hours_to_resolve": mean_hours(t["resolve_seconds"], t["resolved"]),
            "rated": t["rated"], "satisfaction_rate": _rate(t["satisfied"], t["rated_assessed"]),
            "unrated": t["unrated"], "overdue": t["overdue"],
            "extended": t["extended"], "paused": t["paused"], "exempt": t["exempt"],
            # 回访满意率: answers staff recorded by phone, counted apart from the residents' own ratings
            "callbacks": t["callbacks"], "callback_satisfaction_rate": _rate(t["callback_satisfied"], t["callbacks"])}


_TALLIES = ("received", "claimed", "claim_seconds", "resolved", "on_time", "unrated", "resolve_seconds",
            "rated", "satisfied", "overdue", "extended", "paused", "exempt", "rated_assessed",
            "callbacks", "callback_satisfied", "reports")


def empty_period() -> dict:
    """The figures of a period with no orders."""
    return _figures(dict.fromkeys(_TALLIES, 0))


def periods(where, starts: dict, now: datetime, *, claims: bool = True, group_by=None) -> dict:
    """The figures (module docstring) of each period `starts` names (name → first moment), counted
    in one statement over the orders touched since the earliest: {name: figures}; with `group_by`
    (a column), ({name: figures} of the whole, {value: {name: figures}} per value). Without
    `claims` the claim figures stay 0 / None (the public pages never showed them)."""
    since = min(starts.values())
    columns = [Order.state, Order.created_at, Order.resolved_at, Order.resolve_by, Order.satisfaction,
               Order.rated_at, Order.due_at, flagged("unrated").label("unrated"),
               flagged("exempt").label("exempt"), flagged("extended").label("extended"),
               flagged("was_paused").label("was_paused"), flagged("paused").label("paused"),
               Order.rating_source,
               # 人次 (issue 20): the residents who joined the problem (附议, merged in), one probe each
               select(func.count(CoReporter.id)).where(CoReporter.order_id == Order.id)
               .scalar_subquery().label("co")]
    if claims:
        # When it was first taken (接单 or 派单): one probe of ix_order_events_taken per order.
        columns.append(select(func.min(OrderEvent.created_at)).where(
            OrderEvent.order_id == Order.id, OrderEvent.action.in_(TAKEN)).scalar_subquery().label("taken"))
    if group_by is not None:
        columns.append(group_by.label("k"))
    # OFFSET 0 keeps the subquery a subquery: flattened, PostgreSQL would run the first-take probe
    # once for every CASE that reads it.
    o = select(*columns).where(where, _touched_since(since)).offset(0).subquery()
    tallies = []
    for name, start in starts.items():
        resolved = and_(o.c.state.in_(DONE_STATES), o.c.resolved_at >= start)
        answered = and_(o.c.satisfaction.is_not(None), o.c.satisfaction != "", o.c.rated_at >= start)
        called = and_(answered, o.c.rating_source == "callback")
        rated = and_(answered, or_(o.c.rating_source.is_(None), o.c.rating_source != "callback"))
        assessed = and_(resolved, ~o.c.exempt)
        tallies += [
            # a merged duplicate is the same problem as its original: received once (issue 20)
            _count(and_(o.c.created_at >= start, o.c.state.not_in(NOT_RECEIVED))).label(f"{name}.received"),
            _sum(and_(o.c.created_at >= start, o.c.state.not_in(NOT_RECEIVED)), 1 + o.c.co).label(f"{name}.reports"),
            _count(resolved).label(f"{name}.resolved"),
            _count(and_(assessed, or_(o.c.resolve_by.is_(None), o.c.resolved_at <= o.c.resolve_by)))
            .label(f"{name}.on_time"),
            _count(and_(resolved, o.c.extended)).label(f"{name}.extended"),
            _count(and_(resolved, o.c.was_paused)).label(f"{name}.paused"),
            _count(and_(resolved, o.c.exempt)).label(f"{name}.exempt"),
            _count(and_(resolved, o.c.unrated)).label(f"{name}.unrated"),
            _sum(resolved, _seconds(o.c.resolved_at, o.c.created_at)).label(f"{name}.resolve_seconds"),
            _count(rated).label(f"{name}.rated"),
            _count(and_(rated, ~o.c.exempt)).label(f"{name}.rated_assessed"),
            _count(and_(rated, ~o.c.exempt, o.c.satisfaction.in_(SATISFIED))).label(f"{name}.satisfied"),
            _count(called).label(f"{name}.callbacks"),
            _count(and_(called, o.c.satisfaction.in_(SATISFIED))).label(f"{name}.callback_satisfied"),
        ]
        if claims:
            taken = o.c.taken >= start
            tallies += [_count(taken).label(f"{name}.claimed"),
                        _sum(taken, _seconds(o.c.taken, o.c.created_at)).label(f"{name}.claim_seconds")]
    tallies.append(_count(and_(o.c.state.in_(states.OPEN_STATES), o.c.due_at < now, ~o.c.paused)).label("overdue"))
    query = select(*([o.c.k] if group_by is not None else []), *tallies)
    if group_by is not None:
        query = query.group_by(o.c.k)
    if db.session.get_bind().dialect.name == "postgresql":
        # The first-take probes make the estimate large enough for PostgreSQL to JIT-compile the
        # statement: 30 ms of compiling for 70 ms of running, on every call. For this
        # transaction only.
        db.session.execute(text("SET LOCAL jit = off"))
    found = {}
    for row in db.session.execute(query).mappings():
        found[row["k"] if group_by is not None else None] = {
            name: {tally: row.get(f"{name}.{tally}", 0) if tally != "overdue" else row["overdue"]
                   for tally in _TALLIES} for name in starts}
    finished = {k: {name: _figures(t) for name, t in group.items()} for k, group in found.items()}
    if group_by is None:
        return finished.get(None) or {name: empty_period() for name in starts}
    whole = {name: _figures({tally: sum(group[name][tally] for group in found.values()) for tally in _TALLIES})
             for name in starts}
    return whole, finished


def _touched_since(since: datetime):
    """Created, resolved or rated since `since`, or open now: every order a figure of a period
    starting at `since` or later can count."""
    return or_(Order.created_at >= since, Order.resolved_at >= since, Order.rated_at >= since,
               Order.state.in_(states.OPEN_STATES))


UNCLASSIFIED = "未分类"


def _top(path: str | None, levels: int) -> str:
    return "/".join(path.split("/")[:levels]) if path else UNCLASSIFIED


@replica.reads("dashboard")
def dashboard(actor: Actor, now: datetime | None = None) -> dict:
    """Everything the dashboard shows for the actor's scope: today's and this month's figures,
    orders per day (30 days), by category (top level, and second level under each), by grid, by
    channel, and the hot spots (top categories per grid this month; `rising` when this week has at
    least 3 and at least twice the weekly mean of the four weeks before). Counted in the database
    (a few grouped statements over the period's orders), never by loading the orders."""
    from .services import figures_filter
    now = now or clock.now()
    where = figures_filter(actor)
    today, month = local_starts(now)
    first_day = today - timedelta(days=DAYS - 1)
    week = now - timedelta(days=7)
    before = week - timedelta(weeks=WEEKS_BEFORE)
    figures_of = periods(where, {"today": today, "month": month}, now)
    charts = _charts(_created_groups(where, month, week, before))
    grids = _grid_names({g for g in charts["by_grid"] if g})
    per_day = _per_day(where, first_day)
    return {
        "today": figures_of["today"],
        "month": figures_of["month"],
        "per_day": [{"day": (first_day + timedelta(days=i)).date().isoformat(), "count": per_day[i]}
                    for i in range(DAYS)],
        "by_category": [{"category": k, "count": v, "children": [{"category": c, "count": n}
                                                                  for c, n in _most_common(charts["by_second"][k])]}
                        for k, v in _most_common(charts["by_top"])],
        "by_grid": [{"grid": grids.get(k, "待分派"), "count": v} for k, v in _most_common(charts["by_grid"])],
        "by_channel": [{"channel": k, "count": v} for k, v in _most_common(charts["by_channel"])],
        "sources": charts["sources"],
        "hot_spots": _hot_spots(charts, grids),
        "by_property": by_property(where, month),
        # 三率 and the rest of this month's 考核 for the whole scope (orders/assessment.py: the ranking,
        # its report and 公示 read the same)
        "assessment": assessment.scope_row(_scope_key(actor), where, month.year, month.month),
    }


def _scope_key(actor: Actor) -> str:
    """Who shares a dashboard's scope (the assessment row's cache key): role and scope value."""
    from ..accounts.actors import scope_value
    return f"{actor.role}:{scope_value(actor) if actor.role != 'sysadmin' else 'all'}"


def _most_common(counter: Counter) -> list[tuple]:
    # Largest first, 未分类 (orders nobody classified yet) after every real category; ties by name,
    # so the order does not depend on the order rows came back in.
    return sorted(counter.items(), key=lambda kv: (kv[0] == UNCLASSIFIED, -kv[1], str(kv[0])))


def _created_groups(where, month: datetime, week: datetime, before: datetime) -> list[tuple]:
    """The orders created since the earlier of `month` and `before`, counted per grid, category,
    channel, cancelled or not and settled on the spot or not: (grid id, category, channel,
    cancelled, on the spot, how many this month, this week, in the four weeks before it)."""
    # Not received: cancelled, and duplicates merged into another (as in `periods`), so the charts
    # add up to 受理 (issue 24: 本月按网格 said 75 beside 受理 73, two cancelled orders).
    cancelled = Order.state.in_(NOT_RECEIVED).label("cancelled")
    on_spot = flagged("on_the_spot").label("on_spot")
    query = (select(Order.grid_id, Order.category, Order.channel, cancelled, on_spot,
                    _count(Order.created_at >= month).label("month"),
                    _count(Order.created_at >= week).label("week"),
                    _count(and_(Order.created_at >= before, Order.created_at < week)).label("earlier"))
             .where(where, Order.created_at >= min(month, before))
             .group_by(Order.grid_id, Order.category, Order.channel, cancelled, on_spot))
    return db.session.execute(query).tuples().all()


def _charts(groups: list[tuple]) -> dict:
    """The month's counters by category, grid and channel, its sources (found by the grid's own
    rounds against reported by residents — every other channel —, and how many found ones were
    settled on the spot, 小事不出格; cancelled orders not counted, as in `periods`), and the hot
    spots' counts per (grid, second-level category): this month, this week, the four weeks before."""
    by_top, by_second, by_grid, by_channel = Counter(), defaultdict(Counter), Counter(), Counter()
    spot_month, spot_week, spot_earlier = Counter(), Counter(), Counter()
    found = reported = settled = 0
    levels: dict = {}
    for grid_id, category, channel, cancelled, on_spot, month, week, earlier in groups:
        if category not in levels:
            levels[category] = (_top(category, 1), _top(category, 2))
        first, second = levels[category]
        if cancelled:
            continue
        if second != UNCLASSIFIED:  # 未分类 is no problem of its own: never a hot spot
            spot_week[(grid_id, second)] += week
            spot_earlier[(grid_id, second)] += earlier
        if not month:
            continue
        by_top[first] += month
        by_second[first][second] += month
        by_grid[grid_id] += month
        by_channel[channel] += month
        if grid_id and second != UNCLASSIFIED:
            spot_month[(grid_id, second)] += month
        if channel in FOUND_CHANNELS:
            found += month
            settled += month if on_spot else 0
        else:
            reported += month
    return {"by_top": by_top, "by_second": by_second, "by_grid": by_grid, "by_channel": by_channel,
            "sources": {"found": found, "reported": reported, "settled_on_spot": settled},
            "spot_month": spot_month, "spot_week": spot_week, "spot_earlier": spot_earlier}


def _per_day(where, first_day: datetime) -> list[int]:
    """Orders created on each of the DAYS local days from `first_day`: the days' bounds are local
    midnights computed here, so the database needs no time zone rules."""
    bounds = [first_day + timedelta(days=i) for i in range(DAYS)]
    bucket = case(*((Order.created_at >= b, i) for i, b in reversed(list(enumerate(bounds)))), else_=None)
    after = first_day + timedelta(days=DAYS)
    counts = dict(db.session.execute(select(bucket.label("day"), func.count())
                                     .where(where, Order.created_at >= first_day, Order.created_at < after,
                                            Order.state.not_in(NOT_RECEIVED))
                                     .group_by(bucket)).all())
    return [counts.get(i, 0) for i in range(DAYS)]


def _hot_spots(charts: dict, grids: dict, per_grid: int = 3) -> list[dict]:
    per_grid_month = defaultdict(list)
    for (grid_id, category), count in charts["spot_month"].items():
        per_grid_month[grid_id].append((category, count))
    spots = []
    # By name, and grids of the same name (第1网格 in each community) by id, as they were made.
    for grid_id in sorted(per_grid_month, key=lambda g: (grids.get(g, ""), g)):
        top = sorted(per_grid_month[grid_id], key=lambda cn: (-cn[1], cn[0]))
        for category, count in top[:per_grid]:
            this_week = charts["spot_week"][(grid_id, category)]
            weekly = charts["spot_earlier"][(grid_id, category)] / WEEKS_BEFORE
            spots.append({"grid": grids.get(grid_id, ""), "category": category, "month": count,
                          "this_week": this_week, "weekly_before": round(weekly, 2),
                          "rising": this_week >= 3 and this_week >= 2 * weekly})
    return spots


def _grid_names(ids) -> dict:
    from ..grids.models import Grid
    return dict(db.session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(list(ids)))).all()) if ids else {}


# --- property companies (物业): the figures underperforming ones were replaced on ---------------

_PROPERTY_EVENTS = ("submit", "dispatch_property", "claim", "resolve", "return_from_property", "rate", "reopen",
                    "approve_appeal")


def _property_tally() -> dict:
    return {"offered": 0, "acknowledged": 0, "acknowledged_on_time": 0, "resolved": 0, "resolved_on_time": 0,
            "returned": 0, "returned_unacknowledged": 0, "missed": 0, "rated": 0, "satisfied": 0,
            "exempt": 0, "rated_assessed": 0}


def by_property(where, since: datetime) -> list[dict]:
    """Per property company, for what it was given from `since` on: offered (at creation or by
    派给物业), reported (报到) and reported in time, resolved and resolved in time, returned to the
    community (and of those, by a missed limit), and the residents' 满意率 of what it resolved —
    a rating counts for the property that made the resolution it rates. The rates count only what is
    decided: an order still waiting within its limit is neither in time nor late yet. An order the
    community exempted (申诉 approved, whenever) stays in every count but leaves 按时办结率 and 满意率
    (`exempt`: its resolutions and returns). Read from the events the lifecycle rows write
    (`property`, `on_time`), so a later move of the order changes nothing."""
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
    exempt = {e.order_id for e in events if e.action == "approve_appeal"}
    for e in events:
        data = e.data or {}
        if e.action == "approve_appeal":
            continue
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
            tally["resolved_on_time"] += bool(data.get("on_time")) and e.order_id not in exempt
            tally["exempt"] += e.order_id in exempt
        elif e.action == "return_from_property":
            tally["returned"] += 1
            tally["exempt"] += e.order_id in exempt
            tally["returned_unacknowledged"] += e.from_state in states.UNCLAIMED_STATES
            tally["missed"] += e.actor_type == "system"
        elif e.actor_type == "resident" and data.get("satisfaction"):
            tally["rated"] += 1
            if e.order_id not in exempt:
                tally["rated_assessed"] += 1
                tally["satisfied"] += data["satisfaction"] in SATISFIED
    names = dict(db.session.execute(select(PropertyCompany.id, PropertyCompany.name)
                                    .where(PropertyCompany.id.in_(list(tallies)))).all()) if tallies else {}
    return [{"company": names.get(company_id, ""), **tally,
             "acknowledge_rate": _rate(tally["acknowledged_on_time"],
                                       tally["acknowledged"] + tally["returned_unacknowledged"]),
             "on_time_rate": _rate(tally["resolved_on_time"],
                                   tally["resolved"] + tally["returned"] - tally["exempt"]),
             "satisfaction_rate": _rate(tally["satisfied"], tally["rated_assessed"])}
            for company_id, tally in sorted(tallies.items(), key=lambda kv: names.get(kv[0], ""))]
