"""The dashboard's and the public pages' figures as they were first written: every order touched in
the period loaded and counted in Python. Kept here only as the definition the SQL counting in
backend.orders.figures must reproduce (tests/orders/test_figures_sql.py). The one liberty: ties
in the charts are ordered by name, as the SQL version does; here they came in the database's row
order, which nothing specified."""
from collections import Counter, defaultdict
from datetime import timedelta, timezone

from sqlalchemy import func, or_, select

from backend import clock
from backend.extensions import db
from backend.orders import states
from backend.orders.figures import DAYS, DONE_STATES, SATISFIED, TAKEN, WEEKS_BEFORE, _grid_names, _top, local_starts
from backend.orders.models import FOUND_CHANNELS, CoReporter, Order, OrderEvent


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _mean_hours(spans):
    return round(sum(s.total_seconds() for s in spans) / len(spans) / 3600, 1) if spans else None


def period(rows, since, now, claimed_at=None):
    claimed_at = claimed_at or {}
    since, now = since.astimezone(timezone.utc), now.astimezone(timezone.utc)
    received = resolved = on_time = rated = satisfied = unrated = overdue = claimed = 0
    extended = paused = exempt = rated_assessed = 0
    callbacks = callback_satisfied = reports = 0
    joined = Counter(db.session.scalars(select(CoReporter.order_id)))  # co-reporters per order
    to_claim, to_resolve = [], []
    for o in rows:
        flags = o.flags or []
        if o.created_at >= since and o.state not in (states.CANCELLED, states.MERGED):
            received += 1
            reports += 1 + joined[o.id]  # the reporter and everyone who joined (人次)
        taken = claimed_at.get(o.id)
        if taken is not None and taken >= since:
            claimed += 1
            to_claim.append(taken - o.created_at)
        if o.state in DONE_STATES and o.resolved_at and o.resolved_at >= since:
            resolved += 1
            # 免责: an exempt order is resolved like any other, but judged for neither rate
            on_time += "exempt" not in flags and bool(o.resolve_by is None or o.resolved_at <= o.resolve_by)
            unrated += "unrated" in flags
            extended += "extended" in flags
            paused += "was_paused" in flags
            exempt += "exempt" in flags
            to_resolve.append(o.resolved_at - o.created_at)
        if o.satisfaction and o.rated_at and o.rated_at >= since and o.rating_source == "callback":
            callbacks += 1
            callback_satisfied += o.satisfaction in SATISFIED
        elif o.satisfaction and o.rated_at and o.rated_at >= since:
            rated += 1
            rated_assessed += "exempt" not in flags
            satisfied += "exempt" not in flags and o.satisfaction in SATISFIED
        if o.state in states.OPEN_STATES and o.due_at and o.due_at < now and "paused" not in flags:
            overdue += 1
    return {"received": received, "reports": reports, "claimed": claimed, "resolved": resolved,
            "resolve_rate": _rate(resolved, received), "on_time": on_time,
            "on_time_rate": _rate(on_time, resolved - exempt),
            "hours_to_claim": _mean_hours(to_claim), "hours_to_resolve": _mean_hours(to_resolve),
            "rated": rated, "satisfaction_rate": _rate(satisfied, rated_assessed), "unrated": unrated,
            "overdue": overdue, "extended": extended, "paused": paused, "exempt": exempt,
            "callbacks": callbacks, "callback_satisfaction_rate": _rate(callback_satisfied, callbacks)}


def _touched_since(since):
    return or_(Order.created_at >= since, Order.resolved_at >= since, Order.rated_at >= since,
               Order.state.in_(states.OPEN_STATES))


def rows_since(where, since):
    return db.session.execute(select(
        Order.id, Order.grid_id, Order.state, Order.channel, Order.category, Order.created_at, Order.resolved_at,
        Order.resolve_by, Order.satisfaction, Order.rated_at, Order.flags, Order.due_at, Order.rating_source)
        .where(where, _touched_since(since))).all()


def claimed_since(where, since):
    return dict(db.session.execute(
        select(OrderEvent.order_id, func.min(OrderEvent.created_at))
        .join(Order, Order.id == OrderEvent.order_id)
        .where(where, _touched_since(since), OrderEvent.action.in_(TAKEN))
        .group_by(OrderEvent.order_id)).all())


def _most_common(counter):
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))


def dashboard(where, now=None):
    """figures.dashboard without by_property (which did not change)."""
    now = now or clock.now()
    today, month = local_starts(now)
    first_day = today - timedelta(days=DAYS - 1)
    week = now - timedelta(days=7)
    since = min(month, first_day, week - timedelta(weeks=WEEKS_BEFORE))
    rows = rows_since(where, since)
    claimed = claimed_since(where, since)
    month_utc, first_day_utc = month.astimezone(timezone.utc), first_day.astimezone(timezone.utc)
    this_month = [r for r in rows if r.created_at >= month_utc]
    per_day = Counter(r.created_at.astimezone(today.tzinfo).date() for r in rows if r.created_at >= first_day_utc)
    by_top = Counter(_top(r.category, 1) for r in this_month)
    by_second = defaultdict(Counter)
    for r in this_month:
        by_second[_top(r.category, 1)][_top(r.category, 2)] += 1
    grids = _grid_names({r.grid_id for r in rows if r.grid_id})
    counted = [r for r in this_month if r.state != states.CANCELLED]
    found = [r for r in counted if r.channel in FOUND_CHANNELS]
    before = week - timedelta(weeks=WEEKS_BEFORE)
    recent = Counter((r.grid_id, _top(r.category, 2)) for r in rows if r.created_at >= week)
    earlier = Counter((r.grid_id, _top(r.category, 2)) for r in rows if before <= r.created_at < week)
    month_spots = Counter((r.grid_id, _top(r.category, 2)) for r in this_month if r.grid_id)
    spots = []
    for grid_id in sorted({g for g, _ in month_spots}, key=lambda g: grids.get(g, "")):
        top = sorted(((c, n) for (g, c), n in month_spots.items() if g == grid_id), key=lambda cn: (-cn[1], cn[0]))
        for category, count in top[:3]:
            this_week, weekly = recent[(grid_id, category)], earlier[(grid_id, category)] / WEEKS_BEFORE
            spots.append({"grid": grids.get(grid_id, ""), "category": category, "month": count,
                          "this_week": this_week, "weekly_before": round(weekly, 2),
                          "rising": this_week >= 3 and this_week >= 2 * weekly})
    return {
        "today": period(rows, today, now, claimed),
        "month": period(rows, month, now, claimed),
        "per_day": [{"day": (first_day + timedelta(days=i)).date().isoformat(),
                     "count": per_day.get((first_day + timedelta(days=i)).date(), 0)} for i in range(DAYS)],
        "by_category": [{"category": k, "count": v, "children": [{"category": c, "count": n}
                                                                  for c, n in _most_common(by_second[k])]}
                        for k, v in _most_common(by_top)],
        "by_grid": [{"grid": grids.get(k, "待分派"), "count": v}
                    for k, v in _most_common(Counter(r.grid_id for r in this_month))],
        "by_channel": [{"channel": k, "count": v} for k, v in _most_common(Counter(r.channel for r in this_month))],
        "sources": {"found": len(found), "reported": len(counted) - len(found),
                    "settled_on_spot": sum("on_the_spot" in (r.flags or []) for r in found)},
        "hot_spots": spots,
    }


def public_figures(where, since, grid_id=None):
    """The public pages' month figures (no claim figures: they were never given the claims)."""
    rows = rows_since(where, since)
    if grid_id is not None:
        rows = [r for r in rows if r.grid_id == grid_id]
    return period(rows, since, clock.now())
