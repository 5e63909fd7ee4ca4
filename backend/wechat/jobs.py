"""RQ jobs on the "wechat" queue: bot turns for pushes, content checks, the sweep. (Outbound sends
are outbox rows, delivered by backend.notifications.services through our channels.) The worker runs
each job in an app context (backend.worker.AppWorker).

Enqueueing is best effort everywhere: the database row is the work item, so when Redis refuses
an enqueue the sweep (`flask wechat-sweep`, or the `sweep` job on a schedule) enqueues it later."""
import logging

import redis as redis_lib
from flask import current_app

from .. import worker

log = logging.getLogger(__name__)


def enqueue(fn, *args, job_id: str | None = None, marks: dict | None = None) -> bool:
    """True when queued; False (logged) when Redis is unavailable — the sweep catches up.

    One round trip: RQ on its own sends the queue's registration and the job in two pipelines;
    handing it ours sends both at once (the callback enqueues on every push). `marks`: keys → TTL
    in seconds, SET in the same MULTI/EXEC (the push's dedupe mark)."""
    queue = worker.get_queue(current_app.config["WECHAT_QUEUE"])
    try:
        with queue.connection.pipeline() as pipe:
            queue.enqueue_call(fn, args=args, job_id=job_id, pipeline=pipe)
            for key, seconds in (marks or {}).items():
                pipe.set(key, "1", ex=seconds)
            pipe.execute()
        return True
    except redis_lib.RedisError:
        log.warning("redis down: %s not enqueued", getattr(fn, "__name__", fn))
        return False


def process_inbound(inbound_id: int) -> list[int]:
    from . import services
    return services.process_inbound(inbound_id)


def check_order_content(order_id: int) -> str:
    from . import services
    return services.check_order_content(order_id)


# Set while a check_new_orders job is queued and not yet started: new orders arriving meanwhile ride
# on it instead of each enqueueing a job of its own (an RQ job costs the web request a millisecond
# of CPU and the worker several; a burst of orders becomes one job). It expires so that a worker
# lost between the two can never silence the checks for long; the sweep covers that gap too.
PENDING_KEY = "rm:content-check:pending"
PENDING_TTL = 300


def request_content_checks() -> bool:
    """After a new order commits: make sure a check_new_orders job is coming. True when one is
    queued (now or already); False when Redis is down (the sweep catches up)."""
    from ..extensions import redis
    try:
        if not redis.set(PENDING_KEY, "1", nx=True, ex=PENDING_TTL):
            return True  # a queued job will see this order: it reads the orders when it starts
    except Exception:  # noqa: BLE001 — Redis down: the sweep enqueues the check later
        return False
    return enqueue(check_new_orders)


def stage_content_checks(pipe) -> None:
    """request_content_checks' SET NX, in the commit's pipeline (worker.after_commit_redis)."""
    pipe.set(PENDING_KEY, "1", nx=True, ex=PENDING_TTL)


def content_checks_staged(replies) -> bool:
    """Its answer: the flag set now → queue the job; already set → a queued job will see the order;
    Redis down → the sweep enqueues the check later."""
    if isinstance(replies, Exception) or isinstance(replies[0], Exception):
        return False
    return enqueue(check_new_orders) if replies[0] else True


def check_new_orders() -> dict:
    from ..extensions import redis
    from . import services
    redis.delete(PENDING_KEY)  # before reading: an order committed from now on queues a new job
    result = services.check_new_orders()
    if result["more"]:
        request_content_checks()
    return {"checked": len(result["checked"]), "more": result["more"]}


def sweep() -> dict:
    from . import services
    found = services.sweep_candidates()
    for inbound_id in found["inbound"]:
        enqueue(process_inbound, inbound_id)
    if found["orders"]:
        # One batched job checks them all (and any other unchecked order), not a job per order; a
        # job already queued makes it a duplicate, which finds each order checked once.
        enqueue(check_new_orders)
    return {k: len(v) for k, v in found.items()}


def _release(inbound_id: int) -> None:
    from . import services
    services.release_inbound(inbound_id)


def register() -> None:
    from .. import failures
    failures.on_retry(f"{__name__}.process_inbound", _release)
    # WeChat pushes stored while Redis or the worker was down, and orders not yet content-checked.
    worker.register_queue("WECHAT_QUEUE")
    worker.register_periodic("wechat-sweep", "WECHAT_SWEEP_SECONDS", "WECHAT_QUEUE", sweep)
