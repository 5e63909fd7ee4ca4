"""轮派 (issue 26, item 7): grids.auto_assign (assign new orders by load, off by default) and
staff.on_duty (the worker's own 上班/下班 toggle)

Revision ID: c9e1a3b5d7f2
Revises: b3d5f7a9c1e2
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'c9e1a3b5d7f2'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grids') as batch:
        batch.add_column(sa.Column('auto_assign', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('on_duty', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('on_duty')
    with op.batch_alter_table('grids') as batch:
        batch.drop_column('auto_assign')
