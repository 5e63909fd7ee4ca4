"""Notifications: durable outbox rows and their delivery.

The API (stable; dispatch and WeChat both use it):

    notify(recipient_type, recipient_id, kind, order=None, channel="console", payload=None)
        Writes a pending Notification in the *current* session's transaction (one INSERT, at once)
        and returns it, persistent. No commit: the row commits or rolls back with the change that caused it (call it inside a service, or from an
        `orders.signals.order_changing` receiver). After the commit it is enqueued for delivery on
        the "notifications" RQ queue; if Redis is down it stays pending and `sweep()` (run by the
        worker every NOTIFY_SWEEP_SECONDS) enqueues it later.

    register_channel(name, send_fn, at_write=False)
        `send_fn(notification) -> None | "skipped"` sends one row. Raise to fail the attempt (the
        error text is kept in `last_error`); return "skipped" when there is deliberately nothing to
        send (e.g. no template configured). Register at import time of a module the worker imports
        (create_app's imports, or list it in NOTIFY_CHANNEL_MODULES). `at_write`: the committed row
        is itself the delivery, so it is written sent and no job is queued. Built in: "console"
        (at write: a sent row is in the staff member's console inbox, `console_inbox`).

    deliver(notification_id)   RQ job. pending → sent | skipped, or after NOTIFY_MAX_ATTEMPTS
        failed attempts → failed. Each attempt is claimed in the database first (compare-and-set on
        `attempts`), so a row enqueued twice is still sent once; between attempts `next_attempt_at`
        backs off exponentially (NOTIFY_BACKOFF_SECONDS · 2^(attempt-1), at most an hour).

    sweep()                    RQ job: enqueue every pending row that is due.
    render(notification)       The text from templates/notifications/<kind>.txt (Jinja), with the
                               row as `n` and its payload's keys as variables.
    undelivered(order_ids)     The failed and waiting rows of those orders (the console's outbox).
"""
import logging
from datetime import timedelta

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import event, func, inspect, or_, select, update

from .. import clock, rows
from ..errors import describe
from ..extensions import db, redis
from .models import Notification

log = logging.getLogger(__name__)

QUEUE = "notifications"
_SESSION_KEY = "rm_new_notifications"
_channels: dict = {}
_sent_at_write: set[str] = set()


def notify(recipient_type: str, recipient_id: int, kind: str, order=None, channel: str = "console",
           payload: dict | None = None) -> Notification:
    now = clock.now()
    # A console notice is delivered by its commit (the inbox reads committed rows): a delivery job
    # for it would only flip its status, at the cost of a queued job per intake.
    at_write = channel in _sent_at_write
    notification = Notification(recipient_type=recipient_type, recipient_id=recipient_id, kind=kind,
                                channel=channel, payload=dict(payload or {}),
                                status="sent" if at_write else "pending", attempts=1 if at_write else 0,
                                sent_at=now if at_write else None, created_at=now)
    session = db.session()
    if order is not None:
        notification.order_id = order.id
        if order.id is None or order in session.new:  # a new order: let the flush fill the foreign key
            session.flush([order])
            notification.order_id = order.id
    # The row depends on nothing else pending (its order is in the database now), so it is written
    # at once by one Core INSERT instead of waiting for the flush's unit of work (backend/rows.py):
    # the same row, in the same transaction, persistent in the session as a flush leaves it.
    rows.insert_row(notification)
    rows.make_persistent(session, notification)
    if at_write:
        return notification
    pending = session.info.get(_SESSION_KEY)
    if pending is None:  # the transaction's first: its rows are queued after the commit
        from ..worker import after_commit_redis
        pending = session.info[_SESSION_KEY] = []
        after_commit_redis(*_stage_committed())
    pending.append(notification)
    return notification


def register_channel(name: str, send_fn, at_write: bool = False) -> None:
    _channels[name] = send_fn
    if at_write:
        _sent_at_write.add(name)
    else:
        _sent_at_write.discard(name)


def channels() -> tuple[str, ...]:
    return tuple(sorted(_channels))


def render(notification: Notification) -> str:
    context = {**(notification.payload or {}), "n": notification}
    try:
        return render_template(f"notifications/{notification.kind}.txt", **context).strip()
    except TemplateNotFound:
        return render_template("notifications/_default.txt", **context).strip()


def _console(notification: Notification):
    # Rows are written sent; this delivers one left pending (written before that, or by hand).
    # Delivered = it is on the staff member's console inbox now. The text is not logged: it
    # carries what a resident wrote and where they live.
    log.info("notification %s (%s) ready on the console of %s#%s", notification.id, notification.kind,
             notification.recipient_type, notification.recipient_id)


def console_inbox(staff_id: int, limit: int = 20) -> list[Notification]:
    """A staff member's console notifications, unread first, newest first."""
    return list(db.session.scalars(
        select(Notification).where(Notification.recipient_type == "staff", Notification.recipient_id == staff_id,
                                   Notification.channel == "console", Notification.status == "sent")
        .order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(limit)))


def _inbox(staff_id: int, readable_orders=None):
    """A staff member's console rows; with `readable_orders` (a select of order ids) only those
    about no order or about one of these: a notice keeps what the resident wrote, and an order
    that left the recipient (returned by the property, transferred) must not be read through it."""
    where = (Notification.recipient_type == "staff", Notification.recipient_id == staff_id,
             Notification.channel == "console", Notification.status == "sent")
    if readable_orders is None:
        return where
    return (*where, or_(Notification.order_id.is_(None), Notification.order_id.in_(readable_orders)))


def reminders(staff_id: int, limit: int = 30, kinds: tuple[str, ...] | None = None,
              readable_orders=None) -> list[Notification]:
    """A bounded reminder list: the unread ones, newest first, then (to fill `limit`) the latest
    read ones; `kinds` keeps only those templates (the phone shows 督办, 不满意, deadlines);
    `readable_orders` as for `_inbox`."""
    query = select(Notification).where(*_inbox(staff_id, readable_orders))
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(Notification.read_at.is_not(None), Notification.id.desc())
                                   .limit(limit)))


def unread_count(staff_id: int, kinds: tuple[str, ...] | None = None, readable_orders=None) -> int:
    query = select(func.count()).select_from(Notification).where(*_inbox(staff_id, readable_orders),
                                                                 Notification.read_at.is_(None))
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    return db.session.scalar(query)


def short_text(notification: Notification, limit: int = 120) -> str:
    """The reminder's text bounded for a list (a resident's text may run to 2,000 characters)."""
    text = render(notification)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def open_reminder(staff_id: int, notification_id: int, readable_orders=None) -> Notification | None:
    """A reminder opened by its recipient: marked read (once), returned; None when it is not theirs
    (or, with `readable_orders`, about an order they may no longer read)."""
    found = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                         *_inbox(staff_id, readable_orders)))
    if found is not None and found.read_at is None:
        found.read_at = clock.now()
        db.session.commit()
    return found


def mark_read(staff_id: int) -> int:
    """Mark all of a staff member's console notifications read; returns how many."""
    rows = db.session.execute(
        update(Notification).where(Notification.recipient_type == "staff", Notification.recipient_id == staff_id,
                                   Notification.channel == "console", Notification.read_at.is_(None))
        .values(read_at=clock.now()))
    db.session.commit()
    return rows.rowcount


def undelivered(order_ids=None, limit: int = 200) -> list[Notification]:
    """Notifications that failed or still wait, newest first: a failure must be seen. `order_ids`:
    a select of the ids of the orders the reader may see (dispatch.listings.readable_order_ids);
    None: every row, also those of no order (the sysadmin's outbox)."""
    query = (select(Notification).where(Notification.status.in_(("failed", "pending")))
             .order_by(Notification.id.desc()).limit(limit))
    if order_ids is not None:
        query = query.where(Notification.order_id.in_(order_ids))
    return list(db.session.scalars(query))


register_channel("console", _console, at_write=True)


# --- delivery -------------------------------------------------------------------------------

def _backoff(attempt: int) -> timedelta:
    base = current_app.config.get("NOTIFY_BACKOFF_SECONDS", 30)
    return timedelta(seconds=min(3600, base * 2 ** max(0, attempt - 1)))


def _load_channel_modules() -> None:
    import importlib
    for name in filter(None, (m.strip() for m in current_app.config.get("NOTIFY_CHANNEL_MODULES", "").split(","))):
        importlib.import_module(name)


def deliver(notification_id: int) -> str | None:
    now = clock.now()
    row = db.session.get(Notification, notification_id)
    if row is None:
        db.session.rollback()
        return None
    if row.status != "pending" or (row.next_attempt_at and row.next_attempt_at > now):
        status = row.status
        db.session.rollback()
        return status
    attempt = row.attempts + 1
    # Claim this attempt: whoever moves `attempts` first sends; a duplicate job finds nothing to do.
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "pending",
               Notification.attempts == row.attempts)
        .values(attempts=attempt, next_attempt_at=now + _backoff(attempt)))
    db.session.commit()
    if claimed.rowcount != 1:
        return "busy"
    row = db.session.get(Notification, notification_id)
    send = _channels.get(row.channel)
    if send is None:
        _load_channel_modules()
        send = _channels.get(row.channel)
    try:
        if send is None:
            raise LookupError(f"no channel {row.channel!r} registered")
        outcome = send(row)
    except Exception as exc:  # recorded on the row: a failed send is visible, never silent
        db.session.rollback()
        row = db.session.get(Notification, notification_id)
        row.last_error = describe(exc, 2000)
        if attempt >= current_app.config.get("NOTIFY_MAX_ATTEMPTS", 5):
            row.status = "failed"
            row.next_attempt_at = None
        db.session.commit()
        log.warning("notification %s attempt %s failed: %s", notification_id, attempt, row.last_error)
        return row.status
    row.status = "skipped" if outcome == "skipped" else "sent"
    row.sent_at = clock.now()
    row.last_error = None
    row.next_attempt_at = None
    db.session.commit()
    return row.status


def _enqueue(ids_and_attempts) -> int:
    """Enqueue delivery jobs once per (row, attempt): a Redis SET NX guard keeps the sweep and the
    after-commit hook from piling up duplicates (the attempt claim in `deliver` is the real guard).
    Two round trips for any number of rows: the guards in one pipeline, the jobs of the rows whose
    guard was free in another (worker.enqueue_many)."""
    from ..worker import enqueue_many
    pairs = list(ids_and_attempts)
    if not pairs:
        return 0
    try:
        pipe = redis.pipeline(transaction=False)
        for notification_id, attempts in pairs:
            pipe.set(_guard(notification_id, attempts), 1, nx=True, ex=_guard_seconds())
        free = pipe.execute()
    except Exception:
        log.warning("redis down: notifications %s stay pending for the sweep", [p[0] for p in pairs])
        return 0
    due = [(notification_id,) for (notification_id, _), ok in zip(pairs, free) if ok]
    return (enqueue_many(QUEUE, deliver, due) or 0) if due else 0


def _guard(notification_id: int, attempts: int) -> str:
    return f"rm:enq:deliver:{notification_id}:{attempts}"


def _guard_seconds() -> int:
    """How long a queued job is trusted to come: a job lost before its attempt claim (its worker
    killed, or the queue entry lost in a Redis failover while the guard survived) leaves the row
    pending with its guard set, and the sweep enqueues it again only once the guard expires."""
    return max(1, int(current_app.config["NOTIFY_REQUEUE_SECONDS"]))


def _stage_committed():
    """Enqueue after the commit, never before: a job must not look for a row that is not there yet.
    The first delivery jobs of the rows the transaction wrote, with their guards (`_enqueue`'s, for
    attempt 0), go in the commit's one MULTI/EXEC (worker.after_commit_redis) instead of a round
    trip for the guards and one for the jobs. Nothing but a sweep that ran in the moments since the
    commit can hold such a guard already; its job and this one then both run, and the attempt
    claim in `deliver` lets one of them send."""
    from ..worker import stage_jobs
    ids: list[int] = []

    def stage(pipe):
        new = db.session.info.pop(_SESSION_KEY, None) or ()
        ids.extend(state.identity[0] for state in map(inspect, new) if state.identity)
        if ids and current_app.config.get("NOTIFY_ENQUEUE_ON_COMMIT", True):
            stage_jobs(pipe, QUEUE, deliver, [(i,) for i in ids], marks=[_guard(i, 0) for i in ids],
                       mark_seconds=_guard_seconds())

    def done(replies):
        if isinstance(replies, Exception):
            log.warning("could not enqueue notifications %s (%s); the sweep will", ids, type(replies).__name__)
    return stage, done


def sweep(limit: int = 500) -> int:
    now = clock.now()
    rows = db.session.execute(
        select(Notification.id, Notification.attempts)
        .where(Notification.status == "pending",
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.id).limit(limit)).all()
    db.session.rollback()
    return _enqueue([(r.id, r.attempts) for r in rows])


@event.listens_for(db.session, "after_rollback")
def _after_rollback(session):
    session.info.pop(_SESSION_KEY, None)


def register_jobs() -> None:
    from .. import worker
    worker.register_periodic("notify-sweep", "NOTIFY_SWEEP_SECONDS", QUEUE, sweep)
