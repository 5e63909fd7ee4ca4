"""Reads that may go to a PostgreSQL streaming replica (DATABASE_REPLICA_URL, a hot standby).

A service whose reads may be a few seconds old — the dashboard's figures and charts, 公示, 考核 and
the exports — says so with `@reads("dashboard")` (or "public", "assessment", "export"). While it runs,
`db.session` is a read-only session on the replica's engine (Flask-SQLAlchemy's bind `replica`,
SQLALCHEMY_BINDS), so the service's code is the same on either database; nothing else moves.

The primary answers instead, and the page never fails because of the replica, when:
- no replica is configured (DATABASE_REPLICA_URL empty: today's single database), or the service is
  not in REPLICA_READS;
- the replica does not answer, or is further behind than REPLICA_MAX_LAG_SECONDS — measured at most
  once per REPLICA_CHECK_SECONDS per process: the primary's flushed WAL position (pg_current_wal_flush_lsn) against
  the replica's replayed one (pg_last_wal_replay_lsn); caught up is 0 s behind, else the lag is the
  age of the last transaction it replayed (pg_last_xact_replay_timestamp). A change of state is
  logged once;
- the replica fails in the middle of the reads (killed, a recovery conflict cancelled the query):
  the service is run again on the primary (a generator — an export — goes on where it stopped);
- the request itself has changes not yet committed (it reads its own writes).

Never for writes: the replica session refuses to flush and refuses INSERT/UPDATE/DELETE, and pages
that show one order (which its reader may just have changed) never ask for it."""
from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

BIND = "replica"
PURPOSES = ("dashboard", "public", "assessment", "export")

# The reads in progress on this thread of control: "replica" or "primary" (a nested service reads
# where its caller reads; a rerun after a failure stays on the primary).
_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("replica_reading", default=None)


def configure(config) -> None:
    """Before db.init_app: the replica's engine as the bind `replica` (Flask-SQLAlchemy does not apply
    SQLALCHEMY_ENGINE_OPTIONS to binds, so its options are given here). A connection attempt to a
    dead replica gives up after REPLICA_CONNECT_TIMEOUT seconds; pre-ping replaces a pooled connection
    the replica's restart broke."""
    url = config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    options = {"url": url, "hide_parameters": True, "pool_pre_ping": True}
    if str(url).startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": max(2, int(config.get("REPLICA_CONNECT_TIMEOUT", 2))),
                                   "application_name": "red-mailbox-replica-reads"}
    config["SQLALCHEMY_BINDS"] = {**(config.get("SQLALCHEMY_BINDS") or {}), BIND: options}


@dataclass
class State:
    state: str  # off | ok | lagging | down | unknown
    lag_seconds: float | None = None
    detail: str = ""
    checked: float = 0.0  # time.monotonic() of the measurement

    def usable(self) -> bool:
        return self.state == "ok"

    def shown(self) -> str:
        if self.state == "ok":
            return f"ok (lag {self.lag_seconds:.1f} s)"
        if self.state == "lagging":
            return f"lagging: {self.lag_seconds:.1f} s" if self.lag_seconds != float("inf") else "lagging: unknown"
        return self.state + (f": {self.detail}" if self.detail else "")


_REPLAYED = text("""
SELECT pg_is_in_recovery() AS standby,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
       CAST(pg_last_wal_replay_lsn() AS text) AS replayed,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_replay
""")


def lsn(position: str | None) -> int | None:
    """A WAL position "16/B374D848" as a number of bytes."""
    if not position:
        return None
    high, _, low = position.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


class Replica:
    """The replica of one app: its measured state (cached), and what was read where (this process)."""

    def __init__(self, app):
        cfg = app.config
        self.configured = bool(cfg.get("DATABASE_REPLICA_URL"))
        self.max_lag = float(cfg.get("REPLICA_MAX_LAG_SECONDS", 5))
        self.every = float(cfg.get("REPLICA_CHECK_SECONDS", 2))
        self.purposes = {p.strip() for p in str(cfg.get("REPLICA_READS", ",".join(PURPOSES))).split(",") if p.strip()}
        self._state = State("off") if not self.configured else None
        self._lock = threading.Lock()
        self.served: Counter = Counter()  # (purpose, "replica" | "primary") → calls

    # --- the state ---------------------------------------------------------------------------------
    def state(self) -> State:
        """The replica's state, measured again when the last measurement is older than
        REPLICA_CHECK_SECONDS (one thread measures; the others use the last one meanwhile)."""
        if not self.configured:
            return self._state
        current = self._state
        # A replica that did not answer is asked again less often: on a dead host each attempt
        # costs one request REPLICA_CONNECT_TIMEOUT.
        every = self.every if current is None or current.state != "down" else self.every * 5
        if current is not None and time.monotonic() - current.checked < every:
            return current
        if not self._lock.acquire(blocking=current is None):
            return current
        try:
            if self._state is current:  # nobody measured while this thread waited
                try:
                    measured = self._measure()
                except Exception as error:  # noqa: BLE001 — whatever it is, the primary answers
                    measured = State("down", detail=type(error).__name__, checked=time.monotonic())
                self._set(measured)
            return self._state
        finally:
            self._lock.release()

    def forget(self, why: str) -> None:
        """The replica failed under reads: it is down until measured again."""
        with self._lock:
            self._set(State("down", detail=why, checked=time.monotonic()))

    def _set(self, new: State) -> None:
        old = self._state
        self._state = new
        if old is None or old.state != new.state:
            if new.usable():
                log.info("read replica in use: %s", new.shown())
            else:
                log.warning("read replica not used, the primary answers its reads: %s", new.shown())

    def _measure(self) -> State:
        now = time.monotonic()
        engine = db.engines[BIND]
        if engine.dialect.name != "postgresql":
            return State("ok", 0.0, checked=now)  # a test's second engine on the same SQLite file
        try:
            with engine.connect() as replica:
                replica.execute(text("SET LOCAL statement_timeout = 2000"))  # a stuck standby: ms
                row = replica.execute(_REPLAYED).mappings().one()
        except DBAPIError as error:
            return State("down", detail=type(error.orig).__name__, checked=now)
        if not row["standby"]:
            return State("ok", 0.0, detail="not a standby", checked=now)  # the same database, or promoted
        try:
            with db.engine.connect() as primary:
                position = primary.execute(text("SELECT CAST(pg_current_wal_flush_lsn() AS text)")).scalar()
        except DBAPIError as error:  # the primary is out: its own requests fail as they always did
            return State("unknown", detail=f"primary: {type(error.orig).__name__}", checked=now)
        # Read after the replica's position: caught up then is caught up now; a write in between
        # only makes the lag look larger (the age of the last replayed transaction), never smaller.
        replayed, written = lsn(row["replayed"]), lsn(position)
        if replayed is not None and written is not None and replayed >= written:
            lag = 0.0
        else:
            lag = float(row["since_replay"]) if row["since_replay"] is not None else float("inf")
        paused = "replay paused" if row["paused"] else ""
        if lag > self.max_lag:
            return State("lagging", lag, detail=paused, checked=now)
        return State("ok", max(lag, 0.0), detail=paused, checked=now)

    # --- the choice --------------------------------------------------------------------------------
    def chosen(self, purpose: str) -> str:
        """Where `purpose`'s reads go now: "replica" or "primary"."""
        if not self.configured or purpose not in self.purposes:
            return "primary"
        registry = db.session.registry
        if registry.has():
            own = registry()
            if own.new or own.dirty or own.deleted:
                return "primary"  # this request reads its own writes
        return "replica" if self.state().usable() else "primary"


def init_app(app) -> None:
    app.extensions["replica"] = Replica(app)


def current() -> Replica:
    return current_app.extensions["replica"]


def state() -> State:
    return current().state()


# --- the read-only session -------------------------------------------------------------------------

def _refuse_flush(session, flush_context, instances):
    raise RuntimeError("the replica session is read-only: writes belong on the primary's db.session")


def _refuse_writes(orm_execute_state):
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        raise RuntimeError("the replica session is read-only: writes belong on the primary's db.session")


def _session() -> Session:
    session = Session(bind=db.engines[BIND], autoflush=False, info={"replica": True})
    event.listen(session, "before_flush", _refuse_flush)
    event.listen(session, "do_orm_execute", _refuse_writes)
    return session


@contextmanager
def _as_db_session(session: Session):
    """db.session is `session` within (Flask-SQLAlchemy's scoped registry of this app context)."""
    registry = db.session.registry
    outer = registry() if registry.has() else None
    registry.set(session)
    try:
        yield
    finally:
        if outer is not None:
            registry.set(outer)
        else:
            registry.clear()


@contextmanager
def _reading_on(where: str):
    token = _reading.set(where)
    try:
        yield
    finally:
        _reading.reset(token)


def _fell_back(purpose: str, error: BaseException) -> None:
    why = type(getattr(error, "orig", None) or error).__name__
    log.warning("read replica failed under %s (%s): read again on the primary", purpose, why)
    current().forget(why)


# --- the decorator ---------------------------------------------------------------------------------

def reads(purpose: str):
    """Run the decorated service's reads on the replica when `purpose` may use it (module docstring);
    a generator function (an export) is driven on the replica one item at a time."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown replica purpose {purpose!r}")

    def decorate(fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generate(*args, **kwargs):
                return _generate(purpose, fn, args, kwargs)
            return generate

        @functools.wraps(fn)
        def run(*args, **kwargs):
            return _run(purpose, fn, args, kwargs)
        return run
    return decorate


def _run(purpose, fn, args, kwargs):
    if _reading.get() is not None:  # inside another service's reads: read where it reads
        return fn(*args, **kwargs)
    where = current().chosen(purpose)
    current().served[(purpose, where)] += 1
    if where == "primary":
        with _reading_on("primary"):
            return fn(*args, **kwargs)
    session = _session()
    try:
        with _reading_on("replica"), _as_db_session(session):
            return fn(*args, **kwargs)
    except DBAPIError as error:
        session.close()
        _fell_back(purpose, error)
        current().served[(purpose, "primary")] += 1
        with _reading_on("primary"):
            return fn(*args, **kwargs)
    finally:
        session.close()


def _each(gen, where: str, session: Session | None = None, skip: int = 0):
    """The items of `gen`, each computed with the reads on `where` (and db.session being `session`,
    when given) only while the generator runs: between two items the caller's code sees its own."""
    def within():
        return _as_db_session(session) if session is not None else nullcontext()
    n = 0
    try:
        while True:
            try:
                with _reading_on(where), within():
                    item = next(gen)
            except StopIteration:
                return
            n += 1
            if n > skip:
                yield item
    finally:
        with _reading_on(where), within():
            gen.close()


def _generate(purpose, fn, args, kwargs):
    if _reading.get() is not None:
        yield from fn(*args, **kwargs)
        return
    where = current().chosen(purpose)
    current().served[(purpose, where)] += 1
    if where == "primary":
        yield from _each(fn(*args, **kwargs), "primary")
        return
    # A failure on the replica reruns the generator on the primary and skips what was already
    # given (the services that use this order their items).
    session, given = _session(), 0
    items = _each(fn(*args, **kwargs), "replica", session)
    try:
        for item in items:
            given += 1
            yield item
        return
    except DBAPIError as error:
        _fell_back(purpose, error)
    finally:
        items.close()
        session.close()
    current().served[(purpose, "primary")] += 1
    yield from _each(fn(*args, **kwargs), "primary", skip=given)
