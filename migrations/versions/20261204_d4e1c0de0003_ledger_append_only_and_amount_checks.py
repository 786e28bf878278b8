"""the database keeps the voucher promises itself: the ledger refuses UPDATE and DELETE (a trigger, as
audit_log has; the redemption hot path writes with plain statements that ORM hooks never see), and
amounts, counters and totals that must not go negative are CHECK constraints

Revision ID: d4e1c0de0003
Revises: c1e9e0de0003
Create Date: 2026-12-04 15:00:00

Every constraint is checked against the rows already there before it is added: a breach stops the
migration with the rows' count and the rule, rather than a bare integrity error halfway through.

SQLite drops a table's triggers when batch mode rebuilds it: the constraints go first, the triggers
last, and a later migration that rebuilds voucher_ledger must create its triggers again.
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4e1c0de0003'
down_revision = 'c1e9e0de0003'
branch_labels = None
depends_on = None

# table -> [(name without the ck_<table>_ prefix, condition)]; the same as the models' __table_args__
CHECKS = {
    'voucher_batch': [
        ('counters_nonnegative', 'issued_count >= 0 AND issued_amount >= 0 AND returned_amount >= 0'),
        ('returned_within_issued', 'returned_amount <= issued_amount'),
        ('min_bill_nonnegative', 'min_bill >= 0'),
        ('budget_nonnegative', 'budget IS NULL OR budget >= 0'),
        ('quantities_nonnegative', '(total_count IS NULL OR total_count >= 0) AND (daily_cap IS NULL OR daily_cap >= 0)'
                                   ' AND (valid_days IS NULL OR valid_days >= 0)'),
    ],
    'batch_holding': [('count_nonnegative', 'count >= 0')],
    'batch_day': [('count_nonnegative', 'count >= 0')],
    'voucher': [('face_value_positive', 'face_value > 0')],
    'voucher_ledger': [
        ('amount_sign', "(kind IN ('issue', 'reverse') AND amount >= 0)"
                        " OR (kind IN ('redeem', 'expire') AND amount <= 0)"),
    ],
    'settlement_statement': [
        ('totals_nonnegative', 'redemption_count >= 0 AND redeemed_total >= 0 AND reversed_total >= 0'),
        ('reversed_within_redeemed', 'reversed_total <= redeemed_total'),
        ('net_is_difference', 'net_total = redeemed_total - reversed_total'),
    ],
}

MESSAGE = 'voucher_ledger is append-only'


def _check_existing_rows():
    connection = op.get_bind()
    breaches = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            count = connection.execute(sa.text(f'SELECT count(*) FROM {table} WHERE NOT ({condition})')).scalar()
            if count:
                breaches.append(f'{table}: {count} row(s) break ck_{table}_{name} ({condition})')
    if breaches:
        raise RuntimeError('rows break the new constraints; correct them first:\n' + '\n'.join(breaches))


def upgrade():
    _check_existing_rows()
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(f'ck_{table}_{name}'), condition)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION voucher_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$;
        """)
        op.execute("""
            CREATE TRIGGER voucher_ledger_append_only BEFORE UPDATE OR DELETE ON voucher_ledger
            FOR EACH ROW EXECUTE FUNCTION voucher_ledger_append_only();
        """)
        # TRUNCATE skips row triggers: refuse it as a statement
        op.execute("""
            CREATE TRIGGER voucher_ledger_no_truncate BEFORE TRUNCATE ON voucher_ledger
            FOR EACH STATEMENT EXECUTE FUNCTION voucher_ledger_append_only();
        """)
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"""
                CREATE TRIGGER voucher_ledger_no_{event.lower()} BEFORE {event} ON voucher_ledger
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
            """)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS voucher_ledger_no_truncate ON voucher_ledger')
        op.execute('DROP TRIGGER IF EXISTS voucher_ledger_append_only ON voucher_ledger')
        op.execute('DROP FUNCTION IF EXISTS voucher_ledger_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS voucher_ledger_no_update')
        op.execute('DROP TRIGGER IF EXISTS voucher_ledger_no_delete')
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in checks:
                batch_op.drop_constraint(op.f(f'ck_{table}_{name}'), type_='check')
