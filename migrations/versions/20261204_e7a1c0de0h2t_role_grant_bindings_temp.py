"""TEMPORARY (helper h-people): role grants bound to a provider or a region. The lead's regions
migration adds the same two columns; when it lands on main this file is deleted in the merge.

Revision ID: e7a1c0de0h2t
Revises: d4e1c0de0003
Create Date: 2026-12-04 17:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1c0de0h2t'
down_revision = 'd4e1c0de0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('region_code', sa.String(length=12), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_role_grant_provider_id_provider'), 'provider', ['provider_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_role_grant_provider_id'), ['provider_id'], unique=False)


def downgrade():
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_provider_id'))
        batch_op.drop_constraint(batch_op.f('fk_role_grant_provider_id_provider'), type_='foreignkey')
        batch_op.drop_column('region_code')
        batch_op.drop_column('provider_id')
