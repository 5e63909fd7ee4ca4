"""staff and residents: session_version, carried by every token and session cookie issued to the
account and bumped by logout, password reset and (de)activation: what was issued before no longer
works (issue 27, finding 4)

Revision ID: c8e2f4a6b9d1
Revises: c2e4a6b8d0f1
Create Date: 2026-12-07 14:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'c8e2f4a6b9d1'
down_revision = 'c2e4a6b8d0f1'
branch_labels = None
depends_on = None


def upgrade():
    for table in ("staff", "residents"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    for table in ("staff", "residents"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("session_version")
