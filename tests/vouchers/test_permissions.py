"""Every voucher, provider, upload and notification endpoint × every role + anonymous: the exact status
each caller gets with a request that reaches the handler (tests/matrix.py); one who may not gets exactly
401 unauthorized or 403 forbidden."""
import io

import pytest

from backend.accounts.enums import Role
from tests.matrix import app_rules, assert_permission, check_statuses, fill, row_id, table_rules
from tests.vouchers.test_uploads import png_bytes

ROLES = [r.value for r in Role]
ANYONE = {"anonymous", *ROLES}
LOGGED_IN = set(ROLES)
ADMIN = {"admin"}
ENTREPRENEUR = {"entrepreneur"}
STAFF = {"provider_staff"}

BATCH = {"name": "权限测试批次", "district": "370811", "face_value": 10000, "total_count": 5,
         "claim_starts_at": "2026-01-01T00:00:00+08:00", "claim_ends_at": "2030-01-01T00:00:00+08:00",
         "valid_days": 30, "categories": ["rent"]}
REDEEM = {"scan_token": "{scan_token}", "voucher_id": "{voucher}", "bill_amount": 100, "category": "rent"}
PROVIDER = {"name": "权限测试服务机构", "credit_code": "{credit_code}", "categories": ["tax"], "district": "370811",
            "address": "任城区权限路 1 号", "contact_name": "联系人", "contact_phone": "13912345678"}
NOT_STAFF = ("entrepreneur", "station_staff", "organiser", "admin", "bank_staff")

# method, path, json body, who may call it, the status they get
ENDPOINTS = [
    ("GET", "/api/voucher-batches", None, ANYONE, 200),
    ("GET", "/api/voucher-batches/{batch}", None, ANYONE, 200),
    ("POST", "/api/voucher-batches/{batch}/claim", {}, ENTREPRENEUR, 201),
    ("POST", "/api/voucher-batches/{open_apply_batch}/applications", {"statement": "权限测试申请说明"}, ENTREPRENEUR, 201),
    ("GET", "/api/me/vouchers", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/vouchers/{voucher}", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/receipts", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/pay-code", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/voucher-applications", None, ENTREPRENEUR, 200),
    ("POST", "/api/me/voucher-applications/{application}/withdraw", None, ENTREPRENEUR, 200),
    ("GET", "/api/me/notifications", None, LOGGED_IN, 200),
    ("GET", "/api/me/notifications/unread", None, LOGGED_IN, 200),
    ("POST", "/api/me/notifications/read", {}, LOGGED_IN, 200),
    ("POST", "/api/uploads", "file", LOGGED_IN, 201),
    ("GET", "/api/uploads/{upload}", None, LOGGED_IN, 200),
    ("GET", "/api/providers", None, ANYONE, 200),
    ("POST", "/api/providers", PROVIDER, LOGGED_IN,
     {"provider_staff": (409, "already_member"), **dict.fromkeys(NOT_STAFF, 201)}),
    ("GET", "/api/providers/{provider}", None, ANYONE, 200),
    ("POST", "/api/providers/{provider}/objections", {"text": "权限测试异议内容"}, LOGGED_IN, 201),
    ("GET", "/api/provider", None, LOGGED_IN,
     {"provider_staff": 200, **dict.fromkeys(NOT_STAFF, (409, "no_provider"))}),
    ("POST", "/api/provider/scan", {"code": "{pay_code}"}, STAFF, 200),
    ("POST", "/api/provider/quote", REDEEM, STAFF, 200),
    ("GET", "/api/provider/redemptions", None, STAFF, 200),
    ("POST", "/api/provider/redemptions", {**REDEEM, "idempotency_key": "perm-test-key"}, STAFF, 201),
    ("GET", "/api/provider/redemptions/totals", None, STAFF, 200),
    ("POST", "/api/provider/redemptions/{redemption}/reverse", {"reason": "权限测试"}, STAFF, 200),
    ("GET", "/api/provider/statements", None, STAFF, 200),
    ("POST", "/api/provider/statements", {"month": "{closed_month}"}, STAFF, 201),
    ("GET", "/api/provider/statements/{statement}/export?format=csv", None, STAFF, 200),
    ("GET", "/api/admin/voucher-batches", None, ADMIN, 200),
    ("POST", "/api/admin/voucher-batches", BATCH, ADMIN, 201),
    ("GET", "/api/admin/voucher-batches/{batch}", None, ADMIN, 200),
    ("PATCH", "/api/admin/voucher-batches/{batch}", {"name": "改名批次"}, ADMIN, 200),
    ("POST", "/api/admin/voucher-batches/{batch}/state", {"state": "paused"}, ADMIN, 200),
    ("GET", "/api/admin/voucher-applications", None, ADMIN, 200),
    ("POST", "/api/admin/voucher-applications/{application}/decision", {"approve": False, "reason": "不符合"}, ADMIN, 200),
    ("GET", "/api/admin/providers", None, ADMIN, 200),
    ("POST", "/api/admin/providers/{provider}/decision", {"action": "suspend", "reason": "权限测试"}, ADMIN, 200),
    ("GET", "/api/admin/providers/{provider}/objections", None, ADMIN, 200),
    ("GET", "/api/admin/statements", None, ADMIN, 200),
    ("POST", "/api/admin/statements/{statement}/decision", {"action": "approve"}, ADMIN, 200),
    ("GET", "/api/admin/statements/{statement}/export?format=xlsx", None, ADMIN, 200),
]
PLACEHOLDERS = {"{batch}": "batch_id", "{open_apply_batch}": "batch_id", "{voucher}": "voucher_id",
                "{application}": "application_id", "{upload}": "upload_id", "{provider}": "provider_id",
                "{redemption}": "redemption_id", "{statement}": "statement_id"}


def world(caller):
    """Rows each placeholder points at; the caller owns what an owner would."""
    from datetime import timedelta

    from backend.core import uploads
    from backend.core.db import utcnow
    from backend.core.localtime import LOCAL, month_bounds
    from backend.extensions import db
    from backend.vouchers import claims, redemption
    from backend.vouchers.enums import BatchMode
    from backend.vouchers.models import Redemption, SettlementStatement
    from tests.factories import (complete_profile, make_batch, make_device, make_entrepreneur, make_provider,
                                 make_staff, pay_code, unique_credit_code)

    holder = complete_profile(caller) if caller is not None and caller.has_role("entrepreneur") else make_entrepreneur()
    batch = make_batch(per_person_limit=3)
    apply_batch = make_batch(mode=BatchMode.apply)
    voucher, _ = claims.claim(user=holder, batch_id=batch.id)
    application = claims.apply(user=holder, batch_id=apply_batch.id, statement="权限测试申请", upload_ids=[])
    if caller is not None and caller.has_role("provider_staff"):
        staff, provider = caller, make_provider(staff=caller)
    else:
        staff, provider = make_staff()
    notice = make_provider(listed=False)
    scan = redemption.scan(staff=staff, code=pay_code(make_device(holder)))
    receipt, _ = redemption.redeem(staff=staff, scan_token=scan["scan_token"], voucher_id=voucher.id,
                                   bill_amount=20_000, category="rent", idempotency_key="perm-world-1")
    statement = SettlementStatement(provider_id=provider.id, month="2026-01", submitted_at=utcnow())
    db.session.add(statement)
    db.session.flush()
    db.session.add(Redemption(voucher_id=voucher.id, provider_id=provider.id, staff_id=staff.id, holder_id=holder.id,
                              category="rent", bill_amount=100, amount=50, idempotency_key="perm-settled",
                              request_hash="x", statement_id=statement.id))
    # last month, closed, has one redemption not yet in a statement
    closed_month = (utcnow().astimezone(LOCAL).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    db.session.add(Redemption(voucher_id=voucher.id, provider_id=provider.id, staff_id=staff.id, holder_id=holder.id,
                              category="rent", bill_amount=100, amount=50, idempotency_key="perm-last-month",
                              request_hash="x", created_at=month_bounds(closed_month)[0] + timedelta(days=1)))
    upload = uploads.store(owner=caller or holder, data=png_bytes(), filename="a.png")
    return {"batch": batch.id, "open_apply_batch": make_batch(mode=BatchMode.apply).id, "voucher": voucher.id,
            "application": application.id, "upload": upload.id, "provider": notice.id, "redemption": receipt.id,
            "statement": statement.id, "closed_month": closed_month, "credit_code": unique_credit_code(),
            "pay_code": pay_code(make_device(holder)),
            "scan_token": redemption.scan(staff=staff, code=pay_code(make_device(holder)))["scan_token"]}


def test_every_row_states_a_status_for_each_caller_it_lets_in():
    check_statuses(ENDPOINTS, {"anonymous", *ROLES})


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
@pytest.mark.parametrize("method,path,body,allowed,status", ENDPOINTS, ids=[row_id(r) for r in ENDPOINTS])
def test_permission(client, make_user, auth, who, method, path, body, allowed, status):
    caller = None if who == "anonymous" else make_user(who)
    ids = world(caller)
    url = path.format(**ids)
    headers = {} if caller is None else auth(caller)
    if body == "file":
        response = client.post(url, headers=headers, data={"file": (io.BytesIO(png_bytes()), "p.png")},
                               content_type="multipart/form-data")
    else:
        response = client.open(url, method=method, json=fill(body, ids), headers=headers)
    assert_permission(response, who, allowed, status)


def test_every_voucher_route_is_in_the_table(app):
    table = table_rules(ENDPOINTS, PLACEHOLDERS)
    prefixes = ("/api/voucher-batches", "/api/me/vouchers", "/api/me/receipts", "/api/me/pay-code", "/api/me/voucher-applications",
                "/api/me/notifications", "/api/uploads", "/api/providers", "/api/provider", "/api/admin/voucher",
                "/api/admin/providers", "/api/admin/statements")
    routes = app_rules(app, prefixes)
    assert routes - table == set()
    assert table - routes == set()
