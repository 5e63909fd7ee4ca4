"""order_events: a partial index on (order_id, created_at) of the takes (claim, assign), so the
figures find when each order was first taken with one small probe per order instead of reading
every event of its history; orders: a pg_trgm index on the number too, so the desk's search (text
OR place OR number) can be served by indexes alone instead of scanning the scope; and (street_id |
community_id | grid_id, created_at), each scope's orders by time, in place of the single-column
street and community indexes they begin with (bench: scale)

Revision ID: b7c9d1e3f5a7
Revises: b7d2e4f6a8c1
Create Date: 2026-12-02 00:55:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'b7c9d1e3f5a7'
down_revision = 'b7d2e4f6a8c1'
branch_labels = None
depends_on = None

TAKEN = "action IN ('claim', 'assign')"
SCOPES = ("street_id", "community_id", "grid_id")


def upgrade():
    op.create_index("ix_order_events_taken", "order_events", ["order_id", "created_at"],
                    postgresql_where=sa.text(TAKEN), sqlite_where=sa.text(TAKEN))
    for column in SCOPES:
        op.create_index(f"ix_orders_{column.removesuffix('_id')}_created", "orders", [column, "created_at"])
    op.drop_index("ix_orders_street_id", table_name="orders")
    op.drop_index("ix_orders_community_id", table_name="orders")
    if op.get_bind().dialect.name == "postgresql":  # SQLite scans; nothing to create there
        op.execute("CREATE INDEX IF NOT EXISTS ix_orders_number_trgm ON orders USING gin (number gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_orders_number_trgm")
    op.create_index("ix_orders_community_id", "orders", ["community_id"])
    op.create_index("ix_orders_street_id", "orders", ["street_id"])
    for column in reversed(SCOPES):
        op.drop_index(f"ix_orders_{column.removesuffix('_id')}_created", table_name="orders")
    op.drop_index("ix_order_events_taken", table_name="order_events")
