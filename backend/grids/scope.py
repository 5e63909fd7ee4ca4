"""Which grids, buildings and grid workers a staff member may pick from in the console: the grids
to transfer or place an order into, the buildings of a patrol report, whom a leader may assign."""
from sqlalchemy import select

from ..accounts.actors import Actor
from ..accounts.models import Staff
from ..extensions import db
from .models import Building, Community, Grid


def grid_workers(actor: Actor, order) -> list[Staff]:
    """Whom a leader may assign the order to (派单): active workers and leaders of its grid."""
    if order.grid_id is None or "assign" not in order.allowed_actions:
        return []
    return list(db.session.scalars(select(Staff).where(
        Staff.grid_id == order.grid_id, Staff.active.is_(True), Staff.role.in_(("grid_worker", "grid_leader")))
        .order_by(Staff.role, Staff.name)))


def grids_in_scope(actor: Actor) -> list[Grid]:
    """Grids the actor may transfer or place orders into."""
    query = select(Grid).join(Community).order_by(Grid.code)
    if actor.role in ("grid_worker", "grid_leader"):
        query = query.where(Grid.id == actor.grid_id)
    elif actor.role == "community_admin":
        query = query.where(Grid.community_id == actor.community_id)
    elif actor.role == "street_admin":
        query = query.where(Community.street_id == actor.street_id)
    elif actor.role != "sysadmin":
        return []
    return list(db.session.scalars(query))


def buildings_of_own_grid(actor: Actor) -> list[Building]:
    """The buildings of the actor's grid, for a patrol report's place (a grid's team reports there)."""
    if not actor.grid_id:
        return []
    return list(db.session.scalars(select(Building).where(Building.grid_id == actor.grid_id)
                                   .order_by(Building.compound, Building.number)))
