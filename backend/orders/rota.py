"""轮派 (assignment by load): in a grid whose rule is on (`Grid.auto_assign`, or when the grid says
nothing its community's `Community.auto_assign`), a new order goes at intake to the grid's on-duty
worker (the roster, or their own 上班/下班 of the day: `grids/duty.py`) holding the fewest open
orders, ties to the lowest id. It goes through the lifecycle's `assign` row acted by the
system, in the intake's transaction: audited like any 派单. Nobody on duty: it stays in the queue.
抢单 and 派单 are untouched."""
from sqlalchemy import func, select

from .. import lifecycle as engine
from ..accounts.actors import SYSTEM, Actor
from ..accounts.models import Staff
from ..extensions import db
from ..grids import duty
from ..grids.models import Community, Grid
from ..grids.routing import auto_assigns
from . import lifecycle
from .models import Order
from .states import OPEN_STATES


def pick(grid_id: int) -> Staff | None:
    """The on-duty worker of the grid with the fewest open orders, or None (rule off, nobody on
    duty). The grid's row is locked until the intake commits, so two intakes at once count each
    other's assignment and the load stays even."""
    if not auto_assigns(grid_id):
        return None
    # No autoflush: the new order is INSERTed once, assigned, at the commit. FOR NO KEY UPDATE: an
    # order's INSERT holds a KEY SHARE lock on its grid's row, which this must not wait for (two
    # intakes would deadlock), while two of these queue up one behind the other.
    with db.session.no_autoflush:
        rule = db.session.scalar(
            select(func.coalesce(Grid.auto_assign, Community.auto_assign)).join(Community, Grid.community_id == Community.id)
            .where(Grid.id == grid_id).with_for_update(key_share=True, of=Grid))
        if not rule:
            return None
        on = duty.on_duty_ids(grid_id)
        if not on:
            return None
        load = (select(func.count(Order.id)).where(Order.assignee_id == Staff.id, Order.state.in_(OPEN_STATES))
                .correlate(Staff).scalar_subquery())
        return db.session.scalar(select(Staff).where(Staff.id.in_(on)).order_by(load, Staff.id).limit(1))


def assign_at_intake(order: Order):
    """The system's `assign` event for a new, still uncommitted order, or None (left in the queue)."""
    if order.grid_id is None or order.rung != "grid_worker":
        return None
    worker = pick(order.grid_id)
    if worker is None:
        return None
    return engine.perform(lifecycle.TABLE, order, SYSTEM, "assign", commit=False, assignee=worker.id, by_load=True)


def set_duty(actor: Actor, on_duty: bool) -> Staff:
    """A grid worker's own 上班/下班 (audited: grids/duty.py)."""
    return duty.set_duty(actor, on_duty)
