"""Human-readable order numbers, unique under concurrency: HX20261122-0007.

SQLite: the per-day counter is bumped with one atomic upsert (INSERT … ON CONFLICT DO UPDATE …
RETURNING) inside the caller's transaction, so two concurrent submissions can never read the same
value (SQLite runs one writer at a time anyway).

PostgreSQL: that upsert locked the day's row until the caller's commit, so every submission queued
behind the one before it (a third of a web worker's time under load, the cap on intake). There the
number comes from a sequence, which takes no lock, through the database function next_order_number
(migration b7d2e4f6a8c1): the day's row holds the sequence value just before its first number,
written once by the day's first order under an advisory lock for that day only, and a number is
nextval − that. Numbers stay unique and run 1, 2, 3 … through the day; an order whose transaction
rolls back leaves a gap, as any sequence does. A new order takes its number inside its own INSERT
(`in_insert`), which saves a statement and an UPDATE of the row."""
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite

from .. import clock
from ..extensions import db
from .models import OrderSequence


def _prefix_and_day() -> tuple[str, str]:
    return (current_app.config["ORDER_NUMBER_PREFIX"],
            clock.local(clock.now(), current_app.config["TIMEZONE"]).strftime("%Y%m%d"))


def in_insert():
    """On PostgreSQL, the SQL expression that numbers an order in its own INSERT (the ORM renders it
    there and reads the number back by RETURNING); None elsewhere: call `next_number` after it."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    return func.next_order_number(*_prefix_and_day())


def next_number() -> str:
    prefix, day = _prefix_and_day()
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(select(func.next_order_number(prefix, day))).scalar_one()
    table = OrderSequence.__table__
    stmt = (sqlite.insert(table).values(prefix=prefix, day=day, last=1)
            .on_conflict_do_update(index_elements=["prefix", "day"], set_={"last": table.c.last + 1})
            .returning(table.c.last))
    last = db.session.execute(stmt).scalar_one()
    return f"{prefix}{day}-{last:04d}"
