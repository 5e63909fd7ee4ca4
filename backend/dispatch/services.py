"""Dispatch: queues, claims, the worker actions, the escalation ladder, supervision (督办).

Every state change goes through orders.services.change (permission, transition table, audit
event, optimistic lock on Order.version, one transaction); non-transition actions (place,
supervise, overdue) through orders.services.record. Rung notifications and the Redis queue moves
are added by the order_changing receiver in dispatch.hooks, in the same transaction."""
import logging
import uuid
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import and_, case, false, func, select, true

from .. import clock
from ..accounts.actors import SYSTEM, Actor, in_scope, may_hold
from ..accounts.models import Staff
from ..errors import Conflict, DomainError, Forbidden, ValidationFailed
from ..extensions import db
from ..grids.models import Building, Community, Department, Grid
from ..notifications.models import Notification
from ..orders import services as orders
from ..orders import states
from ..orders.models import RUNGS, Order
from . import deadlines, queues

log = logging.getLogger(__name__)

_LEADING_ROLES = ("grid_leader", "community_admin", "street_admin", "sysadmin")


def _staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("this endpoint is for staff")


def _get(actor: Actor, number: str) -> Order:
    _staff_only(actor)
    return orders.get_order(actor, number)  # out of scope → 404, as if it did not exist


def _must_hold(actor: Actor, order: Order) -> None:
    """Work on a claimed order: its assignee, or someone above them on the ladder, in scope."""
    if order.assignee_id == actor.id:
        return
    if actor.role in _LEADING_ROLES and may_hold(actor, order):
        return
    db.session.rollback()
    raise Forbidden("only the assignee or their leaders may do this")


def _must_take(actor: Actor, order: Order) -> None:
    if not may_hold(actor, order):
        db.session.rollback()
        raise Forbidden(f"this order is at the {order.rung} rung")


def _must_move(actor: Actor, order: Order) -> None:
    """Escalate or transfer: a claimed order only by whoever may work on it (a colleague must not
    take a claim away by moving it); a waiting one by anyone who could take it at its rung."""
    if order.assignee_id is not None:
        _must_hold(actor, order)
    else:
        _must_take(actor, order)


def _required(text: str | None, field: str) -> None:
    # The API's schemas refuse a blank reason; the console posts forms straight to these services.
    if not (text or "").strip():
        db.session.rollback()
        raise ValidationFailed(f"a {field} is required", fields={field: ["required"]})


def _resync(number: str) -> None:
    """After a refused claim, put Redis back in line with the database."""
    db.session.rollback()
    try:
        order = db.session.scalar(select(Order).where(Order.number == number))
        if order is not None:
            queues.sync(order.number, queues.key_for(order), queues.score_for(order))
    except RedisError:
        pass
    finally:
        db.session.rollback()


# --- the ladder -----------------------------------------------------------------------------

def department_for(order: Order) -> Department | None:
    """The department answering for the order's top-level category, preferring its own street."""
    top = (order.category or "").split("/")[0]
    if not top:
        return None
    street_id = order.community.street_id if order.community else None
    found = [d for d in db.session.scalars(select(Department).order_by(Department.id))
             if top in (d.categories or [])]
    found.sort(key=lambda d: d.street_id != street_id)
    return found[0] if found else None


def next_rung(order: Order) -> tuple[str, Department | None] | None:
    for rung in RUNGS[RUNGS.index(order.rung) + 1:]:
        if rung == "grid_leader" and order.grid_id is None:
            continue  # a pooled order has no grid leader: straight to the community
        if rung == "department":
            department = department_for(order)
            return (rung, department) if department else None
        return rung, None
    return None


def _move_up(rung: str, department: Department | None):
    def apply(order: Order, now):
        order.rung = rung
        if department is not None:
            order.department_id = department.id
        deadlines.set_for_rung(order, now)
    return apply


def holders(order: Order, rung: str | None = None) -> list[int]:
    """Staff ids of the people who hold the order at its rung (whom to notify)."""
    rung = rung or order.rung
    query = select(Staff.id).where(Staff.active == true())
    if rung in ("grid_worker", "grid_leader") and order.grid_id:
        query = query.where(Staff.role == rung, Staff.grid_id == order.grid_id)
    elif rung in ("grid_worker", "grid_leader", "community"):
        query = query.where(Staff.role == "community_admin", Staff.community_id == order.community_id)
    elif rung == "street" and order.community is not None:
        query = query.where(Staff.role == "street_admin", Staff.street_id == order.community.street_id)
    elif rung == "department" and order.department_id:
        query = query.where(Staff.role == "department_liaison", Staff.department_id == order.department_id)
    else:
        return []
    ids = list(db.session.scalars(query.order_by(Staff.id)))
    if not ids and rung in ("grid_worker", "grid_leader"):
        return holders(order, "community")  # nobody configured at the grid: the community hears it
    if not ids and rung == "community":
        return holders(order, "street")
    return ids


# --- worker / staff actions -----------------------------------------------------------------

def claim(actor: Actor, number: str) -> Order:
    order = _get(actor, number)
    _must_take(actor, order)
    if order.state not in states.UNCLAIMED_STATES:
        _resync(number)
        raise Conflict("the order is already claimed", code="already_claimed")
    token = uuid.uuid4().hex
    locked = queues.try_lock(number, token)
    if locked is False:
        db.session.rollback()
        raise Conflict("someone else is claiming this order", code="already_claimed")
    try:
        # At the department rung, taking the order is the department's 报到.
        return orders.change(actor, order, "claim", acknowledged=order.rung == "department")
    except DomainError:
        _resync(number)
        raise
    finally:
        if locked:
            queues.unlock(number, token)


def release(actor: Actor, number: str, note: str | None = None) -> Order:
    order = _get(actor, number)
    _must_hold(actor, order)
    return orders.change(actor, order, "release", note=note)


def progress(actor: Actor, number: str, note: str, photos: list[str] | None = None) -> Order:
    _required(note, "note")
    order = _get(actor, number)
    _must_hold(actor, order)
    return orders.change(actor, order, "progress", note=note, photos=photos)


def resolve(actor: Actor, number: str, result: str, photos: list[str] | None = None) -> Order:
    order = _get(actor, number)
    _must_hold(actor, order)
    return orders.change(actor, order, "resolve", note=result, photos=photos)


def escalate(actor: Actor, number: str, reason: str) -> Order:
    """上报 / 吹哨 by hand: one rung up, with a reason."""
    _required(reason, "reason")
    order = _get(actor, number)
    _must_move(actor, order)
    step = next_rung(order)
    if step is None:
        db.session.rollback()
        raise Conflict("there is no rung above this one for this order", code="top_rung")
    rung, department = step
    return orders.change(actor, order, "escalate", note=reason, apply=_move_up(rung, department),
                         rung_from=order.rung, rung_to=rung, manual=True)


def _grid_by(code: str | None = None, grid_id: int | None = None, building_id: int | None = None):
    building = db.session.get(Building, building_id) if building_id else None
    if building is not None:
        return building.grid, building
    if grid_id:
        grid = db.session.get(Grid, grid_id)
    else:
        grid = db.session.scalar(select(Grid).where(Grid.code == code)) if code else None
    if grid is None:
        db.session.rollback()
        raise ValidationFailed("no such grid or building", fields={"grid": ["unknown grid"]})
    return grid, None


def _into_grid(grid: Grid, building: Building | None):
    def apply(order: Order, now):
        order.grid_id = grid.id
        order.community_id = grid.community_id
        order.building_id = building.id if building else None
        order.rung = "grid_worker"
        order.department_id = None
        order.drop_flag("unplaced")
        deadlines.set_for_rung(order, now)
    return apply


def transfer(actor: Actor, number: str, reason: str, grid: str | None = None,
             grid_id: int | None = None, building_id: int | None = None) -> Order:
    """转派: to another grid's queue, with a reason; the receiving grid gets fresh limits."""
    _required(reason, "reason")
    order = _get(actor, number)
    _must_move(actor, order)
    target, building = _grid_by(grid, grid_id, building_id)
    if target.id == order.grid_id:
        db.session.rollback()
        raise ValidationFailed("the order is already in that grid", fields={"grid": ["same grid"]})
    return orders.change(actor, order, "transfer", note=reason, apply=_into_grid(target, building),
                         from_grid=order.grid_id, to_grid=target.id)


def place(actor: Actor, number: str, grid: str | None = None, grid_id: int | None = None,
          building_id: int | None = None, note: str | None = None) -> Order:
    """Place an order from the community pool (address not understood) into a grid."""
    order = _get(actor, number)
    if order.state not in states.UNCLAIMED_STATES:
        db.session.rollback()
        raise Conflict("only a waiting order can be placed", code="not_waiting")
    target, building = _grid_by(grid, grid_id, building_id)
    return orders.record(actor, order, "place", note=note, apply=_into_grid(target, building),
                         from_grid=order.grid_id, to_grid=target.id)


def supervise(actor: Actor, number: str, note: str) -> Order:
    """督办: press whoever holds the order. No state change; an event and notifications."""
    _required(note, "note")
    order = _get(actor, number)
    if not order.is_open:
        db.session.rollback()
        raise Conflict("the order is no longer open", code="not_open")
    pressed = [order.assignee_id] if order.assignee_id else holders(order)
    return orders.record(actor, order, "supervise", note=note, pressed=pressed, rung=order.rung)


# --- deadlines: the SLA tick ----------------------------------------------------------------

def due_expression():
    unclaimed = Order.state.in_(states.UNCLAIMED_STATES)
    return case(
        (and_(unclaimed, Order.rung == "department", Order.ack_by.is_not(None)), Order.ack_by),
        (unclaimed, Order.claim_by),
        (Order.state.in_((states.CLAIMED, states.IN_PROGRESS)), Order.resolve_by),
        else_=None)


def missed_order_ids(now) -> list[int]:
    due = due_expression()
    ids = list(db.session.scalars(select(Order.id).where(Order.state.in_(states.OPEN_STATES), due <= now)
                                  .order_by(due, Order.id)))
    db.session.rollback()
    return ids


def escalate_missed(order_id: int, now) -> str | None:
    """One missed deadline → one rung up (or, at the top, one "overdue" record). Safe to repeat:
    the escalation is keyed by (order, rung, deadline) in its event, the new rung's deadline lies in
    the future, and a concurrent tick loses on Order.version."""
    order = db.session.get(Order, order_id)
    deadline = deadlines.missed(order, now) if order is not None else None
    if deadline is None:
        db.session.rollback()
        return None
    key = f"{order.rung}|{order.state}|{deadline.isoformat()}"
    if any((e.data or {}).get("sla_key") == key for e in order.events):
        db.session.rollback()
        return None
    step = next_rung(order)
    if step is None:
        def flag(o, _now):
            o.add_flag("overdue")
        orders.record(SYSTEM, order, "overdue", apply=flag, sla_key=key, rung=order.rung,
                      deadline=deadline.isoformat())
        return "overdue"
    rung, department = step
    orders.change(SYSTEM, order, "escalate", apply=_move_up(rung, department), sla_key=key,
                  rung_from=order.rung, rung_to=rung, deadline=deadline.isoformat(), manual=False)
    return rung


def sla_tick(now=None) -> dict:
    now = now or clock.now()
    done = {"escalated": 0, "overdue": 0, "skipped": 0}
    for order_id in missed_order_ids(now):
        try:
            outcome = escalate_missed(order_id, now)
        except DomainError:  # moved by someone else meanwhile (409): their change stands
            db.session.rollback()
            outcome = None
        except Exception:
            db.session.rollback()
            log.exception("SLA escalation failed for order %s", order_id)
            outcome = None
        done["overdue" if outcome == "overdue" else "skipped" if outcome is None else "escalated"] += 1
    return done


# --- listings -------------------------------------------------------------------------------

def scope_filter(actor: Actor):
    role = actor.role
    if role == "sysadmin":
        return true()
    if role in ("grid_worker", "grid_leader"):
        return Order.grid_id == actor.grid_id if actor.grid_id else false()
    if role == "community_admin":
        return Order.community_id == actor.community_id
    if role == "street_admin":
        return Order.community_id.in_(select(Community.id).where(Community.street_id == actor.street_id))
    if role == "department_liaison":
        return Order.department_id == actor.department_id
    return false()


def queue_keys(actor: Actor) -> list[str]:
    p = queues.PREFIX
    role = actor.role
    if role == "grid_worker":
        return [f"{p}grid:{actor.grid_id}"]
    if role == "grid_leader":
        return [f"{p}grid:{actor.grid_id}", f"{p}leader:{actor.grid_id}"]
    if role == "department_liaison":
        return [f"{p}dept:{actor.department_id}"]
    if role == "community_admin":
        community_ids = [actor.community_id]
        keys = []
    elif role == "street_admin":
        community_ids = list(db.session.scalars(select(Community.id).where(Community.street_id == actor.street_id)))
        keys = [f"{p}street:{actor.street_id}"]
    elif role == "sysadmin":
        community_ids = list(db.session.scalars(select(Community.id)))
        keys = [f"{p}street:{s}" for s in db.session.scalars(select(Community.street_id).distinct())]
        keys += [f"{p}dept:{d}" for d in db.session.scalars(select(Department.id))]
    else:
        return []
    grid_ids = list(db.session.scalars(select(Grid.id).where(Grid.community_id.in_(community_ids)))) if community_ids else []
    keys += [f"{p}{kind}:{c}" for c in community_ids for kind in ("pool", "community")]
    keys += [f"{p}{kind}:{g}" for g in grid_ids for kind in ("grid", "leader")]
    return keys


def _waiting(actor: Actor, limit: int) -> list[Order]:
    keys = queue_keys(actor)
    try:
        rows = queues.members(keys, limit * 2) if keys else []
    except RedisError:
        log.warning("redis down: queue listed from the database")
        query = (select(Order).where(Order.state.in_(states.UNCLAIMED_STATES), scope_filter(actor))
                 .order_by(due_expression(), Order.id).limit(limit * 2))
        return [o for o in db.session.scalars(query) if may_hold(actor, o)][:limit]
    found = {o.number: o for o in db.session.scalars(select(Order).where(Order.number.in_([r[0] for r in rows])))}
    waiting, stale = [], []
    for number, _score, key in rows:
        order = found.get(number)
        # Redis may be stale; the database decides what is really waiting here.
        if order is None or queues.key_for(order) != key or not in_scope(actor, order):
            stale.append(order or number)
            continue
        if may_hold(actor, order):
            waiting.append(order)
    for item in stale:
        try:
            if isinstance(item, Order):
                queues.sync(item.number, queues.key_for(item), queues.score_for(item))
            else:
                queues.sync(item, None, 0)
        except RedisError:
            break
    return waiting[:limit]


def queue(actor: Actor, limit: int = 100) -> dict:
    """My queue: orders I may take, most urgent first, and the ones I hold."""
    _staff_only(actor)
    waiting = _waiting(actor, limit)
    mine = list(db.session.scalars(
        select(Order).where(Order.assignee_id == actor.id,
                            Order.state.in_((states.CLAIMED, states.IN_PROGRESS)))
        .order_by(Order.resolve_by, Order.id).limit(limit)))
    return {"waiting": waiting, "mine": mine}


def supervision(actor: Actor, within_seconds: int | None = None, limit: int = 200) -> dict:
    """督办 lists: overdue, and due within the window (default DUE_SOON_SECONDS), in my scope."""
    _staff_only(actor)
    from flask import current_app
    now = clock.now()
    soon = now + timedelta(seconds=within_seconds or current_app.config["DUE_SOON_SECONDS"])
    due = due_expression()
    base = select(Order).where(Order.state.in_(states.OPEN_STATES), scope_filter(actor)).order_by(due, Order.id)
    overdue = list(db.session.scalars(base.where(due <= now).limit(limit)))
    due_soon = list(db.session.scalars(base.where(due > now, due <= soon).limit(limit)))
    return {"now": now, "overdue": overdue, "due_soon": due_soon}


def state_counts(actor: Actor) -> dict[str, int]:
    """How many orders in my scope are in each state (the console's chart)."""
    _staff_only(actor)
    rows = db.session.execute(
        select(Order.state, func.count()).where(scope_filter(actor)).group_by(Order.state)).all()
    return dict(rows)


def undelivered(actor: Actor, limit: int = 200) -> list[Notification]:
    """Notifications that failed or still wait, for orders in my scope: a failure must be seen."""
    _staff_only(actor)
    query = (select(Notification).where(Notification.status.in_(("failed", "pending")))
             .order_by(Notification.id.desc()).limit(limit))
    if actor.role != "sysadmin":
        query = query.join(Order, Order.id == Notification.order_id).where(scope_filter(actor))
    return list(db.session.scalars(query))


def rebuild_queues() -> int:
    return queues.rebuild()


def get(actor: Actor, number: str) -> Order:
    return _get(actor, number)

