"""order channel miniprogram: what residents send from the mini-program's own pages (its chat,
随手拍 and 附议), apart from WeChat's customer-service chat (wechat) and the H5 pages (h5)

Revision ID: f6a8b0c2d4e7
Revises: e2b4d6f8a1c3
Create Date: 2026-12-07 18:00:00

"""
from alembic import op

revision = 'f6a8b0c2d4e7'
down_revision = 'e2b4d6f8a1c3'
branch_labels = None
depends_on = None

OLD_CHANNELS = ("channel IN ('wechat', 'h5', 'hotline', 'walk_in', 'photo_report', 'open311', 'patrol', "
                "'letter', 'visit')")
NEW_CHANNELS = ("channel IN ('wechat', 'miniprogram', 'h5', 'hotline', 'walk_in', 'photo_report', 'open311', "
                "'patrol', 'letter', 'visit')")


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_channel'), type_='check')
        batch.create_check_constraint('channel', NEW_CHANNELS)


def downgrade():
    # Before this revision the mini-program's orders were stored as wechat.
    op.execute("UPDATE orders SET channel = 'wechat' WHERE channel = 'miniprogram'")
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_channel'), type_='check')
        batch.create_check_constraint('channel', OLD_CHANNELS)
