"""Redemption by scan, the deduction rule, idempotency, reversal, expiry and settlement."""
import csv
import io
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner
from openpyxl import load_workbook

from backend.core.codes import Purpose
from backend.core.db import utcnow
from backend.extensions import db
from backend.notifications.models import Notification
from backend.vouchers import claims, expiry, ledger, redemption, settlement
from backend.core.localtime import LOCAL
from backend.vouchers.enums import LedgerKind, StatementState
from backend.vouchers.models import Redemption, Voucher, VoucherBatch
from tests.factories import (make_batch, make_device, make_entrepreneur, make_staff, make_user,
                             pay_code)
from tests.vouchers.test_claims import code_of


@pytest.fixture
def shop(session):
    """A listed provider (rent, training, legal) with one staff member; a holder with a ¥1,000
    voucher covering 50% of bills of at least ¥100, and a phone showing a pay code."""
    staff, provider = make_staff()
    holder = make_entrepreneur()
    batch = make_batch(face_value=100_000, co_pay_ratio_bp=5000, min_bill=10_000)
    voucher, _ = claims.claim(user=holder, batch_id=batch.id)
    phone = make_device(holder)
    return type("Shop", (), dict(staff=staff, provider=provider, holder=holder, batch=batch, voucher=voucher,
                                 phone=phone))


def scan(shop, **kwargs):
    return redemption.scan(staff=shop.staff, code=pay_code(shop.phone, **kwargs))


def redeem(shop, bill, key="key-00000001", category="rent", token=None):
    token = token or scan(shop)["scan_token"]
    return redemption.redeem(staff=shop.staff, scan_token=token, voucher_id=shop.voucher.id, bill_amount=bill,
                             category=category, idempotency_key=key)


@pytest.mark.parametrize("bill,amount,self_pay", [
    (10_000, 5_000, 5_000),  # the minimum bill, half covered
    (33_333, 16_666, 16_667),  # floor, never round up
    (500_000, 100_000, 400_000),  # capped by the balance
])
def test_the_deduction_is_min_of_balance_and_the_covered_share(shop, bill, amount, self_pay):
    quote = redemption.compute(voucher=shop.voucher, bill=bill)
    assert (quote["amount"], quote["self_pay"]) == (amount, self_pay)
    assert "本次抵扣" in quote["explanation"] and "自付" in quote["explanation"]


def test_a_bill_under_the_minimum_is_refused(shop):
    assert code_of(redemption.compute, voucher=shop.voucher, bill=9_999) == "below_minimum_bill"


def test_scan_names_the_holder_masked_and_what_each_voucher_can_do_here(shop):
    other = make_batch(categories=["ip"])  # pays only for IP services, which this provider does not offer
    claims.claim(user=shop.holder, batch_id=other.id)
    result = scan(shop)
    options = {o["voucher"].batch_id: o for o in result["vouchers"]}
    assert options[shop.batch.id]["usable"] and options[shop.batch.id]["categories"] == ["legal", "rent", "training"]
    assert not options[other.id]["usable"] and options[other.id]["reason_code"] == "category_not_allowed"


def test_a_check_in_code_cannot_pay(shop):
    assert code_of(scan, shop, purpose=Purpose.identify) == "wrong_purpose"


def test_an_old_pay_code_is_refused(shop):
    import time

    assert code_of(scan, shop, ts=int(time.time()) - 120) == "expired"


def test_redeem_moves_the_balance_through_the_ledger(shop):
    receipt, created = redeem(shop, 40_000)
    assert created and receipt.amount == 20_000 and receipt.receipt_no.startswith("HX")
    db.session.refresh(shop.voucher)
    assert shop.voucher.balance == 80_000
    kinds = [(e.kind, e.amount, e.balance_after) for e in ledger.history(voucher=shop.voucher)]
    assert kinds == [(LedgerKind.issue, 100_000, 100_000), (LedgerKind.redeem, -20_000, 80_000)]
    assert ledger.check_invariants() == []


def test_a_retry_with_the_same_key_acts_once_and_returns_the_same_receipt(shop):
    token = scan(shop)["scan_token"]
    first, created = redeem(shop, 40_000, key="same-key-42", token=token)
    again, created_again = redeem(shop, 40_000, key="same-key-42", token=token)
    assert created and not created_again and again.id == first.id
    db.session.refresh(shop.voucher)
    assert shop.voucher.balance == 80_000
    assert code_of(redeem, shop, 50_000, key="same-key-42", token=token) == "idempotency_key_reused"


def test_a_retry_after_the_voucher_ran_out_still_gets_its_receipt(shop):
    """New work is tried first; a refusal still answers a retried key with its first receipt."""
    token = scan(shop)["scan_token"]
    first, _ = redeem(shop, 200_000, key="spends-it-all", token=token)
    assert first.amount == 100_000 and shop.voucher.balance == 0
    again, created = redeem(shop, 200_000, key="spends-it-all", token=token)
    assert not created and again.id == first.id
    assert code_of(redeem, shop, 300_000, key="spends-it-all", token=token) == "idempotency_key_reused"
    assert code_of(redeem, shop, 200_000, key="new-after-all", token=token) == "insufficient_balance"


def test_a_reused_key_writes_nothing(shop):
    token = scan(shop)["scan_token"]
    redeem(shop, 40_000, key="used-once-1", token=token)
    assert code_of(redeem, shop, 60_000, key="used-once-1", token=token) == "idempotency_key_reused"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 1
    assert [e.kind for e in ledger.history(voucher=shop.voucher)] == [LedgerKind.issue, LedgerKind.redeem]
    db.session.refresh(shop.voucher)
    assert shop.voucher.balance == 80_000 and ledger.check_invariants() == []


@pytest.mark.parametrize("setup,category,code", [
    ("notice", "rent", "provider_not_listed"),
    ("suspended", "rent", "provider_not_listed"),
    ("none", "ip", "category_not_allowed"),
    ("none", "tax", "category_not_allowed"),
    ("expired", "rent", "voucher_expired"),
    ("used_up", "rent", "insufficient_balance"),
])
def test_what_a_voucher_may_not_pay_for(shop, setup, category, code):
    token = scan(shop)["scan_token"]
    if setup == "notice":
        shop.provider.listed_at = utcnow() + timedelta(days=2)
    if setup == "suspended":
        shop.provider.status = "suspended"
    if setup == "expired":
        shop.voucher.valid_until = utcnow() - timedelta(seconds=1)
    if setup == "used_up":
        redeem(shop, 500_000, key="use-it-all", token=token)
    db.session.flush()
    assert code_of(redeem, shop, 20_000, category=category, token=token) == code


def test_a_provider_does_not_take_vouchers_from_its_own_firm(session):
    staff, provider = make_staff()
    owner = make_entrepreneur(credit_code=provider.credit_code)
    claims.claim(user=owner, batch_id=make_batch().id)
    result = redemption.scan(staff=staff, code=pay_code(make_device(owner)))
    assert [o["reason_code"] for o in result["vouchers"]] == ["own_provider"]


def test_a_scan_token_belongs_to_the_staff_member_who_scanned(shop):
    token = scan(shop)["scan_token"]
    colleague, _ = make_staff(provider=shop.provider)
    assert code_of(redemption.redeem, staff=colleague, scan_token=token, voucher_id=shop.voucher.id,
                   bill_amount=20_000, category="rent", idempotency_key="stolen-token") == "scan_invalid"
    assert code_of(redemption.redeem, staff=shop.staff, scan_token=token + "x", voucher_id=shop.voucher.id,
                   bill_amount=20_000, category="rent", idempotency_key="forged-token") == "scan_invalid"


def test_a_pay_code_is_taken_by_its_first_scan_anywhere(shop):
    code = pay_code(shop.phone)
    redemption.scan(staff=shop.staff, code=code)
    colleague, _ = make_staff(provider=shop.provider)
    elsewhere, _ = make_staff()  # a cashier of another provider
    for cashier in (shop.staff, colleague, elsewhere):
        assert code_of(redemption.scan, staff=cashier, code=code) == "pay_code_used"
    # the phone's next code (made a second later) is good again
    assert redemption.scan(staff=elsewhere, code=pay_code(shop.phone))["holder"].id == shop.holder.id


def test_a_re_signed_pay_code_is_the_same_code(shop):
    """ECDSA signatures are not unique: the same body signed again, or with s negated, is still the
    code made at that second on that phone, and is refused once that code was taken."""
    from backend.core import codes

    ts = int(utcnow().timestamp())
    redemption.scan(staff=shop.staff, code=pay_code(shop.phone, ts=ts))
    assert code_of(redemption.scan, staff=shop.staff, code=pay_code(shop.phone, ts=ts)) == "pay_code_used"
    raw = codes.from_text(pay_code(shop.phone, ts=ts))
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 group order
    s_value = int.from_bytes(raw[-32:], "big")
    malleated = codes.to_text(raw[:-32] + (order - s_value).to_bytes(32, "big"))
    assert code_of(redemption.scan, staff=shop.staff, code=malleated) == "pay_code_used"


def test_a_scan_authorises_one_payment(shop):
    token = scan(shop)["scan_token"]
    first, created = redeem(shop, 20_000, key="first-payment", token=token)
    assert created
    assert code_of(redemption.redeem, staff=shop.staff, scan_token=token, voucher_id=shop.voucher.id,
                   bill_amount=20_000, category="rent", idempotency_key="second-payment") == "scan_used"
    again, created = redeem(shop, 20_000, key="first-payment", token=token)  # a retry of the first: its receipt
    assert (again.id, created) == (first.id, False)
    assert db.session.get(Voucher, shop.voucher.id).balance == 90_000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption)
                             .where(Redemption.voucher_id == shop.voucher.id)) == 1


def test_the_phone_learns_that_its_pay_code_was_taken(shop, client, auth):
    headers = auth(shop.holder)
    assert client.get("/api/me/pay-code", headers=headers).get_json() == {"last_scan": None}
    ts = int(utcnow().timestamp()) - 3
    answer = client.post("/api/provider/scan", json={"code": pay_code(shop.phone, ts=ts)}, headers=auth(shop.staff))
    assert answer.status_code == 200
    last = client.get("/api/me/pay-code", headers=headers).get_json()["last_scan"]
    assert (last["code_ts"], last["provider_name"]) == (ts, shop.provider.name)
    again = client.post("/api/provider/scan", json={"code": pay_code(shop.phone, ts=ts)}, headers=auth(shop.staff))
    assert (again.status_code, again.get_json()["code"]) == (409, "pay_code_used")
    assert "已使用" in again.get_json()["message"]


def test_reversal_returns_the_amount_once_and_only_within_the_window(shop, app):
    receipt, _ = redeem(shop, 40_000)
    redemption.reverse(staff=shop.staff, redemption_id=receipt.id, reason="金额录错")
    redemption.reverse(staff=shop.staff, redemption_id=receipt.id, reason="重复点了一次")
    db.session.refresh(shop.voucher)
    assert shop.voucher.balance == 100_000
    assert [e.kind for e in ledger.history(voucher=shop.voucher)] == [LedgerKind.issue, LedgerKind.redeem,
                                                                      LedgerKind.reverse]
    late, _ = redeem(shop, 40_000, key="late-one-1")
    late.created_at = utcnow() - timedelta(hours=app.config["VOUCHER_REVERSAL_HOURS"] + 1)
    db.session.flush()
    assert code_of(redemption.reverse, staff=shop.staff, redemption_id=late.id, reason="太晚了") == \
        "reversal_window_passed"
    outsider, _ = make_staff()
    assert code_of(redemption.reverse, staff=outsider, redemption_id=late.id, reason="别人的") == "forbidden"


def test_expiry_returns_what_is_left_to_the_batch_once(shop):
    redeem(shop, 40_000)  # 20,000 spent, 80,000 left
    shop.voucher.valid_until = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert expiry.expire_due() == {"expired": 1, "returned": 80_000}
    assert expiry.expire_due() == {"expired": 0, "returned": 0}
    db.session.refresh(shop.voucher)
    batch = db.session.get(VoucherBatch, shop.batch.id)
    assert shop.voucher.balance == 0 and batch.returned_amount == 80_000
    assert ledger.check_invariants() == []


def test_reversing_after_expiry_sends_the_amount_on_to_the_batch(shop):
    receipt, _ = redeem(shop, 40_000)
    shop.voucher.valid_until = utcnow() - timedelta(minutes=1)
    db.session.flush()
    expiry.expire_due()
    redemption.reverse(staff=shop.staff, redemption_id=receipt.id, reason="服务未提供")
    db.session.refresh(shop.voucher)
    assert shop.voucher.balance == 0
    assert db.session.get(VoucherBatch, shop.batch.id).returned_amount == 100_000
    assert ledger.check_invariants() == []


def test_reminders_go_once_per_voucher(shop):
    shop.voucher.valid_until = utcnow() + timedelta(days=3)
    db.session.flush()
    assert expiry.remind_due(days=7) == 1
    assert expiry.remind_due(days=7) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == shop.holder.id, Notification.kind == "voucher_expiring")) == 1


def last_month() -> str:
    first = utcnow().astimezone(LOCAL).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def test_monthly_statement_nets_reversals_freezes_redemptions_and_exports(shop):
    admin = make_user("admin")
    kept, _ = redeem(shop, 40_000, key="kept-0001")
    undone, _ = redeem(shop, 20_000, key="undone-001")
    redemption.reverse(staff=shop.staff, redemption_id=undone.id, reason="退款")
    this_month, _ = redeem(shop, 20_000, key="this-month")
    for receipt in (kept, undone):
        receipt.created_at = utcnow().astimezone(LOCAL).replace(day=1) - timedelta(days=2)
    db.session.flush()
    assert code_of(settlement.submit, staff=shop.staff, month=utcnow().astimezone(LOCAL).strftime("%Y-%m")) == \
        "month_not_closed"
    statement = settlement.submit(staff=shop.staff, month=last_month())
    assert (statement.redemption_count, statement.redeemed_total, statement.reversed_total, statement.net_total) == \
        (2, 30_000, 10_000, 20_000)
    assert code_of(settlement.submit, staff=shop.staff, month=last_month()) == "statement_exists"
    kept.created_at = utcnow()  # inside the reversal window again: still frozen by the statement
    db.session.flush()
    assert code_of(redemption.reverse, staff=shop.staff, redemption_id=kept.id, reason="想撤销") == "already_settled"
    kept.created_at = undone.created_at
    db.session.flush()

    body, mimetype, name = settlement.export(statement=statement, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(body))["明细"]
    assert sheet["A2"].value == "核销单号" and sheet.max_row == 4 and name.endswith(".xlsx")
    text = settlement.export(statement=statement, fmt="csv")[0].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "核销单号" and len(rows) == 3 and {r[7] for r in rows[1:]} == {"是", "否"}

    assert code_of(settlement.decide, actor=admin, statement=statement, action="pay", reason="") == \
        "invalid_transition"
    settlement.decide(actor=admin, statement=statement, action="reject", reason="请核对撤销记录")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
        Redemption.statement_id == statement.id)) == 0
    again = settlement.submit(staff=shop.staff, month=last_month())
    assert again.id == statement.id and again.state == StatementState.submitted and again.net_total == 20_000
    settlement.decide(actor=admin, statement=again, action="approve", reason="")
    settlement.decide(actor=admin, statement=again, action="pay", reason="")
    assert again.state == StatementState.paid and again.paid_at is not None


def test_a_retry_after_the_scan_aged_out_still_gets_its_receipt_but_new_work_does_not(shop, app, monkeypatch):
    token = scan(shop)["scan_token"]
    first, _ = redeem(shop, 40_000, key="slow-network-1", token=token)
    # the clock the scan token is checked with (itsdangerous's hook) moves one second past the scan window
    later = int(time.time()) + app.config["VOUCHER_SCAN_MINUTES"] * 60 + 1
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    again, created = redeem(shop, 40_000, key="slow-network-1", token=token)
    assert not created and again.id == first.id
    assert code_of(redeem, shop, 40_000, key="slow-network-2", token=token) == "scan_expired"
    assert redemption.reversible(first) and first.receipt_no == f"HX{first.id:012d}"


def test_unread_notifications_count(client, make_user, auth):
    from backend.notifications import service as notifications

    user = make_user("entrepreneur")
    for n in range(3):
        notifications.notify(user_id=user.id, kind="test", title=f"消息{n}")
    assert client.get("/api/me/notifications/unread", headers=auth(user)).get_json() == {"unread": 3}
    client.post("/api/me/notifications/read", headers=auth(user), json={})
    assert client.get("/api/me/notifications/unread", headers=auth(user)).get_json() == {"unread": 0}


def test_a_page_of_redemptions_costs_the_same_few_queries_however_many_holders(client, auth, session):
    from sqlalchemy import event

    staff, provider = make_staff()
    batch = make_batch(co_pay_ratio_bp=10000)

    def add_holders(n):
        for i in range(n):
            holder = make_entrepreneur()
            claims.claim(user=holder, batch_id=batch.id)
            token = redemption.scan(staff=staff, code=pay_code(make_device(holder)))["scan_token"]
            voucher = db.session.scalar(sa.select(Voucher).where(Voucher.holder_id == holder.id))
            redemption.redeem(staff=staff, scan_token=token, voucher_id=voucher.id, bill_amount=1_000,
                              category="rent", idempotency_key=f"n-plus-one-{holder.id}")

    def queries_for_page() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = client.get("/api/provider/redemptions", headers=auth(staff))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200 and all(r["holder_name_masked"] for r in response.get_json())
        return len(seen)

    add_holders(2)
    few = queries_for_page()
    add_holders(6)
    assert queries_for_page() == few


def _holder_notices(shop) -> list[tuple[str, str, str, str]]:
    return [(n.kind, n.title, n.body, n.link) for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == shop.holder.id,
                                      Notification.kind.in_(["voucher_redeemed", "voucher_reversed"]))
        .order_by(Notification.id))]


def test_the_holder_is_told_of_a_redemption_once_and_of_its_reversal(shop):
    """A replay of the same key returns the receipt without a second notice; the reversal is told once."""
    token = scan(shop)["scan_token"]
    receipt, _ = redeem(shop, 40_000, key="told-once-1", token=token)
    redeem(shop, 40_000, key="told-once-1", token=token)
    name = shop.provider.name
    redeemed = ("voucher_redeemed", "创业券已核销",
                f"{name}核销“{shop.batch.name}”¥200.00（账单 ¥400.00，自付 ¥200.00）", "receipts")
    assert _holder_notices(shop) == [redeemed]
    redemption.reverse(staff=shop.staff, redemption_id=receipt.id, reason="金额录错")
    redemption.reverse(staff=shop.staff, redemption_id=receipt.id, reason="又点了一次")
    assert _holder_notices(shop) == [redeemed, ("voucher_reversed", "创业券核销已撤销",
                                                f"{name}撤销了一笔核销，¥200.00已退回“{shop.batch.name}”", "receipts")]


def test_a_redemption_costs_the_lock_the_write_and_the_notice(shop):
    """One locked read (voucher, batch, holder, provider), the write (one statement on PostgreSQL, the
    redemption, its entry and the balance apart on SQLite) and the holder's notice."""
    token = scan(shop)["scan_token"]
    db.session.flush()
    seen = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        receipt, created = redeem(shop, 40_000, key="counted-pay-1", token=token)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert created and receipt.amount == 20_000 and receipt.batch_name == shop.batch.name
    assert len(seen) == (3 if db.engine.dialect.name == "postgresql" else 5), seen
    assert "FOR UPDATE" in seen[0] or db.engine.dialect.name == "sqlite"
    assert shop.voucher.balance == 80_000  # the session's copy agrees without a reload
