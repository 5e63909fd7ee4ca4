"""order kind 求助 (help): the kinds an order's text is classified into (backend/kinds)

Revision ID: c2e4a6b8d0f1
Revises: b7c9d1e3f5a7
Create Date: 2026-12-07 14:10:00

"""
from alembic import op

revision = 'c2e4a6b8d0f1'
down_revision = 'b7c9d1e3f5a7'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('complaint', 'repair', 'suggestion', 'consultation', 'wish', 'dispute')"
NEW_KINDS = "kind IN ('complaint', 'repair', 'suggestion', 'consultation', 'wish', 'dispute', 'help')"


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_kind'), type_='check')
        batch.create_check_constraint('kind', NEW_KINDS)


def downgrade():
    # 求助 orders become consultations (the nearest kind that existed before)
    op.execute("UPDATE orders SET kind = 'consultation' WHERE kind = 'help'")
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_kind'), type_='check')
        batch.create_check_constraint('kind', OLD_KINDS)
