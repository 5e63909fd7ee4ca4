"""Open311 GeoReport v2: partner systems with hashed api keys, and the open311 order channel

Revision ID: 7d3e5a1b9c20
Revises: d7a3e5b1c920
Create Date: 2026-12-01 19:00:00

"""
from alembic import op
import sqlalchemy as sa
import backend.types

revision = '7d3e5a1b9c20'
down_revision = 'd7a3e5b1c920'
branch_labels = None
depends_on = None

OLD_CHANNELS = "channel IN ('wechat', 'h5', 'hotline', 'walk_in', 'photo_report')"
NEW_CHANNELS = "channel IN ('wechat', 'h5', 'hotline', 'walk_in', 'photo_report', 'open311')"


def upgrade():
    op.create_table(
        'partners',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('key_prefix', sa.String(length=8), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
        sa.UniqueConstraint('name', name=op.f('uq_partners_name')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_partners_key_hash')),
    )
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_channel'), type_='check')
        batch.create_check_constraint('channel', NEW_CHANNELS)


def downgrade():
    op.execute("UPDATE orders SET channel = 'hotline' WHERE channel = 'open311'")
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_channel'), type_='check')
        batch.create_check_constraint('channel', OLD_CHANNELS)
    op.drop_table('partners')
