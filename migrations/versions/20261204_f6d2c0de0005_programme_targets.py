"""programme targets: the plans' yearly numbers per region and measure, as data administrators edit
(seeded by `flask programme seed-targets`, which `flask seed-demo` calls)

Revision ID: f6d2c0de0005
Revises: e5a1c0de0004
Create Date: 2026-12-04 17:12:31

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6d2c0de0005'
down_revision = 'e5a1c0de0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programme_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('measure', sa.Enum('events_held', 'event_attendance', 'mentor_visits', 'station_visits', 'people_served', 'stations_in_service', 'vouchers_redeemed', 'providers_listed', 'quality_projects', 'people_supported', 'jobs_created', 'guaranteed_loans', 'specialised_firms', 'featured_businesses', 'talent_teams', 'startup_streets', 'startup_markets', 'mentor_studios', 'startup_training', 'skills_training', name='programme_measure', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('plan', sa.String(length=160), nullable=False),
    sa.Column('note', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_programme_target_value_nonnegative')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_programme_target_year_range')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_programme_target_region_code_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_target')),
    sa.UniqueConstraint('year', 'region_code', 'measure', name=op.f('uq_programme_target_year_region_code_measure'))
    )
    with op.batch_alter_table('programme_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_target_region_code'), ['region_code'], unique=False)



def downgrade():
    with op.batch_alter_table('programme_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_target_region_code'))

    op.drop_table('programme_target')
