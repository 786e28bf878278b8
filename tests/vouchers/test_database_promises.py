"""The database keeps the voucher promises itself, whatever writes to it: raw SQL that changes or
deletes a ledger entry, or drives an amount below zero, is refused (SQLite and PostgreSQL)."""
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from backend.extensions import db
from backend.vouchers.models import LedgerEntry, Voucher
from tests.factories import make_voucher


def refused(statement: str, params: dict, error=DBAPIError, match: str | None = None):
    """Run one statement in a savepoint and assert the database refuses it."""
    nested = db.session.begin_nested()
    with pytest.raises(error, match=match):
        db.session.execute(sa.text(statement), params)
    nested.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE voucher_ledger SET amount = amount + 100 WHERE voucher_id = :v",
    "UPDATE voucher_ledger SET balance_after = 0 WHERE voucher_id = :v",
    "DELETE FROM voucher_ledger WHERE voucher_id = :v",
])
def test_ledger_entries_cannot_be_changed_or_deleted_by_raw_sql(session, statement):
    voucher = make_voucher()
    before = db.session.execute(sa.select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after)
                                .where(LedgerEntry.voucher_id == voucher.id)).all()
    assert len(before) == 1
    refused(statement, {"v": voucher.id}, match="voucher_ledger is append-only")
    after = db.session.execute(sa.select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after)
                               .where(LedgerEntry.voucher_id == voucher.id)).all()
    assert after == before


def test_appending_to_the_ledger_still_works(session):
    voucher = make_voucher()
    db.session.execute(sa.text("INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
                               "SELECT id, 'redeem', -100, balance - 100, claimed_at FROM voucher WHERE id = :v"),
                       {"v": voucher.id})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.voucher_id == voucher.id)) == 2


@pytest.mark.parametrize("statement", [
    "UPDATE voucher SET balance = -1 WHERE id = :v",
    "UPDATE voucher SET face_value = 0, balance = 0 WHERE id = :v",
    "UPDATE voucher_batch SET issued_amount = -1 WHERE id = :b",
    "UPDATE voucher_batch SET returned_amount = issued_amount + 1 WHERE id = :b",
    "UPDATE voucher_batch SET min_bill = -1 WHERE id = :b",
    "UPDATE voucher_batch SET budget = -5 WHERE id = :b",
    "UPDATE voucher_batch SET daily_cap = -1 WHERE id = :b",
    "UPDATE voucher_batch SET total_count = -1 WHERE id = :b",
    "UPDATE batch_holding SET count = -1 WHERE batch_id = :b",
    # a redemption entry that adds money, an issue entry that takes it
    "INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
    "SELECT id, 'redeem', 100, balance, claimed_at FROM voucher WHERE id = :v",
    "INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
    "SELECT id, 'issue', -100, balance, claimed_at FROM voucher WHERE id = :v",
    "INSERT INTO voucher_ledger (voucher_id, kind, amount, balance_after, created_at) "
    "SELECT id, 'redeem', -100, -1, claimed_at FROM voucher WHERE id = :v",
])
def test_negative_amounts_are_refused_by_the_database(session, statement):
    voucher = make_voucher()
    assert db.session.scalar(sa.text("SELECT count(*) FROM batch_holding WHERE batch_id = :b"),
                             {"b": voucher.batch_id}) >= 1
    refused(statement, {"v": voucher.id, "b": voucher.batch_id}, error=IntegrityError)
    db.session.expire_all()
    assert db.session.get(Voucher, voucher.id).balance == voucher.face_value


@pytest.mark.parametrize("values", [
    "redeemed_total = 100, reversed_total = 200, net_total = -100",
    "redeemed_total = 100, reversed_total = 0, net_total = 50",
    "redemption_count = -1",
])
def test_statement_totals_must_add_up(session, values):
    from tests.factories import make_provider

    provider = make_provider()
    db.session.execute(sa.text("INSERT INTO settlement_statement (provider_id, month, state, redemption_count, "
                               "redeemed_total, reversed_total, net_total, reason, created_at, updated_at) "
                               "VALUES (:p, '2026-10', 'submitted', 1, 100, 0, 100, '', :now, :now)"),
                       {"p": provider.id, "now": "2026-11-01 00:00:00+00:00"})
    refused(f"UPDATE settlement_statement SET {values} WHERE provider_id = :p", {"p": provider.id},
            error=IntegrityError)
