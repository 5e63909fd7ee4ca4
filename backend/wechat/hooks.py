"""Order signals → WeChat: subscribe-message rows in the order's transaction (the outbox delivers
them after the commit), and after commit the content check, which must never undo the change."""
import logging

from flask import current_app

from ..orders.signals import order_changed, order_changing

log = logging.getLogger(__name__)
ACTION_KINDS = {"claim": "claimed", "escalate": "escalated", "resolve": "resolved", "reopen": "reopened"}
REFUSED = ("reject", "ban", "refused")


def on_order_changing(order, action=None, event=None, **_):
    kind = ACTION_KINDS.get(action)
    if kind is None or not order.resident_id:
        return
    template = current_app.config["WECHAT_TEMPLATES"].get(kind)
    if not template:
        return
    from .channels import new_notification, subscribe_payload
    from .services import subscription_for
    sub = subscription_for(order.resident_id, template)
    if sub is not None and sub.status in REFUSED:
        return  # the resident said no to this template: not asked again until they accept
    note = new_notification(
        recipient_id=order.resident_id, channel="wechat_subscribe", kind=kind, order=order,
        payload=subscribe_payload(kind, order, template,
                                  note=event.note if event is not None and kind == "resolved" else None))
    if sub is None or not sub.usable:
        # Recorded, not silently dropped: staff see the resident was not reachable by WeChat.
        note.status, note.last_error = "skipped", f"resident has not granted template {template}"


def on_order_changed(order, action=None, **_):
    if action == "submit":
        from . import jobs
        jobs.enqueue(jobs.check_order_content, order.id)


def connect() -> None:
    order_changing.connect(on_order_changing)
    order_changed.connect(on_order_changed)
