"""the region tree (GB/T 2260) as a table; places, providers and profiles point into it; role grants
can be bound to a region (administrators) or a provider (provider staff)

Revision ID: e5a1c0de0004
Revises: d4e1c0de0003
Create Date: 2026-12-04 17:30:00

Existing administrator grants become province grants (370000: they saw everything before and still
do). Every district code already stored must be in the tree; the migration stops with the rows it
cannot place rather than failing halfway on a foreign key.
"""
from alembic import op
import sqlalchemy as sa

from backend.core.regions import PROVINCE, seed_rows

revision = 'e5a1c0de0004'
down_revision = 'd4e1c0de0003'
branch_labels = None
depends_on = None

POINTING = [('place', 'district'), ('provider', 'district'), ('entrepreneur_profile', 'district')]


def upgrade():
    region = op.create_table(
        'region',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('parent_code', sa.String(length=6), nullable=True),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['parent_code'], ['region.code'], name=op.f('fk_region_parent_code_region'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_region')),
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)
    op.bulk_insert(region, seed_rows())

    conn = op.get_bind()
    codes = {row['code'] for row in seed_rows()}
    for table, column in POINTING + [('voucher_batch', 'district')]:
        stray = conn.execute(sa.text(f'SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL')).scalars()
        unknown = sorted(set(stray) - codes)
        if unknown:
            raise RuntimeError(f'{table}.{column} holds codes outside the region tree: {unknown}')

    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_role_grant_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grant_provider_id'), ['provider_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_role_grant_region_code_region'), 'region', ['region_code'],
                                    ['code'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_role_grant_provider_id_provider'), 'provider', ['provider_id'],
                                    ['id'], ondelete='CASCADE')
    op.execute(sa.text("UPDATE role_grant SET region_code = :code WHERE role = 'admin'").bindparams(code=PROVINCE))

    for table, column in POINTING:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_{column}_region'), 'region', [column], ['code'],
                                        ondelete='RESTRICT')


def downgrade():
    for table, column in POINTING:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_{column}_region'), type_='foreignkey')
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_role_grant_provider_id_provider'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_role_grant_region_code_region'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_role_grant_provider_id'))
        batch_op.drop_index(batch_op.f('ix_role_grant_region_code'))
        batch_op.drop_column('provider_id')
        batch_op.drop_column('region_code')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))
    op.drop_table('region')
