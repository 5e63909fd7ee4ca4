"""orders.caller_name: who called the hotline or came in (staff-entered orders)

Revision ID: a4e6c8f0b2d1
Revises: 8b2f4c6d1e07
Create Date: 2026-12-01 19:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'a4e6c8f0b2d1'
down_revision = '8b2f4c6d1e07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('caller_name', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('caller_name')
