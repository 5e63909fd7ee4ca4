"""考核 (issue 26, items 3 and 5): an index on orders.updated_at, so the month's assessment finds the
orders touched in a month (every event sets updated_at) without reading the scope's whole history
before it (bench: scale, assessment rows)

Revision ID: d4a6c8e0f2b4
Revises: c9e1a3b5d7f2
Create Date: 2026-12-07 17:00:00

"""
from alembic import op

revision = 'd4a6c8e0f2b4'
down_revision = 'c9e1a3b5d7f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_orders_updated_at', 'orders', ['updated_at'])


def downgrade():
    op.drop_index('ix_orders_updated_at', table_name='orders')
