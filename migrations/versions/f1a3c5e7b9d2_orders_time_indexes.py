"""orders: indexes on created_at, resolved_at and rated_at, so "touched since" (the dashboard and the
public figures) reads the period's orders through a bitmap OR instead of every order in scope, and
stays as fast with three years of history behind it as with three months (bench: scale)

Revision ID: f1a3c5e7b9d2
Revises: 6e53515b2d97
Create Date: 2026-12-01 21:20:00

"""
from alembic import op

revision = 'f1a3c5e7b9d2'
down_revision = '6e53515b2d97'
branch_labels = None
depends_on = None

COLUMNS = ("created_at", "resolved_at", "rated_at")


def upgrade():
    for column in COLUMNS:
        op.create_index(f"ix_orders_{column}", "orders", [column])


def downgrade():
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_orders_{column}", table_name="orders")
