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
import threading
import time

import redis as redis_lib
from flask import current_app
from rq import Queue, SimpleWorker

log = logging.getLogger(__name__)


def rq_connection():
    """RQ pickles job data, so it needs its own client without decode_responses."""
    app = current_app._get_current_object()
    conn = app.extensions.get("rq_redis")
    if conn is None:
        conn = redis_lib.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
        app.extensions["rq_redis"] = conn
    return conn


def get_queue(name: str) -> Queue:
    return Queue(name, connection=rq_connection())


def enqueue(queue_name: str, func, *args, **kwargs):
    """Enqueue a job; None when Redis is down (callers keep their work durable in the database)."""
    try:
        return get_queue(queue_name).enqueue(func, *args, **kwargs)
    except redis_lib.RedisError:
        log.warning("redis down: %s not enqueued", getattr(func, "__name__", func))
        return None


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


def periodic_jobs(config) -> list[tuple[str, int, str, str]]:
    """(name, interval seconds, queue, dotted job path) of every registered periodic job."""
    return [(name, int(config[interval_key]), config.get(queue, queue), f"{job.__module__}.{job.__qualname__}")
            for name, (interval_key, queue, job) in sorted(_PERIODIC.items())]


def tick_once(connection, jobs, now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose current slot nobody has claimed yet; returns their names."""
    now = time.time() if now is None else now
    enqueued = []
    for name, interval, queue_name, path in jobs:
        slot = int(now // interval)
        if connection.set(f"rm:periodic:{name}:{slot}", 1, nx=True, ex=max(2 * interval, 10)):
            Queue(queue_name, connection=connection).enqueue(path, job_timeout=max(interval * 5, 300))
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
    connection = redis_lib.Redis.from_url(app.config["REDIS_URL"])
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
