"""amounts in fen are BIGINT: a ¥30 M budget (3×10⁹ fen) is past a 32-bit INTEGER

Revision ID: b16a0c0de002
Revises: 3a7e5c0de001
Create Date: 2026-12-03 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b16a0c0de002'
down_revision = '3a7e5c0de001'
branch_labels = None
depends_on = None

# table -> (column, nullable)
AMOUNTS = {
    'voucher_batch': [('face_value', False), ('budget', True), ('min_bill', False), ('issued_amount', False),
                      ('returned_amount', False)],
    'voucher': [('face_value', False), ('balance', False)],
    'voucher_ledger': [('amount', False), ('balance_after', False)],
    'redemption': [('bill_amount', False), ('amount', False)],
    'settlement_statement': [('redeemed_total', False), ('reversed_total', False), ('net_total', False)],
    'visit_note': [('loan_amount', True)],
}


def _alter(old, new):
    # SQLite rebuilds each table (batch "move and copy"); its named CHECK constraints are carried over
    for table, columns in AMOUNTS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable)


def upgrade():
    _alter(sa.Integer(), sa.BigInteger())


def downgrade():
    _alter(sa.BigInteger(), sa.Integer())
