"""Time limits (限时办理): claim-by and resolve-by deadlines from the grade and kind."""
from datetime import timedelta

# Defaults from the architecture; a category may override (see LIMITS_BY_CATEGORY).
LIMITS = {
    "urgent": {"claim": timedelta(minutes=10), "resolve": timedelta(hours=24)},
    "normal": {"claim": timedelta(hours=2), "resolve": timedelta(days=3)},
    "consultation": {"claim": timedelta(hours=2), "resolve": timedelta(days=1)},
    "wish": {"claim": timedelta(days=3), "resolve": timedelta(days=15)},
}
LIMITS_BY_CATEGORY: dict[str, dict[str, timedelta]] = {}


def limits_for(order) -> dict[str, timedelta]:
    if order.category and order.category in LIMITS_BY_CATEGORY:
        return LIMITS_BY_CATEGORY[order.category]
    if order.grade == "urgent":
        return LIMITS["urgent"]
    if order.kind in ("consultation", "wish"):
        return LIMITS[order.kind]
    return LIMITS["normal"]


def set_initial(order, now) -> None:
    limits = limits_for(order)
    order.claim_by = now + limits["claim"]
    order.resolve_by = now + limits["resolve"]
