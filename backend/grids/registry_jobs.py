"""A registry import run by the worker, its progress kept in Redis, so a 20,000-building file shows
how far it has got instead of holding a request for a quarter of a minute. Without a live worker
(or with Redis down) the import runs in the request, as before: an import is never refused for
want of a worker.

The job's record (`rm:registry-import:<id>`, a JSON string): state (queued, running, done, failed),
done / total rows, and when done the report — counts, problems, and the new accounts' first
passwords, which is why it lives only IMPORT_RECORD_SECONDS and is deleted once shown."""
import json
import logging
import secrets

from redis.exceptions import RedisError
from rq import Worker

from ..extensions import redis
from ..worker import enqueue, rq_connection
from . import registry

log = logging.getLogger(__name__)
QUEUE = "default"
RECORD_SECONDS = 900


def _key(job_id: str) -> str:
    return f"rm:registry-import:{job_id}"


def _save(job_id: str, **record) -> None:
    redis.set(_key(job_id), json.dumps(record, ensure_ascii=False), ex=RECORD_SECONDS)


def report_dict(report: registry.Report) -> dict:
    return {"dry_run": report.dry_run, "counts": report.counts, "passwords": report.passwords,
            "problems": [{"sheet": p.sheet, "row": p.row, "column": p.column, "problem": p.problem}
                         for p in report.problems]}


def _worker_alive() -> bool:
    try:
        return any(QUEUE in w.queue_names() for w in Worker.all(connection=rq_connection()))
    except RedisError:
        return False


def start(files: list[tuple[str, bytes]], scope: registry.Scope = registry.WHOLE,
          by: int | None = None) -> tuple[str | None, dict | None]:
    """(job id, None) when a worker took the import, else (None, the report) after running it here.
    `scope`: whose registry (registry.Scope); `by`: the staff member who alone may read its record."""
    if _worker_alive():
        job_id = secrets.token_urlsafe(12)
        try:
            _save(job_id, state="queued", done=0, total=0, by=by)
        except RedisError:
            job_id = None
        if job_id and enqueue(QUEUE, run, job_id, files, scope.street_id, scope.community_id, by) is not None:
            return job_id, None
    return None, report_dict(registry.import_registry(files, scope=scope))


def run(job_id: str, files: list[tuple[str, bytes]], street_id: int | None = None,
        community_id: int | None = None, by: int | None = None) -> None:
    """The worker's side: import, writing progress as rows are applied."""
    def progress(done: int, total: int) -> None:
        _save(job_id, state="running", done=done, total=total, by=by)
    try:
        report = registry.import_registry(files, progress=progress,
                                          scope=registry.Scope(street_id=street_id, community_id=community_id))
    except Exception as error:  # noqa: BLE001 — the page must learn it failed, not wait forever
        log.exception("registry import %s failed", job_id)
        message = getattr(error, "message", None) or "导入失败，请稍后重试或联系系统管理员"
        _save(job_id, state="failed", error=message, by=by)
        return
    total = sum(sum(c.values()) for c in report.counts.values())
    _save(job_id, state="done", done=total, total=total, report=report_dict(report), by=by)


def status(job_id: str, *, consume: bool = False, by: int | None = None) -> dict | None:
    """The job's record, or None (unknown, expired, or Redis down). With `consume`, a finished
    record is deleted as it is read: its first passwords are shown once."""
    try:
        raw = redis.get(_key(job_id))
        record = json.loads(raw) if raw else None
        if record and by is not None and record.get("by") not in (None, by):
            return None  # another's import: its first passwords are not for this reader
        if consume and record and record["state"] in ("done", "failed"):
            redis.delete(_key(job_id))
        return record
    except (RedisError, ValueError):
        return None
