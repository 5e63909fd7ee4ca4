"""order desk search: pg_trgm GIN indexes on the request text and place (PostgreSQL only)

Revision ID: 8b2f4c6d1e07
Revises: 7d3e5a1b9c20
Create Date: 2026-12-01 19:10:00

Trigrams serve ILIKE '%…%' on Chinese text without word segmentation. SQLite (the embedded
default) scans instead; nothing to create there.
"""
from alembic import op

revision = '8b2f4c6d1e07'
down_revision = '7d3e5a1b9c20'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_text_trgm ON orders USING gin (text gin_trgm_ops)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_orders_location_trgm ON orders USING gin (location_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_orders_location_trgm")
    op.execute("DROP INDEX IF EXISTS ix_orders_text_trgm")
