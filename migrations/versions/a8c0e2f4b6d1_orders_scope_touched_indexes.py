"""orders: scope-leading indexes for the other arms of "touched since" — (street_id | community_id)
× (resolved_at | rated_at | state) — so a street's or a community's month (the dashboard, the 公示
community page) is found through its own rows at any size of the table (issue 22 item 4; bench:
scope_indexes, BENCHMARKS.md "Scope-leading indexes")

figures._touched_since reads "created, resolved or rated since the period's start, or open now"
within the actor's scope. The scope already leads (street_id, created_at) and (community_id,
created_at), but the other three arms had only table-wide indexes (ix_orders_resolved_at,
ix_orders_rated_at, ix_orders_state_grid): their bitmap OR holds the whole database's month and its
open orders, and the scope filter comes after. In a city's database (10M orders) that OR grew
tenfold and the planner left it for (community_id, created_at) with only community_id as the
condition — reading the community's whole history (1.0–1.4 s for 1,134 rows kept).

- ix_orders_{street,community}_resolved (scope, resolved_at): orders resolved in the period.
- ix_orders_{street,community}_rated (scope, rated_at): orders rated in the period.
- ix_orders_{street,community}_state (scope, state): the scope's open orders (state IN …).

With them the statement is a bitmap OR of four scope-leading scans whose size is the scope's month,
not the database's. Measured (bench/bench_scope_indexes.py, 10M orders, the statement under EXPLAIN
ANALYZE): community 181 → 10 ms, 公示 community page 130 → 4.5 ms, street 241 → 46 ms; at 1M
24 → 7.5, 18.5 → 3.7 and 32 → 17.5 ms. Cost: ≈ 116 B of index per order (+27–30 % of the
orders' indexes), a few µs of the database's work per order written; the intake's single-row
writes did not move beyond this machine's noise. A grid needs none: its scope is small, and
(state, grid_id) and (grid_id, created_at) exist.

Plain CREATE INDEX, as this project's migrations do: it holds off writes to `orders` while it builds
(the six took 7 s at 1M orders, 71 s at 10M). A deployment that must keep taking orders through
the upgrade builds them beforehand with CREATE INDEX CONCURRENTLY under the same names; this
revision then finds them (IF NOT EXISTS).

Revision ID: a8c0e2f4b6d1
Revises: f6a8b0c2d4e7
Create Date: 2026-12-08 00:20:00

"""
from alembic import op

revision = 'a8c0e2f4b6d1'
down_revision = 'f6a8b0c2d4e7'
branch_labels = None
depends_on = None

SCOPES = ("street", "community")
ARMS = (("resolved", "resolved_at"), ("rated", "rated_at"), ("state", "state"))


def upgrade():
    for scope in SCOPES:
        for name, column in ARMS:
            op.create_index(f"ix_orders_{scope}_{name}", "orders", [f"{scope}_id", column], if_not_exists=True)


def downgrade():
    for scope in reversed(SCOPES):
        for name, _ in reversed(ARMS):
            op.drop_index(f"ix_orders_{scope}_{name}", table_name="orders")
