"""知识库 (issue 23): knowledge_entries (district / street / community answers, valid dates, audit
columns), knowledge_events (the audit trail) and knowledge_questions (what residents asked and what
the bot did); the district's seed — the bot's 29 former FAQ answers — inserted here.

Revision ID: e2b4d6f8a1c3
Revises: d4f6a8c0e2b1
Create Date: 2026-12-07 17:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.types

revision = 'e2b4d6f8a1c3'
down_revision = 'd4f6a8c0e2b1'
branch_labels = None
depends_on = None


def upgrade():
    from datetime import datetime, timezone
    entries = op.create_table(
        'knowledge_entries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('scope', sa.String(20), nullable=False),
        sa.Column('street_id', sa.Integer(), sa.ForeignKey('streets.id')),
        sa.Column('community_id', sa.Integer(), sa.ForeignKey('communities.id')),
        sa.Column('question', sa.String(200), nullable=False),
        sa.Column('variants', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('link', sa.String(300)),
        sa.Column('phone', sa.String(40)),
        sa.Column('place', sa.String(200)),
        sa.Column('category', sa.String(40)),
        sa.Column('valid_from', sa.Date()),
        sa.Column('valid_until', sa.Date()),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('seed_key', sa.String(60), unique=True),
        sa.Column('source_order_id', sa.Integer(), sa.ForeignKey('orders.id')),
        sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
        sa.Column('updated_at', backend.types.UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.Integer(), sa.ForeignKey('staff.id')),
        sa.CheckConstraint("scope IN ('district', 'street', 'community')", name='ck_knowledge_entries_scope'),
        sa.CheckConstraint("(scope = 'district' AND street_id IS NULL AND community_id IS NULL)"
                           " OR (scope = 'street' AND street_id IS NOT NULL AND community_id IS NULL)"
                           " OR (scope = 'community' AND community_id IS NOT NULL)",
                           name='ck_knowledge_entries_scope_ids'),
    )
    op.create_index('ix_knowledge_entries_scope', 'knowledge_entries', ['scope', 'street_id', 'community_id'])
    op.create_table(
        'knowledge_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('entry_id', sa.Integer(), sa.ForeignKey('knowledge_entries.id'), nullable=False),
        sa.Column('action', sa.String(20), nullable=False),
        sa.Column('actor_id', sa.Integer(), sa.ForeignKey('staff.id')),
        sa.Column('at', backend.types.UTCDateTime(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
    )
    op.create_index('ix_knowledge_events_entry_id', 'knowledge_events', ['entry_id'])
    op.create_table(
        'knowledge_questions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('text', sa.String(500), nullable=False),
        sa.Column('community_id', sa.Integer(), sa.ForeignKey('communities.id')),
        sa.Column('street_id', sa.Integer(), sa.ForeignKey('streets.id')),
        sa.Column('outcome', sa.String(10), nullable=False),
        sa.Column('entry_id', sa.Integer(), sa.ForeignKey('knowledge_entries.id')),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('asked_at', backend.types.UTCDateTime(), nullable=False),
        sa.Column('resolved_entry_id', sa.Integer(), sa.ForeignKey('knowledge_entries.id')),
        sa.CheckConstraint("outcome IN ('answered', 'offered', 'declined')", name='ck_knowledge_questions_outcome'),
    )
    op.create_index('ix_knowledge_questions_community_id', 'knowledge_questions', ['community_id'])
    op.create_index('ix_knowledge_questions_outcome_at', 'knowledge_questions', ['outcome', 'asked_at'])

    from backend.knowledge.seeds import seed_rows
    now = datetime.now(timezone.utc)
    op.bulk_insert(entries, [{**row, 'scope': 'district', 'active': True, 'created_at': now, 'updated_at': now}
                             for row in seed_rows()])


def downgrade():
    op.drop_table('knowledge_questions')
    op.drop_table('knowledge_events')
    op.drop_index('ix_knowledge_entries_scope', table_name='knowledge_entries')
    op.drop_table('knowledge_entries')
