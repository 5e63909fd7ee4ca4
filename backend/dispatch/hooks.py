"""Dispatch's part of every order change, inside its transaction (orders.signals.order_changing):
remember the Redis queue move (done after the commit) and write the staff notifications, so a
change and the notice about it commit — or roll back — together."""
from flask import current_app

from .. import clock
from ..extensions import db
from ..notifications.services import notify
from ..orders.signals import order_changing
from . import deadlines, queues


def _payload(order, event) -> dict:
    due = deadlines.due_at(order)
    tz = current_app.config["TIMEZONE"]
    return {
        "number": order.number, "text": (order.text or "")[:60], "location": order.location_text,
        "grade": order.grade, "rung": order.rung, "state": order.state,
        "due": clock.local(due, tz).strftime("%m-%d %H:%M") if due else None,
        "note": event.note if event is not None else None,
        "reopen_count": order.reopen_count,
    }


def _recipients(order, action, event) -> tuple[str, list[int]]:
    from .services import holders
    data = (event.data or {}) if event is not None else {}
    if action == "submit":
        if order.grid_id is None:
            return "unplaced", holders(order, "community")
        if order.grade in _grades("NOTIFY_NEW_ORDER_GRADES"):
            return "new_order", holders(order)
        return "", []
    if action == "escalate":
        return "escalated", holders(order)
    if action in ("transfer", "place"):
        return "assigned", holders(order)
    if action == "reopen":
        # The grid leader hears about every reopening; from the second one the community holds it.
        return "reopened", holders(order, "grid_leader" if order.rung == "grid_worker" else order.rung)
    if action == "supervise":
        return "supervise", list(data.get("pressed") or [])
    if action == "overdue":
        return "overdue", holders(order)
    return "", []


def _grades(name: str) -> set[str]:
    return {g.strip() for g in current_app.config.get(name, "urgent").split(",") if g.strip()}


def on_changing(order, action=None, event=None, **_):
    # Relationships set on a new order (grid, community) only become ids at the flush.
    db.session.flush()
    queues.stash(order)
    kind, recipients = _recipients(order, action, event)
    if not kind:
        return
    channel = current_app.config.get("NOTIFY_STAFF_CHANNEL", "console")
    payload = _payload(order, event)
    for staff_id in dict.fromkeys(recipients):
        notify("staff", staff_id, kind, order=order, channel=channel, payload=payload)


def connect() -> None:
    order_changing.connect(on_changing)
