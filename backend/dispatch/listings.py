"""What the console and the staff API read: my queue (Redis, the database deciding), the 督办 lists,
the state counts, what I reported myself, and one order read with its contact shown."""
import logging
from datetime import timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.actors import Actor, in_scope, may_hold
from ..extensions import db
from ..grids.models import Community, Department, Grid, PropertyCompany
from ..orders import states
from ..orders import services as orders
from ..orders.figures import flagged
from ..orders.models import Order
from ..orders.services import scope_filter
from ..privacy import services as privacy
from . import queues
from .claims import staff_only, staff_order

log = logging.getLogger(__name__)


def get(actor: Actor, number: str, *, shown: str | None = None) -> Order:
    order = staff_order(actor, number)
    if shown:
        privacy.record_contact_read(actor, order, shown)
    return order


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
    staff_only(actor)
    waiting = _waiting(actor, limit)
    mine = list(db.session.scalars(
        select(Order).where(Order.assignee_id == actor.id,
                            Order.state.in_((states.CLAIMED, states.IN_PROGRESS)))
        .order_by(Order.due_at, Order.id).limit(limit)))
    return {"waiting": orders.present(actor, waiting), "mine": orders.present(actor, mine)}


def supervision(actor: Actor, within_seconds: int | None = None, limit: int = 200) -> dict:
    """督办 lists: overdue (not paused), due within the window (default DUE_SOON_SECONDS), and the
    requests waiting for a decision (延期, a long 挂起, 申诉), in my scope."""
    staff_only(actor)
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
    staff_only(actor)
    rows = db.session.execute(
        select(Order.state, func.count()).where(scope_filter(actor)).group_by(Order.state)).all()
    return dict(rows)


def reported_by(actor: Actor, limit: int = 20) -> list[Order]:
    """What the actor entered themselves (patrol reports, visits, letters), newest first: a
    part-time member follows their reports here, a worker sees what they settled on the spot."""
    staff_only(actor)
    query = (select(Order).where(Order.reporter_id == actor.id, scope_filter(actor))
             .order_by(Order.id.desc()).limit(limit))
    return orders.present(actor, list(db.session.scalars(query)))


def readable_order_ids(actor: Actor):
    """The orders whose notifications the actor may read, as a select of ids: the outbox's rows
    (notifications.services.undelivered) and the reminders' (they keep what the resident wrote).
    None for the sysadmin, who sees every row."""
    staff_only(actor)
    return None if actor.role == "sysadmin" else select(Order.id).where(scope_filter(actor))


# --- reminders (issue 24): the dashboard's list, the worker's phone ------------------------------

# What a worker on the street must not miss: 督办, 不满意 (reopened), a missed limit, an order given them.
PHONE_KINDS = ("supervise", "reopened", "overdue", "assigned_to_you")
# The phone queue's filters (?f=…): each a test of one presented order.
PHONE_FILTERS = ("urgent", "due_soon", "overdue", "pressed", "reopened")


def reminders(actor: Actor, limit: int = 30, kinds: tuple[str, ...] | None = None) -> dict:
    """The actor's console reminders, bounded (`limit`), grouped by what they are about (groups in
    order of their newest unread one), each with its order's number for a link: {unread, shown,
    groups: [(kind, [item])]}, an item {id, number, text, at, read}."""
    from ..notifications import services as notifications
    staff_only(actor)
    readable = readable_order_ids(actor)
    rows = notifications.reminders(actor.id, limit, kinds, readable_orders=readable)
    numbers = dict(db.session.execute(select(Order.id, Order.number).where(
        Order.id.in_({n.order_id for n in rows if n.order_id}))).tuples().all()) if rows else {}
    groups: dict[str, list] = {}
    for n in rows:
        groups.setdefault(n.kind, []).append({
            "id": n.id, "number": numbers.get(n.order_id) or (n.payload or {}).get("number"),
            "text": notifications.short_text(n), "at": n.created_at, "read": n.read_at is not None})
    return {"unread": notifications.unread_count(actor.id, kinds, readable_orders=readable), "shown": len(rows),
            "groups": list(groups.items())}


def open_reminder(actor: Actor, notification_id: int) -> str | None:
    """Open one reminder: marked read; the number of its order (None: about no order, or not theirs)."""
    from ..notifications import services as notifications
    staff_only(actor)
    found = notifications.open_reminder(actor.id, notification_id, readable_orders=readable_order_ids(actor))
    if found is None or found.order_id is None:
        return None
    return db.session.scalar(select(Order.number).where(Order.id == found.order_id))


def marks(actor: Actor, shown: list[Order], now=None) -> dict[int, set]:
    """What each listed order's card must say beyond its state: 督办 (pressed while open), 重新办理
    (reopened after a 不满意, with the resident's words on the order), 即将到期 within
    DUE_SOON_SECONDS, 已超时 — {order id: {mark}}, one query for all of them."""
    from ..orders.models import OrderEvent
    now = now or clock.now()
    soon = now + timedelta(seconds=current_app.config["DUE_SOON_SECONDS"])
    ids = [o.id for o in shown if o.is_open]
    pressed = set(db.session.scalars(select(OrderEvent.order_id).where(
        OrderEvent.order_id.in_(ids), OrderEvent.action == "supervise").distinct())) if ids else set()
    found = {}
    for o in shown:
        mark = set()
        if o.is_open:
            if o.id in pressed:
                mark.add("pressed")
            if "reopened" in (o.flags or []):
                mark.add("reopened")
            if o.due_at is not None and "paused" not in (o.flags or []):
                mark.add("overdue" if o.due_at <= now else "due_soon" if o.due_at <= soon else "")
            if o.grade == "urgent":
                mark.add("urgent")
        mark.discard("")
        found[o.id] = mark
    return found


def phone_queue(actor: Actor, query: str = "", only: str = "", limit: int = 100) -> dict:
    """The worker's phone home: my orders and the grid's queue (each narrowed by a search of the
    number, text and place, and by one of PHONE_FILTERS), what I reported, the marks of every card,
    the reminders of PHONE_KINDS and my orders due soon or overdue."""
    found = queue(actor, limit)
    reported = reported_by(actor)
    every = [*found["mine"], *found["waiting"], *reported]
    mark = marks(actor, every)
    words = (query or "").strip().lower()

    def keep(o: Order) -> bool:
        if words and not any(words in (s or "").lower() for s in (o.number, o.text, o.location_text)):
            return False
        return not only or only in mark.get(o.id, set())
    return {"mine": [o for o in found["mine"] if keep(o)], "waiting": [o for o in found["waiting"] if keep(o)],
            "reported": reported, "marks": mark, "total": len(found["mine"]) + len(found["waiting"]),
            # deadlines: mine first, then the queue's (to be claimed in time), at most 5
            "due": [o for o in [*found["mine"], *found["waiting"]] if mark[o.id] & {"overdue", "due_soon"}][:5],
            "reminders": reminders(actor, limit=10, kinds=PHONE_KINDS)}


def outbox(actor: Actor, limit: int = 200) -> list[dict]:
    """The outbox as people read it (issue 24): each undelivered row with its order's number and
    whom it is for (a staff member by name, a resident as 居民), never internal ids."""
    from ..accounts.models import Staff
    from ..notifications import services as notifications
    rows = notifications.undelivered(readable_order_ids(actor), limit)
    numbers = dict(db.session.execute(select(Order.id, Order.number).where(
        Order.id.in_({n.order_id for n in rows if n.order_id}))).tuples().all()) if rows else {}
    staff_ids = {n.recipient_id for n in rows if n.recipient_type == "staff"}
    names = dict(db.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).tuples().all()) if staff_ids else {}
    return [{"n": n, "number": numbers.get(n.order_id), "error": _error_words(n.last_error),
             "to": names.get(n.recipient_id, "工作人员") if n.recipient_type == "staff" else "居民"} for n in rows]


def _error_words(error: str | None) -> str:
    """A delivery error in Chinese: WeChat's errcode in front is one of labels.yml's
    `delivery_errors` (the code kept in brackets for whoever asks WeChat); otherwise 发送出错."""
    from ..labels import label
    if not error:
        return ""
    code = error.split()[0].strip(":,") if error.split() else ""
    words = label("delivery_errors", code) if code.isdigit() else None
    return f"{words}（错误码 {code}）" if words and words != code else (f"发送出错（错误码 {code}）" if code.isdigit() else "发送出错")
