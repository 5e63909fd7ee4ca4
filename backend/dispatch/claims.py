"""Claims and staff actions on one order: 接单 behind its Redis lock, every other action as the
order's lifecycle row says.

Every change goes through orders.services.perform, which checks the lifecycle row (who, from which
state, under which scope rule, with what input), applies it and commits it with its audit event.
Only the claim adds something of its own: the Redis lock that lets one of two racing workers
through at once, the database still deciding (optimistic lock on Order.version)."""
import uuid

from redis.exceptions import RedisError
from sqlalchemy import select

from ..accounts.actors import Actor
from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..orders import merging, replies, states
from ..orders import services as orders
from ..orders.models import Order
from ..privacy import services as privacy
from . import queues


def staff_only(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以使用")


def staff_order(actor: Actor, number: str) -> Order:
    staff_only(actor)
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


def claim(actor: Actor, number: str) -> Order:
    """接单 (a department's 报到 at the top rung): the Redis lock first, then the lifecycle."""
    order = staff_order(actor, number)
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
        order = staff_order(actor, number)
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
