"""Property companies (物业) bound to compounds, their staff, and the property rung of orders
(小区吹哨、物业报到)

Revision ID: f3b8c1d5e7a2
Revises: f1a3c5e7b9d2
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'f3b8c1d5e7a2'
down_revision = 'f1a3c5e7b9d2'
branch_labels = None
depends_on = None

OLD_RUNGS = "rung IN ('grid_worker', 'grid_leader', 'community', 'street', 'department')"
NEW_RUNGS = "rung IN ('grid_worker', 'grid_leader', 'community', 'street', 'department', 'property')"


def upgrade():
    op.create_table(
        'property_companies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_property_companies')),
        sa.UniqueConstraint('name', name=op.f('uq_property_companies_name')),
    )
    op.create_table(
        'property_compounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('property_company_id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('compound', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
                                name=op.f('fk_property_compounds_community_id_communities')),
        sa.ForeignKeyConstraint(['property_company_id'], ['property_companies.id'],
                                name=op.f('fk_property_compounds_property_company_id_property_companies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_property_compounds')),
        sa.UniqueConstraint('community_id', 'compound', name=op.f('uq_property_compounds_community_id')),
    )
    op.create_index(op.f('ix_property_compounds_property_company_id'), 'property_compounds',
                    ['property_company_id'])
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('property_company_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_staff_property_company_id_property_companies'),
                                 'property_companies', ['property_company_id'], ['id'])
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('property_company_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_orders_property_company_id_property_companies'),
                                 'property_companies', ['property_company_id'], ['id'])
        batch.create_index(batch.f('ix_orders_property_company_id'), ['property_company_id'])
        batch.drop_constraint(batch.f('ck_orders_rung'), type_='check')
        batch.create_check_constraint('rung', NEW_RUNGS)
        batch.create_check_constraint('property_rung', "rung <> 'property' OR property_company_id IS NOT NULL")


def downgrade():
    op.execute("UPDATE orders SET rung = 'community' WHERE rung = 'property'")
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint(batch.f('ck_orders_property_rung'), type_='check')
        batch.drop_constraint(batch.f('ck_orders_rung'), type_='check')
        batch.create_check_constraint('rung', OLD_RUNGS)
        batch.drop_index(batch.f('ix_orders_property_company_id'))
        batch.drop_constraint(batch.f('fk_orders_property_company_id_property_companies'), type_='foreignkey')
        batch.drop_column('property_company_id')
    with op.batch_alter_table('staff') as batch:
        batch.drop_constraint(batch.f('fk_staff_property_company_id_property_companies'), type_='foreignkey')
        batch.drop_column('property_company_id')
    op.drop_index(op.f('ix_property_compounds_property_company_id'), table_name='property_compounds')
    op.drop_table('property_compounds')
    op.drop_table('property_companies')
