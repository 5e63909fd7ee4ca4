"""微心愿 and 双报到: wishes and their events, partner units, registered members, 三清单, volunteers' hours

Revision ID: 1a4fe027151e
Revises: f3b8c1d5e7a2
Create Date: 2026-12-01 21:07:28.139516

"""
from alembic import op
import sqlalchemy as sa
import backend.types


revision = '1a4fe027151e'
down_revision = 'f3b8c1d5e7a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('join_code', sa.String(length=32), nullable=False),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_partner_units_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_units')),
    sa.UniqueConstraint('join_code', name=op.f('uq_partner_units_join_code'))
    )
    with op.batch_alter_table('partner_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_units_community_id'), ['community_id'], unique=False)

    op.create_table('wish_list_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('claimed_by_unit_id', sa.Integer(), nullable=True),
    sa.Column('claimed_by_community', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind <> 'need' OR unit_id IS NULL", name=op.f('ck_wish_list_items_need_is_community')),
    sa.CheckConstraint("kind <> 'resource' OR unit_id IS NOT NULL", name=op.f('ck_wish_list_items_resource_is_unit')),
    sa.CheckConstraint("kind IN ('need', 'resource', 'project')", name=op.f('ck_wish_list_items_kind')),
    sa.CheckConstraint('(claimed_at IS NOT NULL) = (claimed_by_unit_id IS NOT NULL OR claimed_by_community)', name=op.f('ck_wish_list_items_claimed_at')),
    sa.CheckConstraint('NOT (claimed_by_unit_id IS NOT NULL AND claimed_by_community)', name=op.f('ck_wish_list_items_one_claimer')),
    sa.ForeignKeyConstraint(['claimed_by_unit_id'], ['partner_units.id'], name=op.f('fk_wish_list_items_claimed_by_unit_id_partner_units')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_wish_list_items_community_id_communities')),
    sa.ForeignKeyConstraint(['unit_id'], ['partner_units.id'], name=op.f('fk_wish_list_items_unit_id_partner_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wish_list_items'))
    )
    with op.batch_alter_table('wish_list_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wish_list_items_community_id'), ['community_id'], unique=False)

    op.create_table('wish_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('workplace', sa.String(length=80), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('hours_available', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'unit_contact') = (unit_id IS NOT NULL)", name=op.f('ck_wish_members_unit_contact')),
    sa.CheckConstraint("kind IN ('party_member', 'volunteer', 'unit_contact')", name=op.f('ck_wish_members_kind')),
    sa.CheckConstraint('hours_available >= 0 AND hours_available <= 168', name=op.f('ck_wish_members_hours_available')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_wish_members_community_id_communities')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_wish_members_resident_id_residents')),
    sa.ForeignKeyConstraint(['unit_id'], ['partner_units.id'], name=op.f('fk_wish_members_unit_id_partner_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wish_members'))
    )
    with op.batch_alter_table('wish_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wish_members_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wish_members_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('uq_wish_members_resident_community', ['resident_id', 'community_id'], unique=True)

    op.create_table('wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('beneficiary', sa.String(length=80), nullable=True),
    sa.Column('wanted_by', sa.Date(), nullable=True),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('claimant_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('claim_due_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('evidence_photos', sa.JSON(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=True),
    sa.Column('published_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('offered_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('fulfilled_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('confirmed_at', backend.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', backend.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(claim_due_at IS NOT NULL) = (state = 'claimed')", name=op.f('ck_wishes_claim_due')),
    sa.CheckConstraint("(claimant_id IS NOT NULL) = (state IN ('claimed', 'fulfilled', 'confirmed'))", name=op.f('ck_wishes_claimant_held')),
    sa.CheckConstraint("NOT state IN ('fulfilled', 'confirmed') OR evidence IS NOT NULL", name=op.f('ck_wishes_fulfilled_evidence')),
    sa.CheckConstraint("state <> 'rejected' OR reason IS NOT NULL", name=op.f('ck_wishes_rejected_reason')),
    sa.CheckConstraint("state IN ('submitted', 'published', 'claimed', 'fulfilled', 'confirmed', 'rejected', 'withdrawn', 'expired')", name=op.f('ck_wishes_state')),
    sa.CheckConstraint('hours IS NULL OR (hours > 0 AND hours <= 100)', name=op.f('ck_wishes_hours')),
    sa.ForeignKeyConstraint(['claimant_id'], ['wish_members.id'], name=op.f('fk_wishes_claimant_id_wish_members')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_wishes_community_id_communities')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_wishes_resident_id_residents')),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_wishes_street_id_streets')),
    sa.ForeignKeyConstraint(['unit_id'], ['partner_units.id'], name=op.f('fk_wishes_unit_id_partner_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wishes'))
    )
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wishes_claimant_id'), ['claimant_id'], unique=False)
        batch_op.create_index('ix_wishes_community_state', ['community_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_wishes_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wishes_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_wishes_street_id'), ['street_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wishes_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('uq_wishes_idempotency_key', ['idempotency_key'], unique=True)

    op.create_table('volunteer_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('wish_id', sa.Integer(), nullable=True),
    sa.Column('task', sa.String(length=200), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('recorded_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('hours > 0 AND hours <= 24', name=op.f('ck_volunteer_hours_hours')),
    sa.CheckConstraint('wish_id IS NOT NULL OR task IS NOT NULL', name=op.f('ck_volunteer_hours_what')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_volunteer_hours_community_id_communities')),
    sa.ForeignKeyConstraint(['member_id'], ['wish_members.id'], name=op.f('fk_volunteer_hours_member_id_wish_members')),
    sa.ForeignKeyConstraint(['wish_id'], ['wishes.id'], name=op.f('fk_volunteer_hours_wish_id_wishes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_hours'))
    )
    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_hours_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteer_hours_member_id'), ['member_id'], unique=False)
        batch_op.create_index('uq_volunteer_hours_wish_member', ['wish_id', 'member_id'], unique=True, sqlite_where=sa.text('wish_id IS NOT NULL'), postgresql_where=sa.text('wish_id IS NOT NULL'))

    op.create_table('wish_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wish_id', sa.Integer(), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', backend.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['wish_members.id'], name=op.f('fk_wish_events_member_id_wish_members')),
    sa.ForeignKeyConstraint(['wish_id'], ['wishes.id'], name=op.f('fk_wish_events_wish_id_wishes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wish_events'))
    )
    with op.batch_alter_table('wish_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wish_events_wish_id'), ['wish_id'], unique=False)



def downgrade():
    with op.batch_alter_table('wish_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wish_events_wish_id'))

    op.drop_table('wish_events')
    with op.batch_alter_table('volunteer_hours', schema=None) as batch_op:
        batch_op.drop_index('uq_volunteer_hours_wish_member', sqlite_where=sa.text('wish_id IS NOT NULL'), postgresql_where=sa.text('wish_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_volunteer_hours_member_id'))
        batch_op.drop_index(batch_op.f('ix_volunteer_hours_community_id'))

    op.drop_table('volunteer_hours')
    with op.batch_alter_table('wishes', schema=None) as batch_op:
        batch_op.drop_index('uq_wishes_idempotency_key')
        batch_op.drop_index(batch_op.f('ix_wishes_unit_id'))
        batch_op.drop_index(batch_op.f('ix_wishes_street_id'))
        batch_op.drop_index(batch_op.f('ix_wishes_state'))
        batch_op.drop_index(batch_op.f('ix_wishes_resident_id'))
        batch_op.drop_index('ix_wishes_community_state')
        batch_op.drop_index(batch_op.f('ix_wishes_claimant_id'))

    op.drop_table('wishes')
    with op.batch_alter_table('wish_members', schema=None) as batch_op:
        batch_op.drop_index('uq_wish_members_resident_community')
        batch_op.drop_index(batch_op.f('ix_wish_members_unit_id'))
        batch_op.drop_index(batch_op.f('ix_wish_members_community_id'))

    op.drop_table('wish_members')
    with op.batch_alter_table('wish_list_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wish_list_items_community_id'))

    op.drop_table('wish_list_items')
    with op.batch_alter_table('partner_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_units_community_id'))

    op.drop_table('partner_units')
