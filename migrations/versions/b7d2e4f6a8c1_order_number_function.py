"""order numbers on PostgreSQL given inside the order's INSERT: next_order_number(prefix, day) does
what numbers.py did in a statement of its own (nextval, the day's first row, the subtraction), so a
new order is one INSERT instead of an INSERT, a numbering statement and an UPDATE of the number

Revision ID: b7d2e4f6a8c1
Revises: 1a4fe027151e
Create Date: 2026-12-02 01:00:00

"""
from alembic import op

revision = 'b7d2e4f6a8c1'
down_revision = '1a4fe027151e'
branch_labels = None
depends_on = None

# VOLATILE (the default): each statement inside sees rows committed before it began. The day's row
# holds the sequence value just before the day's first number; a value taken after that row was
# committed is above it, so the fast path (the row is there) takes no lock. The day's first orders
# take a transaction-level advisory lock for the day instead: the first writes the row and the
# others, once it has committed, find it and number after it — taking their values only then, so a
# day's numbers run 1, 2, 3 … even when its first fifty arrive at once. A number never loses digits:
# lpad would cut a day's 10,000th to four characters.
FUNCTION = """
CREATE OR REPLACE FUNCTION next_order_number(p_prefix text, p_day text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
  base bigint;
  n text;
BEGIN
  SELECT last INTO base FROM order_sequences WHERE prefix = p_prefix AND day = p_day;
  IF base IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext('order_number:' || p_prefix || p_day));
    SELECT last INTO base FROM order_sequences WHERE prefix = p_prefix AND day = p_day;
    IF base IS NULL THEN
      v := nextval('order_number_seq');
      base := v - 1;
      INSERT INTO order_sequences (prefix, day, last) VALUES (p_prefix, p_day, base);
    END IF;
  END IF;
  IF v IS NULL THEN
    v := nextval('order_number_seq');
  END IF;
  n := (v - base)::text;
  RETURN p_prefix || p_day || '-' || CASE WHEN length(n) < 4 THEN lpad(n, 4, '0') ELSE n END;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP FUNCTION next_order_number(text, text)")
