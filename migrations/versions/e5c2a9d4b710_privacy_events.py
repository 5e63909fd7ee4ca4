"""privacy_events: the audit of staff reads of residents' contact numbers, exports and deletions
(个人信息保护法)

Revision ID: e5c2a9d4b710
Revises: e5f7a9c1d3b2
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa
import backend.types

revision = 'e5c2a9d4b710'
down_revision = 'e5f7a9c1d3b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'privacy_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', backend.types.UTCDateTime(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('actor_type', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_privacy_events_resident_id_residents')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_privacy_events_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_events')),
    )
    op.create_index('ix_privacy_events_resident_at', 'privacy_events', ['resident_id', 'at'])


def downgrade():
    op.drop_index('ix_privacy_events_resident_at', table_name='privacy_events')
    op.drop_table('privacy_events')
