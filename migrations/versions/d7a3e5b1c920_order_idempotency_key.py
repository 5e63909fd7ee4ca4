"""orders.idempotency_key: the key every way in carries or derives, unique, so a retried intake
returns the first order instead of making a second

Revision ID: d7a3e5b1c920
Revises: c4f1a7d2e9b3
Create Date: 2026-12-01 19:00:00

A unique index rather than a constraint: SQLite cannot add a constraint to an existing table
without rebuilding it, and both databases let any number of rows leave the column NULL.
"""
from alembic import op
import sqlalchemy as sa


revision = 'd7a3e5b1c920'
down_revision = 'c4f1a7d2e9b3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('orders', sa.Column('idempotency_key', sa.String(length=200), nullable=True))
    op.create_index('uq_orders_idempotency_key', 'orders', ['idempotency_key'], unique=True)


def downgrade():
    op.drop_index('uq_orders_idempotency_key', table_name='orders')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('idempotency_key')
