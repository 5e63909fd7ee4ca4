"""Column types shared by the models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)

# Primary keys are 32-bit INTEGER columns on both databases. A bigger number can name no row, and
# SQLite refuses a bound parameter past 64 bits with OverflowError: bound every id at the edge.
INT32_MAX = 2**31 - 1


def get_by_id(model, ident):
    """The row of `model` with this id, or None: an id outside the column's range names nothing (and
    SQLite's driver refuses it), so it is never sent to the database."""
    from .extensions import db
    return db.session.get(model, ident) if isinstance(ident, int) and 0 < ident <= INT32_MAX else None
