"""New rows as Core `INSERT … RETURNING` instead of the unit of work, where a service knows the row
depends on nothing pending (the order's intake, its event, a notification). For a row or two the
unit of work costs more CPU than the statement: relationship bookkeeping, dependency sorting,
history. `insert_row` writes what the object holds and reads back what the database filled in (the
id, defaults, a number rendered by a SQL expression), as a flush with eager defaults would;
`insert_persistent` then makes the object persistent in the session with clean history, so a later
change of it is an UPDATE and receivers see exactly what a flush would have left."""
from sqlalchemy import inspect as sa_inspect, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ClauseElement

from .extensions import db

_INSERTS: dict = {}  # (table, given column keys) → the statement, built once per set of columns
_COLUMNS: dict = {}  # mapper → ((attribute key, column key), …)


def _columns(mapper) -> tuple:
    found = _COLUMNS.get(mapper)
    if found is None:
        found = _COLUMNS[mapper] = tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)
    return found


def insert_row(obj, connection=None) -> None:
    """One INSERT of the object's column values (the table's defaults fill the rest), on the
    session's connection, in its transaction; what the database filled in is set on the object as
    committed values."""
    state = sa_inspect(obj)
    mapper, given = state.mapper, state.dict
    table = mapper.local_table
    columns = _columns(mapper)
    values = {column: given[key] for key, column in columns if key in given}
    # Plain values go as parameters; only SQL expressions (PostgreSQL's order number) are rendered
    # into the statement. Without those, the statement is built once per set of columns.
    sql = {k: values.pop(k) for k in [k for k, v in values.items() if isinstance(v, ClauseElement)]}
    key = (table, tuple(values)) if not sql else None
    found = _INSERTS.get(key) if key else None
    if found is None:
        filled = tuple(c for c in table.c if c.key not in values)
        found = (insert(table).values(sql).returning(*filled), tuple(c.key for c in filled))
        if key:
            _INSERTS[key] = found
    statement, filled_keys = found
    # The session's own execute adds ORM work for a statement that has no ORM entity in it.
    row = (connection or db.session.connection()).execute(statement, values).one()
    by_column = dict(zip(filled_keys, row))
    for key, column in columns:
        if column in by_column:
            set_committed_value(obj, key, by_column[column])


def make_persistent(session, *objs) -> None:
    """Objects just written by `insert_row` join the session as persistent, history clean (added
    after being made detached: they were transient, or expunged from the session's new ones)."""
    for obj in objs:
        make_transient_to_detached(obj)
    for obj in objs:
        session.add(obj)
