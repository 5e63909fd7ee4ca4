"""Who is acting: a resident, a staff member, the bot service or the system (timers).

Every service call takes an Actor; permission checks live here, not in views or schemas."""
from dataclasses import dataclass

from ..errors import Forbidden


@dataclass(frozen=True)
class Actor:
    kind: str  # resident | staff | bot | system
    id: int | None = None
    role: str | None = None
    grid_id: int | None = None
    community_id: int | None = None
    street_id: int | None = None
    department_id: int | None = None
    name: str | None = None

    @classmethod
    def for_staff(cls, staff) -> "Actor":
        street_id = staff.street_id
        return cls("staff", staff.id, staff.role, staff.grid_id, staff.community_id, street_id,
                   staff.department_id, staff.name)

    @classmethod
    def for_resident(cls, resident) -> "Actor":
        return cls("resident", resident.id)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_resident(self) -> bool:
        return self.kind == "resident"


SYSTEM = Actor("system")

# Which actor kinds may ask for which state-machine action. Scope is checked separately.
ACTION_ACTORS = {
    "claim": {"staff"},
    "release": {"staff"},
    "progress": {"staff"},
    "escalate": {"staff", "system"},
    "transfer": {"staff"},
    "resolve": {"staff"},
    "rate": {"resident"},
    "reopen": {"resident", "staff"},
    "close": {"staff", "system"},
    "cancel": {"resident"},
    "supervise": {"staff"},
    "place": {"staff"},
    "overdue": {"system"},
    "attach": {"resident"},  # a photo sent after the order was taken down
    "content_check": {"system"},
    "content_flag": {"system"},
    "note": {"system"},  # a message to the resident that could not be delivered, kept in the history
}
# Staff roles allowed each staff action (department liaisons acknowledge = claim, and resolve).
ACTION_ROLES = {
    "claim": {"grid_worker", "grid_leader", "community_admin", "street_admin", "department_liaison", "sysadmin"},
    "release": {"grid_worker", "grid_leader", "community_admin", "street_admin", "department_liaison", "sysadmin"},
    "progress": {"grid_worker", "grid_leader", "community_admin", "street_admin", "department_liaison", "sysadmin"},
    "escalate": {"grid_worker", "grid_leader", "community_admin", "street_admin", "sysadmin"},
    "transfer": {"grid_worker", "grid_leader", "community_admin", "street_admin", "sysadmin"},
    "resolve": {"grid_worker", "grid_leader", "community_admin", "street_admin", "department_liaison", "sysadmin"},
    "reopen": {"community_admin", "street_admin", "sysadmin"},
    "close": {"community_admin", "street_admin", "sysadmin"},
    "supervise": {"grid_leader", "community_admin", "street_admin", "sysadmin"},
    "place": {"community_admin", "street_admin", "sysadmin"},
}


def in_scope(actor: Actor, order) -> bool:
    """Can this actor see the order at all?"""
    if actor.kind in ("system", "bot"):
        return True
    if actor.is_resident:
        return order.resident_id == actor.id
    role = actor.role
    if role == "sysadmin":
        return True
    if role in ("grid_worker", "grid_leader"):
        return order.grid_id is not None and order.grid_id == actor.grid_id
    if role == "community_admin":
        return order.community_id == actor.community_id
    if role == "street_admin":
        return order.community is not None and order.community.street_id == actor.street_id
    if role == "department_liaison":
        return order.department_id is not None and order.department_id == actor.department_id
    return False


def check_action(actor: Actor, action: str, order) -> None:
    if actor.kind not in ACTION_ACTORS.get(action, ()):
        raise Forbidden(f"a {actor.kind} may not {action} an order")
    if actor.is_staff and actor.role not in ACTION_ROLES.get(action, ()):
        raise Forbidden(f"role {actor.role} may not {action} an order")
    if not in_scope(actor, order):
        raise Forbidden("this order is outside your scope")


# How far up the ladder each staff role stands; an order at a rung is held by roles at or above it.
RUNG_RANK = {"grid_worker": 0, "grid_leader": 1, "community": 2, "street": 3, "department": 4}
ROLE_RANK = {"grid_worker": 0, "grid_leader": 1, "community_admin": 2, "street_admin": 3}


def may_hold(actor: Actor, order) -> bool:
    """May this staff member take (claim) or move (escalate, transfer) the order at its rung?
    Scope is checked separately; this is the ladder: a grid worker cannot take what was escalated
    to the grid leader, and only the department's own liaison reports (报到) at the top rung."""
    if not actor.is_staff:
        return actor.kind == "system"
    if actor.role == "sysadmin":
        return True
    if order.rung == "department" or actor.role == "department_liaison":
        return order.rung == "department" and actor.role == "department_liaison"
    return ROLE_RANK.get(actor.role, -1) >= RUNG_RANK.get(order.rung, 0)
