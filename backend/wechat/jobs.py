"""RQ jobs on the "wechat" queue: bot turns for pushes, content checks, the sweep. (Outbound sends
are outbox rows, delivered by backend.notifications.services through our channels.)

Enqueueing is best effort everywhere: the database row is the work item, so when Redis refuses
an enqueue the sweep (`flask wechat-sweep`, or the `sweep` job on a schedule) enqueues it later."""
import functools
import logging

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue

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


def enqueue(fn, *args, job_id: str | None = None) -> bool:
    """True when queued; False (logged) when Redis is unavailable — the sweep catches up."""
    try:
        queue().enqueue(fn, *args, job_id=job_id)
        return True
    except Exception as exc:
        log.warning("could not enqueue %s%s (%s); left for the sweep", fn.__name__, args, type(exc).__name__)
        return False


@_app_context
def process_inbound(inbound_id: int) -> list[int]:
    from . import services
    return services.process_inbound(inbound_id)


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
    for order_id in found["orders"]:
        enqueue(check_order_content, order_id)
    return {k: len(v) for k, v in found.items()}
