"""Dispatch: claim queues, the worker and staff actions, the SLA and archive ticks, supervision (督办).

Every change goes through orders.services.perform, which checks the lifecycle row (who, from which
state, under which scope rule, with what input), applies it and commits it with its audit event.
Only the claim adds something of its own: the Redis lock that lets one of two racing workers
through at once, the database still deciding (optimistic lock on Order.version)."""
import logging
import uuid
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.actors import SYSTEM, Actor, in_scope, may_hold
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..grids.models import Community, Department, Grid, PropertyCompany
from ..notifications.models import Notification
from ..orders import deadlines, ladder, merging, replies, states
from ..orders import services as orders
from ..orders.figures import flagged
from ..orders.models import Order
from ..orders.services import scope_filter
from ..privacy import services as privacy
from . import queues

log = logging.getLogger(__name__)


def _staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以使用")


def _get(actor: Actor, number: str) -> Order:
    _staff_only(actor)
    return orders.get_order(actor, number)  # out of scope → 404, as if it did not exist


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


# --- worker / staff actions -----------------------------------------------------------------

def claim(actor: Actor, number: str) -> Order:
    """接单 (a department's 报到 at the top rung): the Redis lock first, then the lifecycle."""
    order = _get(actor, number)
    if order.state not in states.UNCLAIMED_STATES:
        _resync(number)
        raise Conflict("这张工单已经被接走了", code="already_claimed")
    token = uuid.uuid4().hex
    locked = queues.try_lock(number, token)
    if locked is False:
        db.session.rollback()
        raise Conflict("别人正在接这张工单", code="already_claimed")
    try:
        return orders.perform(actor, order, "claim")
    except DomainError:
        _resync(number)
        raise
    finally:
        if locked:
            queues.unlock(number, token)


def act(actor: Actor, number: str, action: str, *, shown: str | None = None, **given) -> Order:
    """Any other staff action on an order in scope, as its lifecycle row says. `shown`: the surface
    that will show the answer with the resident's unmasked contact (audited, backend.privacy)."""
    if action == "claim":
        order = claim(actor, number)
    else:
        order = _get(actor, number)
        if action == "supervise":  # 督办 of a merged duplicate goes to its original
            order = merging.supervision_target(order)
        if action == "callback":  # 不满意 reopens, as the resident's own rating would
            action = replies.callback_action(given)
        if action == "reply":  # a canned reply or their own words, variables filled here
            given = {"note": replies.reply_text(actor, order, text=given.get("text") or given.get("note"),
                                                canned_id=given.get("canned_id"), expected=given.get("expected"))}
        order = orders.perform(actor, order, action, **given)
    if shown:
        privacy.record_contact_read(actor, order, shown)
    return order


# --- the ticks --------------------------------------------------------------------------------

def missed_order_ids(now) -> list[int]:
    ids = list(db.session.scalars(select(Order.id).where(Order.due_at <= now)
                                  .order_by(Order.due_at, Order.id)))
    db.session.rollback()
    return ids


def escalate_missed(order_id: int, now) -> str | None:
    """One missed deadline → one rung up (or, at the top, one "overdue" record; at the property,
    back to the community). Safe to repeat:
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
    if order.rung == "property":  # 物业 missed its limit: back up to the community
        missed = "acknowledge" if order.state in states.UNCLAIMED_STATES else "resolve"
        orders.perform(SYSTEM, order, "return_from_property", sla_key=key, missed=missed,
                       deadline=deadline.isoformat())
        return "returned"
    if ladder.next_rung(order) is None:
        orders.perform(SYSTEM, order, "overdue", sla_key=key, rung=order.rung, deadline=deadline.isoformat())
        return "overdue"
    orders.perform(SYSTEM, order, "escalate", sla_key=key, deadline=deadline.isoformat())
    return order.rung


def _each(order_ids, step) -> dict:
    done: dict[str, int] = {}
    for order_id in order_ids:
        try:
            outcome = step(order_id)
        except DomainError:  # moved by someone else meanwhile (409): their change stands
            db.session.rollback()
            outcome = None
        except Exception:
            db.session.rollback()
            log.exception("tick failed for order %s", order_id)
            outcome = None
        done[outcome or "skipped"] = done.get(outcome or "skipped", 0) + 1
    return done


def sla_tick(now=None) -> dict:
    now = now or clock.now()
    counts = _each(missed_order_ids(now), lambda order_id: escalate_missed(order_id, now))
    overdue = counts.pop("overdue", 0)
    skipped = counts.pop("skipped", 0)
    returned = counts.pop("returned", 0)
    return {"escalated": sum(counts.values()), "overdue": overdue, "skipped": skipped,
            "returned_from_property": returned}


def archive_tick(now=None) -> dict:
    """归档: rated orders after ARCHIVE_RATED_AFTER_DAYS, resolved ones nobody rated within
    ARCHIVE_UNRATED_AFTER_DAYS (closed as 未评价, counted apart in satisfaction figures)."""
    now = now or clock.now()
    config = current_app.config
    rated_before = now - timedelta(days=float(config["ARCHIVE_RATED_AFTER_DAYS"]))
    unrated_before = now - timedelta(days=float(config["ARCHIVE_UNRATED_AFTER_DAYS"]))
    ids = list(db.session.scalars(select(Order.id).where(
        ((Order.state == states.RATED) & (Order.rated_at <= rated_before))
        | ((Order.state == states.RESOLVED) & (Order.resolved_at <= unrated_before))).order_by(Order.id)))
    db.session.rollback()

    def close(order_id):
        order = db.session.get(Order, order_id)
        unrated = order.state == states.RESOLVED
        orders.perform(SYSTEM, order, "close")
        return "unrated" if unrated else "rated"
    counts = _each(ids, close)
    return {"rated": counts.get("rated", 0), "unrated": counts.get("unrated", 0),
            "skipped": counts.get("skipped", 0)}


# --- listings -------------------------------------------------------------------------------

def queue_keys(actor: Actor) -> list[str]:
    p = queues.PREFIX
    role = actor.role
    if role == "grid_worker":
        return [f"{p}grid:{actor.grid_id}"]
    if role == "grid_leader":
        return [f"{p}grid:{actor.grid_id}", f"{p}leader:{actor.grid_id}"]
    if role == "department_liaison":
        return [f"{p}dept:{actor.department_id}"]
    if role == "property_staff":
        return [f"{p}prop:{actor.property_company_id}"]
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
        keys += [f"{p}prop:{c}" for c in db.session.scalars(select(PropertyCompany.id))]
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
                 .order_by(Order.due_at, Order.id).limit(limit * 2))
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
        .order_by(Order.due_at, Order.id).limit(limit)))
    return {"waiting": orders.present(actor, waiting), "mine": orders.present(actor, mine)}


def supervision(actor: Actor, within_seconds: int | None = None, limit: int = 200) -> dict:
    """督办 lists: overdue (not paused), due within the window (default DUE_SOON_SECONDS), and the
    requests waiting for a decision (延期, a long 挂起, 申诉), in my scope."""
    _staff_only(actor)
    now = clock.now()
    soon = now + timedelta(seconds=within_seconds or current_app.config["DUE_SOON_SECONDS"])
    base = select(Order).where(Order.due_at.is_not(None), scope_filter(actor)).order_by(Order.due_at, Order.id)
    running = ~flagged("paused")  # 挂起: its clock stands still
    overdue = list(db.session.scalars(base.where(Order.due_at <= now, running).limit(limit)))
    due_soon = list(db.session.scalars(base.where(Order.due_at > now, Order.due_at <= soon, running).limit(limit)))
    waiting = or_(*(flagged(f) for f in ("extension_pending", "pause_pending", "appeal_pending")))
    requests = list(db.session.scalars(select(Order).where(waiting, scope_filter(actor))
                                       .order_by(Order.updated_at, Order.id).limit(limit)))
    return {"now": now, "overdue": orders.present(actor, overdue), "due_soon": orders.present(actor, due_soon),
            "requests": orders.present(actor, requests)}


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


def get(actor: Actor, number: str, *, shown: str | None = None) -> Order:
    order = _get(actor, number)
    if shown:
        privacy.record_contact_read(actor, order, shown)
    return order


def grid_workers(actor: Actor, order: Order) -> list:
    """Whom a leader may assign the order to (派单): active workers and leaders of its grid."""
    from ..accounts.models import Staff
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



def reported_by(actor: Actor, limit: int = 20) -> list[Order]:
    """What the actor entered themselves (patrol reports, visits, letters), newest first: a
    part-time member follows their reports here, a worker sees what they settled on the spot."""
    _staff_only(actor)
    query = (select(Order).where(Order.reporter_id == actor.id, scope_filter(actor))
             .order_by(Order.id.desc()).limit(limit))
    return orders.present(actor, list(db.session.scalars(query)))


def buildings_of_own_grid(actor: Actor) -> list:
    """The buildings of the actor's grid, for a patrol report's place (a grid's team reports there)."""
    from ..grids.models import Building
    if not actor.grid_id:
        return []
    return list(db.session.scalars(select(Building).where(Building.grid_id == actor.grid_id)
                                   .order_by(Building.compound, Building.number)))
