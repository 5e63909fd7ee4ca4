"""Order changes → WeChat: the resident's notices of the lifecycle row become subscribe-message rows
in the order's transaction (the outbox delivers them after the commit); a new order's content
check is queued after the commit and never undoes it."""
from flask import current_app

from ..orders.signals import order_changed

REFUSED = ("reject", "ban", "refused")


def _notify_resident(order, kind: str, event, resident_id: int) -> None:
    template = current_app.config["WECHAT_TEMPLATES"].get(kind)
    if not template:
        return
    from .channels import new_notification, subscribe_payload
    from .services import subscription_for
    sub = subscription_for(resident_id, template)
    if sub is not None and sub.status in REFUSED:
        return  # the resident said no to this template: not asked again until they accept
    note = new_notification(
        recipient_id=resident_id, channel="wechat_subscribe", kind=kind, order=order,
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
    notices = [n for n in (row.notify if row else ()) if n.audience == "resident"]
    if not notices:
        return _after_submit(action)
    # Every resident who raised the problem is told (issue 20): its reporter and each co-reporter
    # (附议, or merged in) — of its claim, escalation, resolution (请您评价: each may rate) and reopening.
    # A reply answers the reporter's own words: it goes to the reporter alone.
    from ..orders.merging import reporters
    everyone = reporters(order)
    for notice in notices:
        if notice.key == "reply":
            if order.resident_id:
                _reply(order, event)
            continue
        for resident_id in everyone:
            _notify_resident(order, notice.key, event, resident_id)
    _after_submit(action)


def _after_submit(action) -> None:
    if action == "submit":
        from ..worker import after_commit_redis
        from . import jobs
        # The flag that a check is coming goes with the commit's other Redis writes (one round trip);
        # only when it was not set yet is a job queued (jobs.request_content_checks, the same rule).
        after_commit_redis(jobs.stage_content_checks, jobs.content_checks_staged)


def connect() -> None:
    order_changed.connect(on_changed)
