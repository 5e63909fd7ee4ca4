"""RQ jobs on the "wechat" queue: bot turns for pushes, outbound sends, content checks, the sweep.

Enqueueing is best effort everywhere: the database row is the work item, so when Redis refuses
an enqueue the sweep (`flask wechat-sweep`, or the `sweep` job on a schedule) enqueues it later."""
import functools
import logging
from datetime import timedelta

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue

from .. import clock
from . import client as wx

log = logging.getLogger(__name__)
_worker_app = None


def _app_context(fn):
    """Jobs run inside the worker process, which has no app context of its own."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return fn(*args, **kwargs)
        global _worker_app
        if _worker_app is None:
            from .. import create_app
            _worker_app = create_app()
        with _worker_app.app_context():
            return fn(*args, **kwargs)

    return wrapper


def queue() -> Queue:
    return Queue(current_app.config["WECHAT_QUEUE"], connection=Redis(connection_pool=wx.raw_pool()))


def enqueue(fn, *args, job_id: str | None = None, delay: timedelta | None = None) -> bool:
    """True when queued; False (logged) when Redis is unavailable — the sweep catches up."""
    try:
        q = queue()
        if delay:
            q.enqueue_in(delay, fn, *args, job_id=job_id)
        else:
            q.enqueue(fn, *args, job_id=job_id)
        return True
    except Exception as exc:
        log.warning("could not enqueue %s%s (%s); left for the sweep", fn.__name__, args, type(exc).__name__)
        return False


def deliver_function():
    """The notifications service's deliver job once it exists, else ours."""
    try:
        from ..notifications import services as notifications
        if hasattr(notifications, "deliver"):
            return notifications.deliver
    except ImportError:
        pass
    return deliver_notification


def enqueue_delivery(notification_ids) -> None:
    fn = deliver_function()
    for nid in notification_ids:
        enqueue(fn, nid)


def enqueue_own_outbox() -> None:
    """After a commit: enqueue rows we created ourselves (only while the notifications service,
    which enqueues its own after commit, is missing)."""
    from ..extensions import db
    from .channels import OUTBOX_KEY
    notes = db.session.info.pop(OUTBOX_KEY, [])
    enqueue_delivery([n.id for n in notes if n.status == "pending"])


@_app_context
def process_inbound(inbound_id: int) -> list[int]:
    from . import services
    notes = services.process_inbound(inbound_id)
    enqueue_own_outbox()
    return notes


@_app_context
def deliver_notification(notification_id: int) -> str:
    from . import channels
    from ..extensions import db
    from ..notifications.models import Notification
    outcome = channels.deliver(notification_id)
    if outcome == "retry":
        note = db.session.get(Notification, notification_id)
        delay = note.next_attempt_at - clock.now()
        # Needs a worker started --with-scheduler; without one the sweep retries when due.
        enqueue(deliver_notification, notification_id, delay=max(delay, timedelta(seconds=1)))
    enqueue_own_outbox()  # a subscribe-message fallback created by the send
    return outcome


@_app_context
def check_order_content(order_id: int) -> str:
    from . import services
    return services.check_order_content(order_id)


@_app_context
def sweep() -> dict:
    from . import services
    found = services.sweep_candidates()
    for inbound_id in found["inbound"]:
        enqueue(process_inbound, inbound_id)
    if deliver_function() is deliver_notification:  # else the notifications service sweeps
        enqueue_delivery(found["notifications"])
    for order_id in found["orders"]:
        enqueue(check_order_content, order_id)
    return {k: len(v) for k, v in found.items()}
