"""The only code that changes a voucher's balance: lock the voucher, append an entry, move the
cached balance by the same amount."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from backend.core.errors import NotFound
from backend.extensions import db
from backend.vouchers.enums import LedgerKind
from backend.vouchers.models import LedgerEntry, Voucher

SIGN = {LedgerKind.issue: 1, LedgerKind.redeem: -1, LedgerKind.reverse: 1, LedgerKind.expire: -1}


def lock_voucher(voucher_id: int, *, with_holder_name: bool = False, provider_id: int | None = None) -> Voucher:
    """The voucher, row-locked until the transaction ends (its batch comes along, unlocked); for a
    redemption also the holder's name and the provider, in the same round trip."""
    query = sa.select(Voucher).where(Voucher.id == voucher_id).with_for_update(of=Voucher) \
        .execution_options(populate_existing=True)
    if with_holder_name:
        from backend.accounts.models import User
        from backend.vouchers.models import Provider

        query = query.add_columns(User.name).join(User, User.id == Voucher.holder_id)
        if provider_id is not None:
            query = query.add_columns(Provider).join(Provider, Provider.id == provider_id)
        row = db.session.execute(query).first()
        voucher = None if row is None else row[0]
        if voucher is not None:
            voucher.holder_name = row[1]
            voucher.provider = row[2] if provider_id is not None else None
    else:
        voucher = db.session.scalar(query)
    if voucher is None:
        raise NotFound("创业券不存在", code="voucher_not_found")
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


def history(*, voucher: Voucher) -> list[LedgerEntry]:
    return db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id)
                              .order_by(LedgerEntry.id)).all()


def check_invariants() -> list[str]:
    """Every voucher's balance equals the sum of its entries and lies within 0..face value; every
    batch issued no more than its caps and its counters match its vouchers. Returns the breaches."""
    from backend.vouchers.models import VoucherBatch

    problems = []
    sums = sa.select(LedgerEntry.voucher_id, sa.func.sum(LedgerEntry.amount).label("total")) \
        .group_by(LedgerEntry.voucher_id).subquery()
    rows = db.session.execute(sa.select(Voucher.id, Voucher.balance, Voucher.face_value, sums.c.total)
                              .outerjoin(sums, sums.c.voucher_id == Voucher.id))
    for vid, balance, face, total in rows:
        if total != balance or not 0 <= balance <= face:
            problems.append(f"voucher {vid}: balance {balance}, ledger {total}, face {face}")
    counts = sa.select(Voucher.batch_id, sa.func.count().label("n"), sa.func.sum(Voucher.face_value).label("amt")) \
        .group_by(Voucher.batch_id).subquery()
    for batch, n, amt in db.session.execute(sa.select(VoucherBatch, counts.c.n, counts.c.amt)
                                            .outerjoin(counts, counts.c.batch_id == VoucherBatch.id)):
        n, amt = n or 0, amt or 0
        if batch.issued_count != n or batch.issued_amount != amt:
            problems.append(f"batch {batch.id}: counters {batch.issued_count}/{batch.issued_amount}, vouchers {n}/{amt}")
        if batch.cap_count is not None and n > batch.cap_count:
            problems.append(f"batch {batch.id}: issued {n} over its cap {batch.cap_count}")
    return problems
