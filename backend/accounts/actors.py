"""Who is acting: a resident, a staff member, the bot service or the system (timers).

Every service call takes an Actor. What each may see is decided here; what each may do is a row of
the order lifecycle table (orders/lifecycle.py)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # resident | staff | bot | system | partner (an Open311 client system)
    id: int | None = None
    role: str | None = None
    grid_id: int | None = None
    community_id: int | None = None
    street_id: int | None = None
    department_id: int | None = None
    name: str | None = None
    property_company_id: int | None = None

    @classmethod
    def for_staff(cls, staff) -> "Actor":
        street_id = staff.street_id
        return cls("staff", staff.id, staff.role, staff.grid_id, staff.community_id, street_id,
                   staff.department_id, staff.name, staff.property_company_id)

    @classmethod
    def for_resident(cls, resident) -> "Actor":
        return cls("resident", resident.id)

    @classmethod
    def for_partner(cls, partner) -> "Actor":
        return cls("partner", partner.id, name=partner.name)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_resident(self) -> bool:
        return self.kind == "resident"


SYSTEM = Actor("system")

# Each staff role sees the orders whose column equals its own (sysadmin sees all). The same rule is
# read per order (`in_scope`) and as SQL (`orders.services.scope_filter`): one rule, no twins.
# A part-time grid member (`grid_member`) sees only what they reported themselves: they follow
# their own reports but are no one to read the grid's other residents' requests.
SCOPE_COLUMNS = {
    "grid_worker": "grid_id", "grid_leader": "grid_id", "community_admin": "community_id",
    "street_admin": "street_id", "department_liaison": "department_id", "grid_member": "reporter_id",
    # a property company sees what was given to it, not everything of its compounds (a resident's
    # 医保卡 is none of its business) — and only while it is there (SCOPE_RUNG)
    "property_staff": "property_company_id",
}
# Roles that see an order only while it stands at their rung. A property company's column is never
# cleared (its figures are read from it), so without this it kept reading every order that left
# it — returned as 不是物业的事, transferred, escalated, reopened to the grid, recategorised — with
# the full text and every later result. What it resolved stays at its rung, so it keeps seeing its
# own work, its rating and its archive; once an order leaves, the property sees it no more (404),
# and counts it only in its figures (orders.services.figures_filter).
SCOPE_RUNG = {"property_staff": "property"}
# The actor's own value for a scope column, when it is not named like the column.
_ACTOR_VALUE = {"reporter_id": "id"}


def scope_column(actor: Actor) -> str | None:
    return SCOPE_COLUMNS.get(actor.role)


def scope_value(actor: Actor):
    """The value the order's scope column must hold for this actor (None: nothing matches)."""
    column = scope_column(actor)
    return getattr(actor, _ACTOR_VALUE.get(column, column)) if column else None


def in_scope(actor: Actor, order) -> bool:
    """Can this actor see the order at all? (What they may do with it is the lifecycle's business.)"""
    if actor.kind in ("system", "bot"):
        return True
    if actor.is_resident:
        return order.resident_id is not None and order.resident_id == actor.id
    if actor.role == "sysadmin":
        return True
    value = scope_value(actor)
    rung = SCOPE_RUNG.get(actor.role)
    return (value is not None and getattr(order, scope_column(actor), None) == value
            and (rung is None or order.rung == rung))


# How far up the ladder each staff role stands; an order at a rung is held by roles at or above it.
RUNG_RANK = {"grid_worker": 0, "grid_leader": 1, "community": 2, "street": 3, "department": 4}
ROLE_RANK = {"grid_worker": 0, "grid_leader": 1, "community_admin": 2, "street_admin": 3}


def may_hold(actor: Actor, order) -> bool:
    """May this staff member take (claim) or move (escalate, transfer) the order at its rung?
    Scope is checked separately; this is the ladder: a grid worker cannot take what was escalated
    to the grid leader, and only the department's own liaison reports (报到) at the top rung —
    as only the property's own staff report at the property rung, which stands beside the ladder."""
    if not actor.is_staff:
        return actor.kind == "system"
    if actor.role == "sysadmin":
        return True
    if order.rung == "department" or actor.role == "department_liaison":
        return order.rung == "department" and actor.role == "department_liaison"
    if order.rung == "property" or actor.role == "property_staff":
        return order.rung == "property" and actor.role == "property_staff"
    return ROLE_RANK.get(actor.role, -1) >= RUNG_RANK.get(order.rung, 0)
