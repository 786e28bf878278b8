"""The only code that changes a voucher's balance: lock the voucher, append an entry, move the
cached balance by the same amount."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from backend.core.db import total
from backend.core.errors import NotFound
from backend.extensions import db
from backend.vouchers.enums import LedgerKind
from backend.vouchers.models import LedgerEntry, Provider, Redemption, Voucher

SIGN = {LedgerKind.issue: 1, LedgerKind.redeem: -1, LedgerKind.reverse: 1, LedgerKind.expire: -1}


@cache
def _lock_query(*, for_redemption: bool) -> sa.Select:
    """Built once (assembling it cost more than running it); :voucher_id, and :provider_id for a
    redemption, which also brings the holder's name and the provider (contact phone deferred: it
    is encrypted and a redemption never reads it)."""
    from backend.accounts.models import User

    query = sa.select(Voucher).where(Voucher.id == sa.bindparam("voucher_id")).with_for_update(of=Voucher) \
        .execution_options(populate_existing=True)
    if for_redemption:
        query = query.add_columns(User.name, Provider).join(User, User.id == Voucher.holder_id) \
            .join(Provider, Provider.id == sa.bindparam("provider_id")).options(defer(Provider.contact_phone))
    return query


def lock_voucher(voucher_id: int, *, with_holder_name: bool = False, provider_id: int | None = None) -> Voucher:
    """The voucher, row-locked until the transaction ends (its batch comes along, unlocked); for a
    redemption (holder name and provider id given) also the holder's name and the provider, in the
    same round trip."""
    for_redemption = with_holder_name and provider_id is not None
    row = db.session.execute(_lock_query(for_redemption=for_redemption),
                             {"voucher_id": voucher_id, "provider_id": provider_id}).first()
    if row is None:
        raise NotFound("创业券不存在", code="voucher_not_found")
    voucher = row[0]
    if for_redemption:
        voucher.holder_name, voucher.provider = row[1], row[2]
    return voucher


def post(*, voucher: Voucher, kind: LedgerKind, amount: int, redemption_id: int | None = None) -> int:
    """Append one entry to a voucher locked with lock_voucher (or just created and flushed) and move
    its balance; returns the new balance. Two plain statements: entries are fixed-shape appends, and
    the unit of work's bookkeeping cost more than the writes themselves on the redemption path."""
    assert amount >= 0
    signed = SIGN[kind] * amount
    balance = voucher.balance + signed
    db.session.execute(sa.insert(LedgerEntry.__table__).values(
        voucher_id=voucher.id, kind=kind.value, amount=signed, balance_after=balance, redemption_id=redemption_id))
    db.session.execute(sa.update(Voucher.__table__).where(Voucher.__table__.c.id == voucher.id)
                       .values(balance=balance))
    set_committed_value(voucher, "balance", balance)  # the object agrees with the row, nothing left to flush
    return balance


REDEMPTION_COLUMNS = ("voucher_id", "provider_id", "staff_id", "holder_id", "category", "bill_amount", "amount",
                      "idempotency_key", "request_hash", "created_at", "reverse_reason", "scan_id")


def post_redemption(*, voucher: Voucher, redemption: dict) -> int | None:
    """Write a redemption (``redemption``: the values of REDEMPTION_COLUMNS), its ledger entry, and
    move the balance of the locked ``voucher`` — unless the staff member's idempotency key or the
    pay-code scan is already taken, in which case nothing at all is written and None comes back.
    Returns the redemption's id.

    One round trip on PostgreSQL (the three writes chained in one statement; the entry and the
    balance only follow a redemption row that went in); SQLite, with no writes inside WITH, takes three."""
    amount = redemption["amount"]
    balance = voucher.balance - amount
    if db.session.get_bind().dialect.name == "postgresql":
        params = {f"r_{column}": value for column, value in redemption.items()}
        new_id = db.session.execute(_redemption_write(), {**params, "new_balance": balance}).scalar()
    else:
        table = Redemption.__table__
        new_id = db.session.execute(sqlite.insert(table).values(**redemption)
                                    .on_conflict_do_nothing()  # the key or the scan
                                    .returning(table.c.id)).scalar()
        if new_id is not None:
            post(voucher=voucher, kind=LedgerKind.redeem, amount=amount, redemption_id=new_id)
    if new_id is not None:
        set_committed_value(voucher, "balance", balance)
    return new_id


@cache
def _redemption_write() -> sa.Update:
    """WITH inserted AS (INSERT INTO redemption … ON CONFLICT DO NOTHING (the key or the scan taken)
    RETURNING …), entry AS (INSERT INTO voucher_ledger … SELECT … FROM inserted)
    UPDATE voucher SET balance = :new_balance FROM inserted WHERE voucher.id = inserted.voucher_id
    RETURNING inserted.id — with :r_<column> for each of REDEMPTION_COLUMNS."""
    table, entries, vouchers = Redemption.__table__, LedgerEntry.__table__, Voucher.__table__
    new_balance = sa.bindparam("new_balance", type_=sa.BigInteger)
    inserted = postgresql.insert(table) \
        .values({c: sa.bindparam(f"r_{c}", type_=table.c[c].type) for c in REDEMPTION_COLUMNS}) \
        .on_conflict_do_nothing() \
        .returning(table.c.id, table.c.voucher_id, table.c.amount, table.c.created_at).cte("inserted")
    entry = entries.insert().from_select(
        ["voucher_id", "kind", "amount", "balance_after", "redemption_id", "created_at"],
        sa.select(inserted.c.voucher_id, sa.literal(LedgerKind.redeem.value), -inserted.c.amount, new_balance,
                  inserted.c.id, inserted.c.created_at)).cte("entry")
    return sa.update(vouchers).where(vouchers.c.id == inserted.c.voucher_id).values(balance=new_balance) \
        .returning(inserted.c.id).add_cte(entry)


def history(*, voucher: Voucher) -> list[LedgerEntry]:
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id)
                              .order_by(LedgerEntry.id)).all()


def check_invariants() -> list[str]:
    """Every voucher's balance equals the sum of its entries and lies within 0..face value; every
    batch issued no more than its caps and its counters match its vouchers. Returns the breaches."""
    from backend.vouchers.models import VoucherBatch

    problems = []
    sums = sa.select(LedgerEntry.voucher_id, total(LedgerEntry.amount).label("total")) \
        .group_by(LedgerEntry.voucher_id).subquery()
    rows = db.session.execute(sa.select(Voucher.id, Voucher.balance, Voucher.face_value, sums.c.total)
                              .outerjoin(sums, sums.c.voucher_id == Voucher.id))
    for vid, balance, face, summed in rows:
        if summed != balance or not 0 <= balance <= face:
            problems.append(f"voucher {vid}: balance {balance}, ledger {summed}, face {face}")
    counts = sa.select(Voucher.batch_id, sa.func.count().label("n"), total(Voucher.face_value).label("amt")) \
        .group_by(Voucher.batch_id).subquery()
    for batch, n, amt in db.session.execute(sa.select(VoucherBatch, counts.c.n, counts.c.amt)
                                            .outerjoin(counts, counts.c.batch_id == VoucherBatch.id)):
        n, amt = n or 0, amt or 0
        if batch.issued_count != n or batch.issued_amount != amt:
            problems.append(f"batch {batch.id}: counters {batch.issued_count}/{batch.issued_amount}, vouchers {n}/{amt}")
        if batch.cap_count is not None and n > batch.cap_count:
            problems.append(f"batch {batch.id}: issued {n} over its cap {batch.cap_count}")
    return problems
