"""The escalation ladder ("网格吹哨、部门报到") and who holds an order at each rung.

网格员 grid worker → 网格长 grid leader → 社区 community → 街道 street → 职能部门 department.
The lifecycle table uses these to move an order up and to name whom each action tells."""
from flask import current_app
from sqlalchemy import select, true

from ..accounts.models import Staff
from ..extensions import db
from ..grids import routing
from ..grids.models import Department
from .models import LADDER, Order


def department_for(order: Order) -> Department | None:
    """The department answering for the order's top-level category, preferring its own street."""
    top = (order.category or "").split("/")[0]
    if not top:
        return None
    found = [d for d in db.session.scalars(select(Department).order_by(Department.id))
             if top in (d.categories or [])]
    found.sort(key=lambda d: d.street_id != order.street_id)
    return found[0] if found else None


def next_rung(order: Order) -> tuple[str, Department | None] | None:
    """The rung above the order's, with the department when that rung is the top; None at the top
    (or when no department answers for the category). The property rung is beside the ladder:
    what it misses goes back to the community by its own row (`return_from_property`)."""
    if order.rung not in LADDER:
        return None
    for rung in LADDER[LADDER.index(order.rung) + 1:]:
        if rung == "grid_leader" and order.grid_id is None:
            continue  # a pooled order has no grid leader: straight to the community
        if rung == "department":
            department = department_for(order)
            return (rung, department) if department else None
        return rung, None
    return None


def holders(order: Order, rung: str | None = None) -> list[int]:
    """Staff ids of the people who hold the order at a rung (default: its own); when nobody is
    configured there, the rung above hears it. From routing's per-process snapshot, which any
    change of staff replaces (grids/routing.staff_ids); from the database when Redis is down."""
    rung = rung or order.rung
    if rung in ("grid_worker", "grid_leader") and order.grid_id:
        role, column, value = rung, "grid_id", order.grid_id
    elif rung in ("grid_worker", "grid_leader", "community"):
        role, column, value = "community_admin", "community_id", order.community_id
    elif rung == "street" and order.street_id:
        role, column, value = "street_admin", "street_id", order.street_id
    elif rung == "department" and order.department_id:
        role, column, value = "department_liaison", "department_id", order.department_id
    elif rung == "property" and order.property_company_id:
        role, column, value = "property_staff", "property_company_id", order.property_company_id
    else:
        return []
    ids = routing.staff_ids(role, column, value)
    if ids is None:
        ids = list(db.session.scalars(select(Staff.id).where(
            Staff.active == true(), Staff.role == role, getattr(Staff, column) == value).order_by(Staff.id)))
    if not ids and rung in ("grid_worker", "grid_leader", "property"):
        return holders(order, "community")
    if not ids and rung == "community":
        return holders(order, "street")
    return ids


def _grades(name: str) -> set[str]:
    return {g.strip() for g in current_app.config.get(name, "urgent").split(",") if g.strip()}


# Audiences a lifecycle row may name in its notices: order, event data → staff ids.
AUDIENCES = {
    "holders": lambda order, data: holders(order),
    "community": lambda order, data: holders(order, "community"),
    # Every reopening reaches the grid leader; from the second one the community holds the order.
    "leader": lambda order, data: holders(order, "grid_leader" if order.rung == "grid_worker" else order.rung),
    "assignee": lambda order, data: [order.assignee_id] if order.assignee_id else [],
    "pressed": lambda order, data: list(data.get("pressed") or []),
    # Who resolved it (issue 24): a 不满意 reopening reaches the worker whose result was refused,
    # on their phone, not only the leader.
    # Grid staff only: a property's staff no longer read an order that left their rung.
    "resolver": lambda order, data: [order.resolver_id] if order.resolver_id and order.resolver is not None
    and order.resolver.role in ("grid_worker", "grid_leader") else [],
}

# Conditions a notice may carry.
CONDITIONS = {
    "placed": lambda order: order.grid_id is not None,
    "unplaced": lambda order: order.grid_id is None,
    # An order settled as it was reported (a patrol's 当场解决) is nobody's to take: no alarm.
    "placed_and_urgent": lambda order: order.grid_id is not None and order.is_open and order.rung != "property"
    and order.grade in _grades("NOTIFY_NEW_ORDER_GRADES"),
    "at_property": lambda order: order.rung == "property",
    "emergency": lambda order: "emergency" in (order.flags or ()),
}
