"""轮派 (issue 26, item 7): the community's rule (communities.auto_assign; a grid's own rule becomes
nullable, None = as its community), the roster (duty_roster), the day of a worker's own toggle
(staff.duty_set_on), the audit of them all (duty_events); and a community's own 危险词 and
emergency numbers (communities.emergency, issue 24 item 6)

Revision ID: d4f6a8c0e2b1
Revises: d4a6c8e0f2b4
Create Date: 2026-12-07 17:00:00

"""
from alembic import op
import sqlalchemy as sa

from backend.types import UTCDateTime

revision = 'd4f6a8c0e2b1'
down_revision = 'd4a6c8e0f2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communities') as batch:
        batch.add_column(sa.Column('auto_assign', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('emergency', sa.JSON(), nullable=True))
    with op.batch_alter_table('grids') as batch:
        batch.alter_column('auto_assign', existing_type=sa.Boolean(), nullable=True, server_default=None)
    # A grid that was off said nothing more than the default: it now follows its community (off too).
    op.execute("UPDATE grids SET auto_assign = NULL WHERE auto_assign = false")
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('duty_set_on', sa.Date(), nullable=True))
    op.create_table(
        'duty_roster',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('staff_id', sa.Integer(), sa.ForeignKey('staff.id'), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=True),
        sa.Column('on_date', sa.Date(), nullable=True),
        sa.Column('on_duty', sa.Boolean(), nullable=False),
        sa.CheckConstraint('(weekday IS NULL) <> (on_date IS NULL)', name='ck_duty_roster_one_day'),
        sa.CheckConstraint('weekday IS NULL OR (weekday >= 0 AND weekday <= 6)', name='ck_duty_roster_weekday'),
        sa.UniqueConstraint('staff_id', 'weekday', name='uq_duty_roster_weekday'),
        sa.UniqueConstraint('staff_id', 'on_date', name='uq_duty_roster_date'),
    )
    op.create_index('ix_duty_roster_staff_id', 'duty_roster', ['staff_id'])
    op.create_table(
        'duty_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('action', sa.String(20), nullable=False),
        sa.Column('actor_type', sa.String(20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('staff_id', sa.Integer(), sa.ForeignKey('staff.id'), nullable=True),
        sa.Column('grid_id', sa.Integer(), sa.ForeignKey('grids.id'), nullable=True),
        sa.Column('community_id', sa.Integer(), sa.ForeignKey('communities.id'), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
    )
    op.create_index('ix_duty_events_grid_at', 'duty_events', ['grid_id', 'at'])


def downgrade():
    op.drop_index('ix_duty_events_grid_at', table_name='duty_events')
    op.drop_table('duty_events')
    op.drop_index('ix_duty_roster_staff_id', table_name='duty_roster')
    op.drop_table('duty_roster')
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('duty_set_on')
    op.execute("UPDATE grids SET auto_assign = false WHERE auto_assign IS NULL")
    with op.batch_alter_table('grids') as batch:
        batch.alter_column('auto_assign', existing_type=sa.Boolean(), nullable=False, server_default=sa.false())
    with op.batch_alter_table('communities') as batch:
        batch.drop_column('emergency')
        batch.drop_column('auto_assign')
