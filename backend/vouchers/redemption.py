"""核销: provider staff scan the holder's pay code, see which vouchers can pay here, enter the bill,
confirm. Each confirmation carries an idempotency key: a retry acts once and returns the same
receipt. Reversal returns the amount, within a window, never once settled."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import cache
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from backend.accounts.models import User
from backend.core.db import total, utcnow
from backend.core.errors import Conflict, DomainError, NotFound
from backend.devices import service as devices
from backend.extensions import db
from backend.notifications import service as notifications
from backend.vouchers import claims, ledger, providers
from backend.core.localtime import LOCAL
from backend.vouchers.common import yuan
from backend.vouchers.enums import CATEGORY_LABELS, LedgerKind
from backend.vouchers.models import PayScan, Provider, Redemption, Voucher, VoucherBatch


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="voucher-scan")


def _owns(holder: User, provider: Provider) -> bool:
    member = providers.membership(holder)
    if member is not None and member.provider_id == provider.id:
        return True
    profile = holder.profile
    return bool(profile and profile.credit_code and profile.credit_code == provider.credit_code)


def usable_problem(*, voucher: Voucher, provider: Provider, owns: bool, category: str | None = None,
                   now=None) -> tuple[str, str] | None:
    """Why this voucher can't pay this provider (for this category), or None."""
    now = now or utcnow()
    batch = voucher.batch
    if voucher.expired_at is not None or voucher.valid_until <= now:
        return "voucher_expired", "该券已过期"
    if voucher.valid_from > now:
        return "voucher_not_yet_valid", "该券尚未生效"
    if voucher.balance <= 0:
        return "insufficient_balance", "该券余额不足"
    if not provider.listed(now):
        return "provider_not_listed", "本机构不在创业券服务机构目录中，不能使用创业券"
    if owns:
        return "own_provider", "不能在本人或本企业开办的机构使用创业券"
    allowed = set(batch.categories) & set(provider.categories)
    if not allowed:
        return "category_not_allowed", "该券不能用于本机构提供的服务"
    if category is not None:
        if category not in batch.categories:
            return "category_not_allowed", f"该券不能用于{CATEGORY_LABELS.get(category, category)}"
        if category not in provider.categories:
            return "provider_not_listed", f"本机构未入库{CATEGORY_LABELS.get(category, category)}服务"
    return None


def _raise(problem: tuple[str, str]) -> None:
    code, message = problem
    raise DomainError(message, code=code, status=422)


def scan(*, staff: User, code: str) -> dict:
    """The holder behind a pay code and what each of their vouchers can do here."""
    provider = providers.provider_of(staff)
    if not provider.listed(utcnow()):
        _raise(("provider_not_listed", "本机构尚未入库（审核或公示中、已暂停），暂不能核销创业券"))
    verified = devices.verify_code(text=code, expect="personal")
    if verified["purpose"] != "pay":
        raise DomainError("这是签到用的个人码，请让对方打开“付款码”", code="wrong_purpose", status=422)
    holder = verified["user"]
    scan_id = _consume(device_id=verified["device_id"], ts=verified["ts"], holder=holder, provider=provider,
                       staff=staff)
    owns = _owns(holder, provider)
    vouchers = db.session.scalars(sa.select(Voucher).where(Voucher.holder_id == holder.id, Voucher.balance > 0,
                                                           Voucher.expired_at.is_(None))
                                  .order_by(Voucher.valid_until, Voucher.id)).all()
    options = []
    for voucher in claims.with_state(page=vouchers):
        problem = usable_problem(voucher=voucher, provider=provider, owns=owns)
        options.append({"voucher": voucher, "usable": problem is None,
                        "reason_code": problem[0] if problem else None, "reason": problem[1] if problem else None,
                        "categories": sorted(set(voucher.batch.categories) & set(provider.categories))})
    token = _serializer().dumps({"h": holder.id, "p": provider.id, "s": staff.id, "o": owns, "i": scan_id})
    return {"holder": holder, "provider": provider, "vouchers": options, "scan_token": token,
            "expires_in": current_app.config["VOUCHER_SCAN_MINUTES"] * 60}


def _consume(*, device_id: int, ts: int, holder: User, provider: Provider, staff: User) -> int:
    """Take the pay code: the first scan of it anywhere wins (a unique row; a concurrent scan of the
    same code waits for this one's transaction and then finds it taken)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = PayScan.__table__
    scan_id = db.session.execute(insert(table).values(
        device_id=device_id, code_ts=int(ts), holder_id=holder.id, provider_id=provider.id, staff_id=staff.id,
        created_at=utcnow()).on_conflict_do_nothing().returning(table.c.id)).scalar()
    if scan_id is None:
        raise Conflict("该付款码已使用，请让对方刷新付款码后重新扫描", code="pay_code_used")
    return scan_id


def last_scan(*, user: User) -> dict | None:
    """The latest scan of my pay codes, so that the phone replaces a used code at once."""
    row = db.session.execute(sa.select(PayScan.code_ts, PayScan.created_at, Provider.name)
                             .join(Provider, Provider.id == PayScan.provider_id)
                             .where(PayScan.holder_id == user.id).order_by(PayScan.id.desc()).limit(1)).first()
    if row is None:
        return None
    return {"code_ts": row.code_ts, "scanned_at": row.created_at, "provider_name": row.name}


def _load_token(token: str, staff: User) -> dict:
    data, fresh = _scan_data(token, staff)
    if not fresh:
        raise DomainError("扫码已超时，请重新扫描付款码", code="scan_expired", status=422)
    return data


def _deduction(*, voucher, bill: int) -> tuple[int, int]:
    """(covered, amount): amount = min(balance, floor(bill × ratio)), respecting the minimum bill."""
    batch = voucher.batch
    if bill < batch.min_bill:
        raise DomainError(f"本券单笔账单满 {yuan(batch.min_bill)} 才可使用", code="below_minimum_bill", status=422,
                          details={"min_bill": batch.min_bill})
    covered = bill * batch.co_pay_ratio_bp // 10000
    amount = min(voucher.balance, covered)
    if amount <= 0:
        raise DomainError("该笔账单可抵扣金额为 0", code="nothing_to_deduct", status=422)
    return covered, amount


def compute(*, voucher: Voucher, bill: int) -> dict:
    """min(balance, floor(bill × ratio)), respecting the minimum bill, with the reasoning in words."""
    batch = voucher.batch
    covered, amount = _deduction(voucher=voucher, bill=bill)
    ratio = f"{batch.co_pay_ratio_bp / 100:g}%"
    lines = [f"账单 {yuan(bill)} × 补贴比例 {ratio} = 可抵扣 {yuan(covered)}"]
    if amount < covered:
        lines.append(f"券余额 {yuan(voucher.balance)}，按余额抵扣")
    lines.append(f"本次抵扣 {yuan(amount)}，自付 {yuan(bill - amount)}")
    return {"amount": amount, "self_pay": bill - amount, "covered": covered, "balance_before": voucher.balance,
            "balance_after": voucher.balance - amount, "explanation": "；".join(lines)}


def _voucher_for(token_data: dict, voucher_id: int) -> Voucher:
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.holder_id != token_data["h"]:
        raise NotFound("创业券不存在", code="voucher_not_found")
    return voucher


def quote(*, staff: User, scan_token: str, voucher_id: int, bill_amount: int, category: str) -> dict:
    data = _load_token(scan_token, staff)
    provider = db.session.get(Provider, data["p"])
    voucher = _voucher_for(data, voucher_id)
    problem = usable_problem(voucher=voucher, provider=provider, owns=data["o"], category=category)
    if problem:
        _raise(problem)
    return compute(voucher=voucher, bill=bill_amount)


def _request_hash(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _scan_data(token: str, staff: User) -> tuple[dict, bool]:
    """The scan token's data (signature checked, else scan_invalid) and whether it is still fresh: one
    verification, the age judged here (a retry of done work may come after the scan aged out)."""
    serializer = _serializer()
    try:
        data, signed_at = serializer.loads(token, return_timestamp=True)
    except BadSignature:
        raise DomainError("扫码凭证无效，请重新扫描付款码", code="scan_invalid", status=422) from None
    if data.get("s") != staff.id or not isinstance(data.get("i"), int):
        raise DomainError("扫码凭证无效，请重新扫描付款码", code="scan_invalid", status=422)
    age = serializer.make_signer().get_timestamp() - signed_at.timestamp()  # the signer's clock, as max_age uses
    return data, 0 <= age <= current_app.config["VOUCHER_SCAN_MINUTES"] * 60


class _Provider(SimpleNamespace):
    def listed(self, now) -> bool:
        return _LISTED(self, now)


_LISTED = Provider.__dict__["listed"].func  # the model's one rule, applied to the row's status and listed_at
_LOCKED = ("id", "holder_id", "balance", "valid_from", "valid_until", "expired_at")


@cache
def _lock_query() -> sa.Select:
    """The voucher row locked (FOR UPDATE OF voucher) with what a redemption reads of its batch, its
    holder and the provider: one round trip, Core columns (no ORM hydration); built once."""
    v, b, u, p = Voucher.__table__.c, VoucherBatch.__table__.c, User.__table__.c, Provider.__table__.c
    return sa.select(*(v[c] for c in _LOCKED), b.name, b.categories, b.min_bill, b.co_pay_ratio_bp, u.name,
                     p.id, p.name, p.categories, p.status, p.listed_at) \
        .join_from(Voucher.__table__, VoucherBatch.__table__, b.id == v.batch_id) \
        .join(User.__table__, u.id == v.holder_id) \
        .join(Provider.__table__, p.id == sa.bindparam("provider_id")) \
        .where(v.id == sa.bindparam("voucher_id")).with_for_update(of=Voucher.__table__)


def _lock_for_redemption(voucher_id: int, token_data: dict) -> SimpleNamespace:
    """The voucher, row-locked until the transaction ends (every change to it queues here), as a plain
    object with ``batch``, ``provider`` and ``holder_name``: what usable_problem and compute read."""
    db.session.flush()  # what this session changed is what the row shows (as the ORM's autoflush did)
    row = db.session.execute(_lock_query(), {"voucher_id": voucher_id, "provider_id": token_data["p"]}).first()
    if row is None or row[1] != token_data["h"]:
        raise NotFound("创业券不存在", code="voucher_not_found")
    voucher = SimpleNamespace(**dict(zip(_LOCKED, row[:6])))
    voucher.batch = SimpleNamespace(name=row[6], categories=row[7], min_bill=row[8], co_pay_ratio_bp=row[9])
    voucher.holder_name = row[10]
    voucher.provider = _Provider(id=row[11], name=row[12], categories=row[13], status=row[14], listed_at=row[15])
    return voucher


def _post(voucher: SimpleNamespace, values: dict) -> int | None:
    """The redemption, its ledger entry and the balance (ledger's statement: one round trip on
    PostgreSQL; SQLite, through ledger.post_redemption on the ORM voucher). None: the key or the scan
    was taken and nothing was written. The session's copy of the voucher, if it holds one, agrees."""
    balance = voucher.balance - values["amount"]
    if db.session.get_bind().dialect.name == "postgresql":
        params = {f"r_{column}": value for column, value in values.items()}
        new_id = db.session.execute(ledger._redemption_write(), {**params, "new_balance": balance}).scalar()
        loaded = db.session.identity_map.get(db.session.identity_key(Voucher, voucher.id))
        if new_id is not None and loaded is not None:
            set_committed_value(loaded, "balance", balance)
        return new_id
    return ledger.post_redemption(voucher=db.session.get(Voucher, voucher.id), redemption=values)


def redeem(*, staff: User, scan_token: str, voucher_id: int, bill_amount: int, category: str,
           idempotency_key: str) -> tuple[Redemption, bool]:
    """Spend part of a voucher. Returns (receipt, created); the same key again returns the first."""
    # the signature is always checked; the age only for new work, so a retry that arrives after the
    # scan aged out still gets the receipt of what was done
    data, fresh = _scan_data(scan_token, staff)
    digest = _request_hash(voucher=voucher_id, bill=bill_amount, category=category, holder=data["h"],
                           provider=data["p"])
    voucher = _lock_for_redemption(voucher_id, data)  # every change to this voucher queues here
    provider = voucher.provider
    now = utcnow()
    # New work is tried first and a retry recognised by its key (a retry is the rare case): the
    # write does nothing when the key is taken, and a refusal first looks for an earlier answer.
    try:
        if not fresh:
            raise DomainError("扫码已超时，请重新扫描付款码", code="scan_expired", status=422)
        problem = usable_problem(voucher=voucher, provider=provider, owns=data["o"], category=category, now=now)
        if problem:
            _raise(problem)
        amount = _deduction(voucher=voucher, bill=bill_amount)[1]
    except DomainError:
        earlier = _earlier(staff=staff, key=idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, digest=digest, voucher=voucher), False
    values = dict(voucher_id=voucher.id, provider_id=provider.id, staff_id=staff.id, holder_id=voucher.holder_id,
                  category=category, bill_amount=bill_amount, amount=amount, idempotency_key=idempotency_key,
                  request_hash=digest, created_at=now, reverse_reason="", scan_id=data["i"])
    new_id = _post(voucher, values)
    if new_id is None:  # the key was taken (an earlier request did this, or something else) or the scan was
        earlier = _earlier(staff=staff, key=idempotency_key)
        if earlier is None:
            raise Conflict("这次扫码已完成一笔付款，再次收款请重新扫描对方的付款码", code="scan_used")
        return _replay(earlier, digest=digest, voucher=voucher), False
    voucher.balance -= amount
    # the receipt, built from what was written and attached as persistent: no reload, no second insert
    # (its voucher relationship stays unloaded: the receipt names the batch from the locked row)
    receipt = Redemption(id=new_id, reversed_at=None, reversed_by_id=None, statement_id=None, **values)
    make_transient_to_detached(receipt)
    db.session.add(receipt)
    receipt.holder_name, receipt.provider_name, receipt.batch_name = \
        voucher.holder_name, provider.name, voucher.batch.name
    _tell_holder(receipt, voucher=voucher, provider_name=provider.name, reversed_=False)
    return receipt, True


def _tell_holder(redemption: Redemption, *, voucher: Voucher, provider_name: str, reversed_: bool) -> None:
    """The holder hears of each redemption and of its reversal, once each, in the same transaction:
    one INSERT, deduplicated by the redemption's id."""
    batch_name = voucher.batch.name
    if reversed_:
        title, kind, dedupe = "创业券核销已撤销", "voucher_reversed", f"redemption_reversed:{redemption.id}"
        body = f"{provider_name}撤销了一笔核销，{yuan(redemption.amount)}已退回“{batch_name}”"
    else:
        title, kind, dedupe = "创业券已核销", "voucher_redeemed", f"redemption:{redemption.id}"
        body = (f"{provider_name}核销“{batch_name}”{yuan(redemption.amount)}"
                f"（账单 {yuan(redemption.bill_amount)}，自付 {yuan(redemption.bill_amount - redemption.amount)}）")
    notifications.notify_in_one(user_id=redemption.holder_id, kind=kind, title=title, body=body[:500],
                                link="receipts", dedupe=dedupe)


def _earlier(*, staff: User, key: str) -> Redemption | None:
    return db.session.scalar(sa.select(Redemption).where(Redemption.staff_id == staff.id,
                                                         Redemption.idempotency_key == key))


def _replay(earlier: Redemption, *, digest: str, voucher: Voucher) -> Redemption:
    """The first receipt for a retried key, if the retry asks for the same thing."""
    if earlier.request_hash != digest:
        raise Conflict("该请求编号已用于另一笔核销", code="idempotency_key_reused")
    earlier.holder_name, earlier.provider_name = voucher.holder_name, voucher.provider.name
    return earlier


def reversible(redemption: Redemption, now=None) -> bool:
    """Whether staff may still reverse it: not reversed, not in a statement, inside the window."""
    window = timedelta(hours=current_app.config["VOUCHER_REVERSAL_HOURS"])
    return redemption.reversed_at is None and redemption.statement_id is None and \
        (now or utcnow()) - redemption.created_at <= window


def with_reversible(*, page: list[Redemption], now=None) -> list[Redemption]:
    """Set ``redemption.reversible`` on each, for the receipt to say whether it can still be undone."""
    now = now or utcnow()
    for redemption in page:
        redemption.reversible = reversible(redemption, now)
    return page


def reverse(*, staff: User, redemption_id: int, reason: str) -> Redemption:
    """Undo a redemption: the amount returns to the voucher (and on to the batch if it has expired)."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound("核销记录不存在", code="redemption_not_found")
    providers.ensure_member(staff, redemption.provider_id)
    voucher = ledger.lock_voucher(redemption.voucher_id)
    db.session.refresh(redemption)
    if redemption.reversed_at is not None:
        return redemption
    window = timedelta(hours=current_app.config["VOUCHER_REVERSAL_HOURS"])
    if utcnow() - redemption.created_at > window:
        raise DomainError(f"已超过可撤销时限（核销后 {window.total_seconds() / 3600:g} 小时内）",
                          code="reversal_window_passed", status=409)
    # guarded: a settlement statement taking this redemption at the same moment wins or waits
    done = db.session.execute(sa.update(Redemption).where(
        Redemption.id == redemption.id, Redemption.reversed_at.is_(None), Redemption.statement_id.is_(None))
        .values(reversed_at=utcnow(), reversed_by_id=staff.id, reverse_reason=reason)).rowcount
    if done != 1:
        raise Conflict("该笔核销已进入结算，不能撤销", code="already_settled")
    ledger.post(voucher=voucher, kind=LedgerKind.reverse, amount=redemption.amount, redemption_id=redemption.id)
    if voucher.expired_at is not None:  # value of an expired voucher goes back to its batch
        _return_to_batch(voucher, voucher.balance)
    db.session.flush()
    db.session.refresh(redemption)
    _tell_holder(redemption, voucher=voucher, provider_name=redemption.provider.name, reversed_=True)
    return redemption


def _return_to_batch(voucher: Voucher, amount: int) -> None:
    if amount <= 0:
        return
    ledger.post(voucher=voucher, kind=LedgerKind.expire, amount=amount)
    batch = db.session.get(VoucherBatch, voucher.batch_id)
    batch.returned_amount = VoucherBatch.returned_amount + amount  # computed in SQL: no lost update


def provider_query(*, provider: Provider, day=None, month=None) -> sa.Select:
    from backend.core.localtime import month_bounds

    query = sa.select(Redemption).where(Redemption.provider_id == provider.id)
    if day is not None:
        from datetime import datetime, time

        start = datetime.combine(day, time.min, LOCAL)
        query = query.where(Redemption.created_at >= start, Redemption.created_at < start + timedelta(days=1))
    if month is not None:
        start, end = month_bounds(month)
        query = query.where(Redemption.created_at >= start, Redemption.created_at < end)
    return query.order_by(Redemption.id.desc())


def totals(query: sa.Select) -> dict:
    sub = query.order_by(None).subquery()
    row = db.session.execute(sa.select(
        sa.func.count(), total(sub.c.amount),
        total(sa.case((sub.c.reversed_at.is_not(None), sub.c.amount), else_=0)))).one()
    return {"count": row[0], "redeemed": row[1], "reversed": row[2], "net": row[1] - row[2]}


def receipts_query(*, user, since=None) -> sa.Select:
    query = sa.select(Redemption).where(Redemption.holder_id == user.id)
    if since is not None:
        query = query.where(Redemption.created_at > since)
    return query.order_by(Redemption.id.desc())
