"""电话回访 and 常用语 (issue 20): orders.rating_source (whose rating: the resident's or a callback's)
and the canned_replies table

Revision ID: b3d5f7a9c1e2
Revises: a7c1e3f5b920
Create Date: 2026-12-07 15:05:00

"""
from alembic import op
import sqlalchemy as sa

import backend.types

revision = 'b3d5f7a9c1e2'
down_revision = 'a7c1e3f5b920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('rating_source', sa.String(length=10), nullable=True))
        batch.create_check_constraint('rating_source', "rating_source IS NULL OR rating_source IN ('resident', 'callback')")
    # Every rating so far was the resident's own.
    op.execute("UPDATE orders SET rating_source = 'resident' WHERE satisfaction IS NOT NULL")
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
                                name=op.f('fk_canned_replies_community_id_communities')),
        sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_canned_replies_created_by_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
        sa.UniqueConstraint('community_id', 'title', name=op.f('uq_canned_replies_community_id')),
    )
    op.create_index(op.f('ix_canned_replies_community_id'), 'canned_replies', ['community_id'])


def downgrade():
    op.drop_index(op.f('ix_canned_replies_community_id'), table_name='canned_replies')
    op.drop_table('canned_replies')
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_rating_source'), type_='check')
        batch.drop_column('rating_source')
