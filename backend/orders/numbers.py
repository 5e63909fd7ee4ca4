"""Human-readable order numbers, unique under concurrency: HX20261122-0007.

The per-day counter is bumped with one atomic upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING),
inside the caller's transaction, so two concurrent submissions can never read the same value."""
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..extensions import db
from .models import OrderSequence


def next_number() -> str:
    prefix = current_app.config["ORDER_NUMBER_PREFIX"]
    day = clock.local(clock.now(), current_app.config["TIMEZONE"]).strftime("%Y%m%d")
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    table = OrderSequence.__table__
    stmt = (insert(table).values(prefix=prefix, day=day, last=1)
            .on_conflict_do_update(index_elements=["prefix", "day"], set_={"last": table.c.last + 1})
            .returning(table.c.last))
    last = db.session.execute(stmt).scalar_one()
    return f"{prefix}{day}-{last:04d}"
