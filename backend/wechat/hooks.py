"""Order changes → WeChat: the resident's notices of the lifecycle row become subscribe-message rows
in the order's transaction (the outbox delivers them after the commit); a new order's content
check is queued after the commit and never undoes it."""
from flask import current_app

from ..orders.signals import after_commit, order_changed

REFUSED = ("reject", "ban", "refused")


def _notify_resident(order, kind: str, event) -> None:
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


def _reply(order, event) -> None:
    """回复居民: a customer-service message with the reply's words (the channel sends it as a subscribe
    message once the 48-hour window has passed, or keeps it in the order's history)."""
    from .channels import new_notification
    new_notification(recipient_id=order.resident_id, channel="wechat_cs", kind="reply", order=order,
                     payload={"text": event.note, "number": order.number, "in_history": True})


def on_changed(order, action=None, event=None, row=None, **_):
    if order.resident_id:
        for notice in (row.notify if row else ()):
            if notice.audience == "resident" and notice.key == "reply":
                _reply(order, event)
            elif notice.audience == "resident":
                _notify_resident(order, notice.key, event)
    if action == "submit":
        from . import jobs
        after_commit(jobs.request_content_checks)


def connect() -> None:
    order_changed.connect(on_changed)
