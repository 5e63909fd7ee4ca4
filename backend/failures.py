"""The failed list (后台任务): background jobs that raised or outlived their queue's timeout, for the
system administrator to retry or discard. A failed job blocks nothing — each queue has its own
worker group — but it must be visible, never silent.

A WeChat push keeps its own attempts in the database (the sweep retries it until
MAX_INBOUND_ATTEMPTS); retrying its job here gives it a fresh set of attempts."""
import logging

from . import worker
from .accounts.actors import Actor
from .errors import Forbidden, NotFound

log = logging.getLogger(__name__)

_RESTARTS = {}  # dotted job function → what makes its database row runnable again before a retry


def on_retry(func_name: str, restart) -> None:
    """Register what a retry of this job must reset first (called by the package that owns it)."""
    _RESTARTS[func_name] = restart


def _queues() -> list[str]:
    """Every queue a worker serves by default: the packages' and WORKER_QUEUES."""
    from flask import current_app
    return worker.queue_names(current_app.config)


def _require_sysadmin(actor: Actor) -> None:
    if not (actor.is_staff and actor.role == "sysadmin"):
        raise Forbidden("只有系统管理员可以查看和处理后台任务")


def failed(actor: Actor) -> list[dict]:
    _require_sysadmin(actor)
    return worker.failed_jobs(_queues())


def _job(queue: str, job_id: str):
    job = worker.failed_job(queue, job_id) if queue in _queues() else None
    if job is None:
        raise NotFound("没有这个失败的后台任务（可能已重试或已丢弃）")
    return job


def retry(actor: Actor, queue: str, job_id: str) -> None:
    _require_sysadmin(actor)
    job = _job(queue, job_id)
    restart = _RESTARTS.get(job.func_name)
    if restart is not None:
        restart(*job.args)
    worker.retry_failed(queue, job_id)
    log.info("staff %s retried failed job %s (%s) on %s", actor.id, job_id, job.func_name, queue)


def discard(actor: Actor, queue: str, job_id: str) -> None:
    _require_sysadmin(actor)
    job = _job(queue, job_id)
    worker.discard_failed(queue, job_id)
    log.info("staff %s discarded failed job %s (%s) on %s", actor.id, job_id, job.func_name, queue)
