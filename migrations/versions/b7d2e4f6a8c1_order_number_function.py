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

# VOLATILE (the default): each statement inside sees rows committed since the INSERT began, so
# the day's row written by a concurrent first order is found once ON CONFLICT has waited for it.
# A number never loses digits: lpad would cut a day's 10,000th to four characters.
FUNCTION = """
CREATE OR REPLACE FUNCTION next_order_number(p_prefix text, p_day text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v bigint := nextval('order_number_seq');
  base bigint;
  n text;
BEGIN
  INSERT INTO order_sequences (prefix, day, last) VALUES (p_prefix, p_day, v - 1)
    ON CONFLICT (prefix, day) DO NOTHING;
  SELECT last INTO base FROM order_sequences WHERE prefix = p_prefix AND day = p_day;
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
