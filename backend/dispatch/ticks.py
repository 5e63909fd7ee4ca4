"""The worker's ticks over orders: the SLA tick (a missed deadline → one rung up, 超期, or back from
the property), the due-soon tick (a limit about to pass → its holder told once) and the archive
tick (归档 of rated and long-unrated orders)."""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import SYSTEM
from ..errors import DomainError
from ..extensions import db
from ..orders import deadlines, ladder, states
from ..orders import services as orders
from ..orders.models import Order

log = logging.getLogger(__name__)


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


def due_soon_tick(now=None) -> dict:
    """即将到期 (issue 24, item 3): an order whose limit falls within DUE_SOON_SECONDS is told, once per
    limit, to whoever must act on it — its assignee, else those who hold it at its rung — as a console
    reminder and, where WECOM_KINDS names due_soon, a 企业微信 message with the phone page's link. A
    paused (挂起) order's clock stands still: not told. A later limit (extended, escalated, reopened)
    is told again."""
    from ..orders.figures import flagged
    now = now or clock.now()
    soon = now + timedelta(seconds=current_app.config["DUE_SOON_SECONDS"])
    ids = list(db.session.scalars(select(Order.id).where(Order.due_at > now, Order.due_at <= soon, ~flagged("paused"))
                                  .order_by(Order.due_at, Order.id)))
    db.session.rollback()
    counts = _each(ids, remind_due_soon)
    return {"reminded": counts.get("reminded", 0), "skipped": counts.get("skipped", 0)}


def remind_due_soon(order_id: int) -> str | None:
    """One order's 即将到期 reminder, unless its holders were told of this limit already."""
    from ..notifications.models import Notification
    from ..notifications.services import notify
    from ..orders import notices
    order = db.session.get(Order, order_id)
    if order is None or order.due_at is None or not order.is_open:
        db.session.rollback()
        return None
    due = order.due_at.isoformat()
    told = {n.recipient_id for n in db.session.scalars(select(Notification).where(
        Notification.order_id == order.id, Notification.kind == "due_soon", Notification.channel == "console",
        Notification.recipient_type == "staff")) if (n.payload or {}).get("due_at") == due}
    audience = [order.assignee_id] if order.assignee_id else ladder.holders(order)
    new = [staff_id for staff_id in dict.fromkeys(audience) if staff_id not in told]
    if not new:
        db.session.rollback()
        return None
    body = {**notices.payload(order, None), "due_at": due}
    for staff_id in new:
        for channel in ("console", *notices.also("due_soon")):
            notify("staff", staff_id, "due_soon", order=order, channel=channel, payload=body)
    db.session.commit()
    return "reminded"


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
