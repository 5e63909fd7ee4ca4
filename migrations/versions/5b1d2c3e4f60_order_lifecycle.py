"""order lifecycle: due_at, street_id, the 12345 rating scale, archiving, and the database checks

Revision ID: 5b1d2c3e4f60
Revises: 402e7597a03b
Create Date: 2026-11-24 11:40:00

"""
from alembic import op
import sqlalchemy as sa
import backend.types

revision = '5b1d2c3e4f60'
down_revision = '402e7597a03b'
branch_labels = None
depends_on = None

OPEN = "('submitted', 'claimed', 'in_progress', 'escalated', 'reopened')"
UNCLAIMED = "('submitted', 'escalated', 'reopened')"
CHECKS = {
    "state": "state IN ('submitted', 'claimed', 'in_progress', 'escalated', 'resolved', 'reopened', 'rated', 'closed', 'cancelled')",
    "rung": "rung IN ('grid_worker', 'grid_leader', 'community', 'street', 'department')",
    "grade": "grade IN ('urgent', 'normal')",
    "channel": "channel IN ('wechat', 'h5', 'hotline', 'walk_in', 'photo_report')",
    "kind": "kind IN ('complaint', 'repair', 'suggestion', 'consultation', 'wish', 'dispute')",
    "assignee_claimed": "(assignee_id IS NOT NULL) = (state IN ('claimed', 'in_progress'))",
    "due_open": f"(due_at IS NOT NULL) = (state IN {OPEN})",
    "satisfaction": "satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')",
    "rated_satisfied": "state <> 'rated' OR satisfaction IN ('satisfied', 'basically_satisfied')",
    "resolved_result": "NOT state IN ('resolved', 'rated') OR (result IS NOT NULL AND resolved_at IS NOT NULL)",
    "department_rung": "rung <> 'department' OR department_id IS NOT NULL",
    "reopen_count": "reopen_count >= 0",
}


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('street_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('resolver_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('due_at', backend.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('satisfaction', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('rated_at', backend.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('closed_at', backend.types.UTCDateTime(), nullable=True))
        batch.create_index(batch.f('ix_orders_street_id'), ['street_id'], unique=False)
        batch.create_index(batch.f('ix_orders_due_at'), ['due_at'], unique=False)
        batch.create_foreign_key(batch.f('fk_orders_street_id_streets'), 'streets', ['street_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_orders_resolver_id_staff'), 'staff', ['resolver_id'], ['id'])

    # Existing orders: the street of their community; who resolved them; the deadline that
    # matters now (what the old SQL due expression computed); the old 1–5 scores on the new scale.
    op.execute("UPDATE orders SET street_id = (SELECT street_id FROM communities WHERE communities.id = orders.community_id)")
    op.execute("UPDATE orders SET resolver_id = assignee_id WHERE state NOT IN ('claimed', 'in_progress')")
    op.execute("UPDATE orders SET assignee_id = NULL WHERE state NOT IN ('claimed', 'in_progress')")
    op.execute(f"""UPDATE orders SET due_at = CASE
        WHEN state IN {UNCLAIMED} AND rung = 'department' AND ack_by IS NOT NULL THEN ack_by
        WHEN state IN {UNCLAIMED} THEN claim_by
        WHEN state IN ('claimed', 'in_progress') THEN resolve_by END""")
    op.execute("UPDATE orders SET satisfaction = CASE WHEN rating_score >= 4 THEN 'satisfied' ELSE 'unsatisfied' END "
               "WHERE rating_score IS NOT NULL")
    op.execute("UPDATE orders SET rated_at = updated_at WHERE state = 'rated'")
    op.execute("UPDATE orders SET closed_at = updated_at WHERE state = 'closed'")

    with op.batch_alter_table('orders') as batch:
        for name, sql in CHECKS.items():
            batch.create_check_constraint(name, sql)
    op.create_index('uq_order_events_submit', 'order_events', ['order_id'], unique=True,
                    sqlite_where=sa.text("action = 'submit'"), postgresql_where=sa.text("action = 'submit'"))


def downgrade():
    op.drop_index('uq_order_events_submit', table_name='order_events')
    with op.batch_alter_table('orders') as batch:
        for name in CHECKS:
            batch.drop_constraint(batch.f(f'ck_orders_{name}'), type_='check')
        batch.drop_constraint(batch.f('fk_orders_resolver_id_staff'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_orders_street_id_streets'), type_='foreignkey')
        batch.drop_index(batch.f('ix_orders_due_at'))
        batch.drop_index(batch.f('ix_orders_street_id'))
        for column in ('closed_at', 'rated_at', 'satisfaction', 'due_at', 'resolver_id', 'street_id'):
            batch.drop_column(column)
