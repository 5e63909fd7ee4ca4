"""合并工单 (issue 20): orders.merged_into_id and the merged state, and the co_reporters table

Revision ID: a7c1e3f5b920
Revises: c8e2f4a6b9d1
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.types

revision = 'a7c1e3f5b920'
down_revision = 'c8e2f4a6b9d1'
branch_labels = None
depends_on = None

OLD_STATES = ("state IN ('submitted', 'claimed', 'in_progress', 'escalated', 'resolved', 'reopened', 'rated', "
              "'closed', 'cancelled')")
NEW_STATES = ("state IN ('submitted', 'claimed', 'in_progress', 'escalated', 'resolved', 'reopened', 'rated', "
              "'closed', 'cancelled', 'merged')")
MERGED_INTO = "(merged_into_id IS NOT NULL) = (state = 'merged') AND merged_into_id <> id"


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_orders_merged_into_id_orders'), 'orders', ['merged_into_id'], ['id'])
        batch.create_index(batch.f('ix_orders_merged_into_id'), ['merged_into_id'])
        batch.drop_constraint(batch.f('ck_orders_state'), type_='check')
        batch.create_check_constraint('state', NEW_STATES)
        batch.create_check_constraint('merged_into', MERGED_INTO)
    op.create_table(
        'co_reporters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('from_order_id', sa.Integer(), nullable=True),
        sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_co_reporters_order_id_orders')),
        sa.ForeignKeyConstraint(['from_order_id'], ['orders.id'], name=op.f('fk_co_reporters_from_order_id_orders')),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_co_reporters_resident_id_residents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_co_reporters')),
        sa.UniqueConstraint('order_id', 'resident_id', name=op.f('uq_co_reporters_order_id')),
    )
    for column in ('order_id', 'resident_id', 'from_order_id'):
        op.create_index(op.f(f'ix_co_reporters_{column}'), 'co_reporters', [column])


def downgrade():
    for column in ('order_id', 'resident_id', 'from_order_id'):
        op.drop_index(op.f(f'ix_co_reporters_{column}'), table_name='co_reporters')
    op.drop_table('co_reporters')
    # A merged duplicate becomes an archived order again (its merge stays in its history).
    op.execute("UPDATE orders SET state = 'closed', closed_at = COALESCE(closed_at, updated_at) "
               "WHERE state = 'merged'")
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_merged_into'), type_='check')
        batch.drop_constraint(batch.f('ck_orders_state'), type_='check')
        batch.create_check_constraint('state', OLD_STATES)
        batch.drop_index(batch.f('ix_orders_merged_into_id'))
        batch.drop_constraint(batch.f('fk_orders_merged_into_id_orders'), type_='foreignkey')
        batch.drop_column('merged_into_id')
