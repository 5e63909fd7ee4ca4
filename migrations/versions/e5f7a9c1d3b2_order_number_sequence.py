"""order numbers on PostgreSQL from a sequence: the per-day counter row was a lock every submission
queued behind until its commit, so intake ran one order at a time

From here on, on PostgreSQL, order_sequences.last holds the sequence's value just before the day's
first number (a day's n-th number is nextval − last); existing rows are rewritten so that the
numbers of a day already begun go on after its last one (the sequence starts at 1). SQLite keeps
the counter: it has no sequences and serialises writers anyway.

Revision ID: e5f7a9c1d3b2
Revises: a4e6c8f0b2d1
Create Date: 2026-12-01 19:30:00

"""
from alembic import op

revision = 'e5f7a9c1d3b2'
down_revision = 'a4e6c8f0b2d1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE SEQUENCE order_number_seq AS integer START 1")
    op.execute("UPDATE order_sequences SET last = -last")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    # Back to "the last number given": an upper bound of it, so no number is ever given twice.
    op.execute("UPDATE order_sequences SET last = (SELECT last_value FROM order_number_seq) - last")
    op.execute("DROP SEQUENCE order_number_seq")
