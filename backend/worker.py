"""The RQ worker process (`flask run-worker`), the enqueue helper every module uses, and the
registry of periodic jobs: each package registers its own (`register_periodic`) when the app is
built, so this base module names no job of any package.

Periodic jobs (the SLA tick, the outbox sweep) need no separate scheduler process: every worker runs
a small ticker thread, and for each interval slot the first worker to `SET rm:periodic:<name>:<slot>
NX EX` enqueues the job; the others find the key taken. So with N workers each job is still
enqueued once per interval, and the jobs themselves are idempotent, so an extra run (a slot boundary
seen late, a restart) changes nothing."""
import importlib
import logging
import re
import threading
import time

import redis as redis_lib
from flask import current_app
from rq import Queue, SimpleWorker

from .extensions import redis_client

log = logging.getLogger(__name__)


def rq_connection():
    """RQ pickles job data, so it needs its own client without decode_responses."""
    app = current_app._get_current_object()
    conn = app.extensions.get("rq_redis")
    if conn is None:
        conn = redis_client(app.config)
        app.extensions["rq_redis"] = conn
    return conn


def get_queue(name: str) -> Queue:
    return Queue(name, connection=rq_connection(), default_timeout=job_timeout(current_app.config, name))


def job_timeout(config, queue_name: str) -> int:
    """Seconds one job of this queue may run (QUEUE_TIMEOUTS, else QUEUE_TIMEOUT_DEFAULT)."""
    for part in filter(None, (p.strip() for p in str(config.get("QUEUE_TIMEOUTS") or "").split(","))):
        name, _, seconds = part.partition("=")
        if name.strip() == queue_name:
            try:
                return max(1, int(seconds))
            except ValueError:
                raise ValueError(f"QUEUE_TIMEOUTS: {part!r} is not queue=seconds") from None
    return int(config.get("QUEUE_TIMEOUT_DEFAULT", 600))


def enqueue(queue_name: str, func, *args, **kwargs):
    """Enqueue a job; None when Redis is down (callers keep their work durable in the database).
    The job may run for its queue's timeout; past it the worker kills it into the failed list."""
    try:
        return get_queue(queue_name).enqueue(func, *args, **kwargs)
    except redis_lib.RedisError:
        log.warning("redis down: %s not enqueued", getattr(func, "__name__", func))
        return None


def stage_jobs(pipe, queue_name: str, func, args_list, marks=(), mark_seconds: int = 600) -> None:
    """Add to a transaction pipeline what enqueueing `func(*args)` for each args writes (RQ's own
    enqueue sends it in two pipelines per job), and `marks`: keys SET NX for `mark_seconds`."""
    queue = get_queue(queue_name)
    for key in marks:
        pipe.set(key, 1, nx=True, ex=mark_seconds)
    pipe.sadd(queue.redis_queues_keys, queue.key)  # as each enqueue does: the queue is known
    queue.enqueue_many([Queue.prepare_data(func, tuple(args)) for args in args_list], pipeline=pipe)


def enqueue_many(queue_name: str, func, args_list, marks=(), mark_seconds: int = 600) -> int | None:
    """Jobs `func(*args)`, one per args of `args_list`, in one Redis round trip (one pipeline, one
    MULTI/EXEC); how many, or None when Redis is down. `marks`: keys set (NX, `mark_seconds`) in the
    same transaction, saying the jobs are queued."""
    args_list = [tuple(args) for args in args_list]
    if not args_list:
        return 0
    try:
        with rq_connection().pipeline() as pipe:
            stage_jobs(pipe, queue_name, func, args_list, marks, mark_seconds)
            pipe.execute()
        return len(args_list)
    except redis_lib.RedisError:
        log.warning("redis down: %d × %s not enqueued", len(args_list), getattr(func, "__name__", func))
        return None


# --- Redis writes after a commit, one round trip per commit ------------------------------------------

_STAGED = "rm_after_commit_redis"


def after_commit_redis(stage, done=None) -> None:
    """Redis writes for after the current transaction commits, sent with every other one of that
    commit in one MULTI/EXEC (an order's intake had four round trips there: its queue, the content
    check's flag, the notification's guard and job): `stage(pipe)` adds commands to the pipeline
    once the commit is done; `done(replies)` then gets their replies (a list; a failed command's
    error among them), or `done(error)` when Redis did not answer. Nothing runs if the transaction
    rolls back. A failure is logged and never undoes the committed change."""
    from .extensions import db
    db.session.info.setdefault(_STAGED, []).append((stage, done))


def _run_staged(session) -> None:
    staged = session.info.pop(_STAGED, None)
    if not staged:
        return
    counts, failure, replies = [], None, []
    try:
        with rq_connection().pipeline() as pipe:
            for stage, _done in staged:
                before = len(pipe)
                stage(pipe)
                counts.append(len(pipe) - before)
            replies = pipe.execute(raise_on_error=False)
    except Exception as exc:  # noqa: BLE001 — Redis down: each stage's owner says what catches up
        failure = exc
    at = 0
    for (stage, done), count in zip(staged, counts + [0] * (len(staged) - len(counts))):
        if done is not None:
            try:
                done(failure if failure is not None else replies[at:at + count])
            except Exception:  # side effects must never undo or hide a committed change
                log.exception("after-commit redis %s failed", getattr(done, "__name__", done))
        at += count


def _drop_staged(session) -> None:
    session.info.pop(_STAGED, None)


def _listen() -> None:
    from sqlalchemy import event
    from .extensions import db
    event.listen(db.session, "after_commit", _run_staged)
    event.listen(db.session, "after_rollback", _drop_staged)


_listen()


# name → (config key of the interval in seconds, queue name or config key of it, the job function)
_PERIODIC: dict[str, tuple[str, str, object]] = {}


def register_periodic(name: str, interval_key: str, queue: str, job) -> None:
    """A job every worker's ticker enqueues once per interval (across all workers)."""
    _PERIODIC[name] = (interval_key, queue, job)


_QUEUES: list[str] = []


def register_queue(queue: str) -> None:
    """A queue (name or config key of it) every worker serves besides WORKER_QUEUES."""
    if queue not in _QUEUES:
        _QUEUES.append(queue)


def queue_names(config, asked: str | None = None) -> list[str]:
    """The queues a worker serves, highest priority first: `asked`, else registered ones first and
    then WORKER_QUEUES."""
    if asked:
        return [q.strip() for q in asked.split(",") if q.strip()]
    names = [config.get(q, q) for q in _QUEUES]
    names += [q.strip() for q in config["WORKER_QUEUES"].split(",") if q.strip()]
    return list(dict.fromkeys(names))


def periodic_jobs(config) -> list[tuple[str, int, str, str, int]]:
    """(name, interval seconds, queue, dotted job path, timeout seconds) of every registered periodic job."""
    jobs = []
    for name, (interval_key, queue, job) in sorted(_PERIODIC.items()):
        queue_name = config.get(queue, queue)
        jobs.append((name, int(config[interval_key]), queue_name, f"{job.__module__}.{job.__qualname__}",
                     job_timeout(config, queue_name)))
    return jobs


def tick_once(connection, jobs, now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose current slot nobody has claimed yet; returns their names."""
    now = time.time() if now is None else now
    enqueued = []
    for name, interval, queue_name, path, timeout in jobs:
        slot = int(now // interval)
        if connection.set(f"rm:periodic:{name}:{slot}", 1, nx=True, ex=max(2 * interval, 10)):
            Queue(queue_name, connection=connection).enqueue(path, job_timeout=timeout)
            enqueued.append(name)
    return enqueued


def _ticker(connection, jobs, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            tick_once(connection, jobs)
        except redis_lib.RedisError as exc:  # Redis away for a moment: try again next second
            log.warning("periodic tick skipped, redis unavailable: %s", exc)
        except Exception:
            log.exception("periodic tick failed")
        stop.wait(1.0)


class AppWorker(SimpleWorker):
    """Runs jobs in this process (no fork: no database connections shared with a child), each in a
    fresh app context so sessions and `g` never leak from one job into the next."""

    flask_app = None

    def execute_job(self, job, queue):
        with self.flask_app.app_context():
            return super().execute_job(job, queue)


def run(app, queues: list[str], burst: bool = False, with_ticker: bool = True) -> None:
    for module in filter(None, (m.strip() for m in app.config.get("NOTIFY_CHANNEL_MODULES", "").split(","))):
        importlib.import_module(module)
    connection = redis_client(app.config, timeout=None)
    stop = threading.Event()
    if with_ticker:
        threading.Thread(target=_ticker, args=(connection, periodic_jobs(app.config), stop),
                         name="periodic-ticker", daemon=True).start()
    worker_class = type("BoundAppWorker", (AppWorker,), {"flask_app": app})
    worker = worker_class([Queue(q, connection=connection) for q in queues], connection=connection)
    try:
        # with_scheduler: RQ takes a per-queue lock, so only one worker moves delayed jobs (enqueue_in).
        worker.work(burst=burst, logging_level="INFO", with_scheduler=True)
    finally:
        stop.set()


# --- the failed list ----------------------------------------------------------------------------
# A job that raised or outlived its queue's timeout stays in RQ's failed registry of its queue
# (RQ keeps it a year), shown on the console's 后台任务 page to be retried or discarded; nothing else waits
# for it. Jobs that keep their own attempts in the database (WeChat pushes, notifications) also
# land here once their last attempt failed.
def failed_jobs(queues: list[str], limit: int = 200) -> list[dict]:
    """The failed jobs of these queues, newest first."""
    from rq.job import Job
    connection = rq_connection()
    found = []
    for name in queues:
        queue = Queue(name, connection=connection)
        ids = queue.failed_job_registry.get_job_ids(0, limit - 1)
        for job in Job.fetch_many(ids, connection=connection):
            if job is None:
                continue
            found.append({"id": job.id, "queue": name, "func": job.func_name, "args": list(job.args or ()),
                          "error": _exception_line(job.exc_info), "ended_at": job.ended_at,
                          "enqueued_at": job.enqueued_at})
    found.sort(key=lambda j: j["ended_at"] or j["enqueued_at"] or 0, reverse=True)
    return found[:limit]


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout|Interrupt)\b(:|$)")


def _exception_line(exc_info: str | None) -> str:
    """`Type: message` of the traceback's last exception: SQLAlchemy adds the statement after it."""
    for line in reversed((exc_info or "").strip().splitlines()):
        if _EXCEPTION_LINE.match(line):
            return line[:300]
    return ""


def failed_job(queue_name: str, job_id: str):
    """The failed job, or None when it is not (or no longer) in that queue's failed list."""
    from rq.job import Job
    from rq.exceptions import NoSuchJobError
    queue = Queue(queue_name, connection=rq_connection())
    if job_id not in queue.failed_job_registry:
        return None
    try:
        return Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return None


def retry_failed(queue_name: str, job_id: str) -> None:
    Queue(queue_name, connection=rq_connection()).failed_job_registry.requeue(job_id)


def discard_failed(queue_name: str, job_id: str) -> None:
    Queue(queue_name, connection=rq_connection()).failed_job_registry.remove(job_id, delete_job=True)
