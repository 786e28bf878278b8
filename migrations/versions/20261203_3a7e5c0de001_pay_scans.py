"""pay codes are single-use: pay_scan (one row per consumed 付款码), redemption.scan_id (one scan, one payment)

Revision ID: 3a7e5c0de001
Revises: c7cb78ceba26
Create Date: 2026-12-03 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3a7e5c0de001'
down_revision = 'c7cb78ceba26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pay_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('code_ts', sa.BigInteger(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['personal_device.id'], name=op.f('fk_pay_scan_device_id_personal_device'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['holder_id'], ['user.id'], name=op.f('fk_pay_scan_holder_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_pay_scan_provider_id_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_pay_scan_staff_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_scan')),
    sa.UniqueConstraint('device_id', 'code_ts', name=op.f('uq_pay_scan_device_id_code_ts'))
    )
    op.create_index(op.f('ix_pay_scan_holder_id'), 'pay_scan', ['holder_id'], unique=False)
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_redemption_scan_id'), ['scan_id'])
        batch_op.create_foreign_key(batch_op.f('fk_redemption_scan_id_pay_scan'), 'pay_scan', ['scan_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_redemption_scan_id_pay_scan'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_redemption_scan_id'), type_='unique')
        batch_op.drop_column('scan_id')
    op.drop_index(op.f('ix_pay_scan_holder_id'), table_name='pay_scan')
    op.drop_table('pay_scan')
