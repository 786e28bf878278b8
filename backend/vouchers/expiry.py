"""Scheduled work: expire vouchers past their date (unspent value goes back to the batch, as a
ledger entry) and remind holders a few days before."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from backend.core.db import utcnow
from backend.extensions import db
from backend.notifications import service as notifications
from backend.vouchers import ledger
from backend.core.localtime import LOCAL
from backend.vouchers.common import yuan
from backend.vouchers.models import Voucher
from backend.vouchers.redemption import _return_to_batch


def expire_due(*, now=None, batch_size: int = 500) -> dict:
    """Expire every voucher whose validity has ended; safe to run twice or concurrently. The caller commits."""
    now = now or utcnow()
    expired = returned = 0
    while True:
        ids = db.session.scalars(sa.select(Voucher.id).where(Voucher.valid_until <= now, Voucher.expired_at.is_(None))
                                 .order_by(Voucher.id).limit(batch_size)).all()
        if not ids:
            break
        for voucher_id in ids:
            voucher = ledger.lock_voucher(voucher_id)
            if voucher.expired_at is not None:
                continue
            amount = voucher.balance
            _return_to_batch(voucher, amount)
            voucher.expired_at = now
            expired += 1
            returned += amount
        db.session.flush()
    return {"expired": expired, "returned": returned}


def remind_due(*, now=None, days: int | None = None) -> int:
    """Tell holders whose vouchers with money left expire within ``days``; once per voucher."""
    now = now or utcnow()
    days = current_app.config["VOUCHER_REMIND_DAYS"] if days is None else days
    due = db.session.scalars(sa.select(Voucher).where(
        Voucher.balance > 0, Voucher.expired_at.is_(None), Voucher.reminded_at.is_(None),
        Voucher.valid_until > now, Voucher.valid_until <= now + timedelta(days=days))).all()
    for voucher in due:
        until = voucher.valid_until.astimezone(LOCAL).strftime("%Y-%m-%d")
        notifications.notify(user_id=voucher.holder_id, kind="voucher_expiring", title="创业券即将到期",
                             body=f"{voucher.batch.name} 余额 {yuan(voucher.balance)}，将于 {until} 到期，请尽快使用",
                             link=f"voucher-detail?id={voucher.id}", dedupe=f"voucher_expiring:{voucher.id}")
        voucher.reminded_at = now
    db.session.flush()
    return len(due)
