"""Time limits (限时办理): claim-by, resolve-by and a department's or property's acknowledge-by (报到).

Limits come from the grade and kind (defaults from the architecture), overridable per category with
SLA_CATEGORY_LIMITS. Grades listed in SLA_CALENDAR_GRADES (default: urgent) run on calendar time;
the rest count only working hours (WORK_DAYS, WORK_HOURS in the configured TIMEZONE), where one
"day" of a limit means one working day's worth of hours. Which days are worked follows the State
Council's calendar by default (WORK_CALENDAR=official: the `chinese-calendar` package's holidays
and 调休 make-up days, 2026 included); WORK_HOLIDAYS and WORK_EXTRA_DAYS are local overrides on top
(a district's own day off, a year the package does not know yet).

Each rung of the ladder gets its own deadlines when the order reaches it (see `set_for_rung`), so
the people there always have a full limit from the moment they are told."""
import json
import logging
import re
from datetime import datetime, timedelta

from flask import current_app

from ..workdays import WorkCalendar  # noqa: F401  (read from here too)
from . import states

log = logging.getLogger(__name__)

LIMITS = {
    "urgent": {"claim": timedelta(minutes=10), "resolve": timedelta(hours=24)},
    "normal": {"claim": timedelta(hours=2), "resolve": timedelta(days=3)},
    "consultation": {"claim": timedelta(hours=2), "resolve": timedelta(days=1)},
    "wish": {"claim": timedelta(days=3), "resolve": timedelta(days=15)},
}
# A department whistled in must report (报到) within its own limit.
ACK_LIMITS = {"urgent": timedelta(hours=1), "normal": timedelta(days=1)}
# A property company given a compound's problem reports (报到) and resolves within its own limits,
# both counted from the moment it is given the order; SLA_PROPERTY_LIMITS overrides them per grade.
PROPERTY_LIMITS = {
    "urgent": {"acknowledge": timedelta(minutes=30), "resolve": timedelta(hours=12)},
    "normal": {"acknowledge": timedelta(hours=2), "resolve": timedelta(days=2)},
}
# Code-level overrides (tests, deployments that prefer code to env); SLA_CATEGORY_LIMITS wins.
LIMITS_BY_CATEGORY: dict[str, dict[str, timedelta]] = {}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION_RE.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r} (use e.g. 30m, 8h, 3d)")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _category_overrides() -> dict[str, dict[str, timedelta]]:
    raw = json.loads(current_app.config.get("SLA_CATEGORY_LIMITS") or "{}")
    parsed = {path: {k: parse_duration(v) for k, v in limits.items()} for path, limits in raw.items()}
    return {**LIMITS_BY_CATEGORY, **parsed}


def limits_for(order) -> dict[str, timedelta]:
    if order.grade == "urgent":
        base = LIMITS["urgent"]
    elif order.kind in ("consultation", "wish"):
        base = LIMITS[order.kind]
    else:
        base = LIMITS["normal"]
    if order.category:
        overrides = _category_overrides()
        # Longest matching path wins: "城乡建设/城市建设和市政管理" before "城乡建设".
        for path in sorted(overrides, key=len, reverse=True):
            if order.category == path or order.category.startswith(path + "/"):
                return {**base, **overrides[path]}
    return base


def property_limits(order) -> dict[str, timedelta]:
    grade = order.grade if order.grade in PROPERTY_LIMITS else "normal"
    raw = json.loads(current_app.config.get("SLA_PROPERTY_LIMITS") or "{}").get(grade, {})
    return {**PROPERTY_LIMITS[grade], **{k: parse_duration(v) for k, v in raw.items()}}


def _on_calendar_time(order) -> bool:
    return order.grade in {g.strip() for g in current_app.config.get("SLA_CALENDAR_GRADES", "urgent").split(",")}


def add(order, start: datetime, delta: timedelta) -> datetime:
    if _on_calendar_time(order):
        return start + delta
    return WorkCalendar.from_config(current_app.config).add(start, delta)


def between(order, start: datetime, end: datetime) -> timedelta:
    """The time that counts against the order's limits from `start` to `end` (zero if not later)."""
    if _on_calendar_time(order):
        return max(end - start, timedelta(0))
    return WorkCalendar.from_config(current_app.config).working_between(start, end)


# --- 延期 and 挂起 (issue 26): the limits, and what is left of a deadline ------------------------------

def extension_max_count() -> int:
    return int(current_app.config.get("ORDER_EXTENSION_MAX_COUNT", 2))


def extension_max_days() -> float:
    """How far one extension may move resolve-by, in working days (of the order's time)."""
    return float(current_app.config.get("ORDER_EXTENSION_MAX_DAYS", 10))


def pause_limit_days() -> float:
    """A worker's pause planned longer than this many working days needs a leader's approval."""
    return float(current_app.config.get("ORDER_PAUSE_LIMIT_DAYS", 3))


def extensions(order) -> int:
    """How many extensions the order was granted (its approve_extension events)."""
    return sum(1 for e in order.events if e.action == "approve_extension")


def left(order, now: datetime) -> timedelta:
    """What is left of the resolve-by limit at `now`: a pause keeps exactly this for the resume."""
    return between(order, now, order.resolve_by) if order.resolve_by else timedelta(0)


def extension_length(order, until: datetime) -> timedelta:
    """How much an extension to `until` adds, counted as the order's limits are."""
    return between(order, order.resolve_by, until)


def day_length() -> timedelta:
    return WorkCalendar.from_config(current_app.config).day_length


def parse_time(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# --- deadlines on the order -----------------------------------------------------------------

def set_for_rung(order, now) -> None:
    """Fresh deadlines for whoever holds the order now: a new order at the bottom rung, or after an
    escalation, transfer or reopen."""
    if order.rung == "property":
        limits = property_limits(order)
        order.claim_by = order.ack_by = add(order, now, limits["acknowledge"])
        order.resolve_by = add(order, now, limits["resolve"])
        return
    limits = limits_for(order)
    order.claim_by = add(order, now, limits["claim"])
    order.resolve_by = add(order, now, limits["resolve"])
    order.ack_by = (add(order, now, ACK_LIMITS.get(order.grade, ACK_LIMITS["normal"]))
                    if order.rung == "department" else None)


def current_due(order) -> datetime | None:
    """The deadline that matters in the order's current state (None once nobody owes work).
    The lifecycle stores it in Order.due_at on every change; everything else reads the column."""
    if order.state in states.UNCLAIMED_STATES:
        return order.ack_by if order.rung in ("department", "property") and order.ack_by else order.claim_by
    if order.state in (states.CLAIMED, states.IN_PROGRESS):
        return order.resolve_by
    return None


def missed(order, now) -> datetime | None:
    if "paused" in (order.flags or []):  # 挂起: the clock stands still until 恢复
        return None
    due = order.due_at
    return due if due is not None and due <= now else None
