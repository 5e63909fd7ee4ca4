"""The worker's ticks over orders: the SLA tick (a missed deadline → one rung up, 超期, or back from
the property) and the archive tick (归档 of rated and long-unrated orders)."""
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
