"""Many threads against a real PostgreSQL database, through the whole request path (each thread
its own client, connection and transaction): flash claims, a hot voucher, retries racing each
other, reversals racing redemptions and settlement. Afterwards the ledger invariant must hold."""
from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from backend import create_app
from backend.core.db import utcnow
from backend.extensions import db
from backend.vouchers import claims, ledger
from backend.core.localtime import LOCAL
from backend.accounts.models import User
from backend.vouchers.models import PayScan, Redemption, SettlementStatement, Voucher, VoucherBatch
from tests.conftest import PG_ADMIN_URL, TEST_SECRETS
from tests.factories import (make_batch, make_device, make_entrepreneur, make_staff, pay_code)

pytestmark = pytest.mark.postgres_only
THREADS = 32


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    """An app on a database of its own whose rows are really committed."""
    name = f"cyql_conc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    previous = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(tmp_path_factory.mktemp("conc-instance"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
                      "RATELIMIT_ENABLED": False, "VOUCHER_REVERSAL_HOURS": 24 * 90,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 4, "max_overflow": 8},
                      **TEST_SECRETS})
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    if previous is not None:
        os.environ["INSTANCE_PATH"] = previous
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def committed(app, build):
    """Run ``build`` in an app context and commit what it made."""
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def token(app, user_id: int) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_access_token(identity=str(user_id))}"}


def hammer(app, calls):
    """Run (method, url, json, headers) calls from THREADS threads at once; return the answers."""
    def one(call):
        method, url, body, headers = call
        response = app.test_client().open(url, method=method, json=body, headers=headers)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, calls))


def invariants(app) -> list[str]:
    with app.app_context():
        return ledger.check_invariants()


def test_a_flash_crowd_gets_exactly_the_cap(pg_app):
    batch_id, people = committed(pg_app, lambda: (make_batch(total_count=50, face_value=100_000).id,
                                                  [make_entrepreneur().id for _ in range(300)]))
    answers = hammer(pg_app, [("POST", f"/api/voucher-batches/{batch_id}/claim", {}, token(pg_app, p))
                              for p in people])
    codes = sorted({(s, (b or {}).get("code")) for s, b in answers})
    assert sum(1 for s, _ in answers if s == 201) == 50, codes
    assert {(s, b["code"]) for s, b in answers if s != 201} == {(409, "sold_out")}
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.batch_id == batch_id)) == 50
    assert invariants(pg_app) == []


def test_one_controller_never_exceeds_the_limit_however_many_tries(pg_app):
    def build():
        batch = make_batch(total_count=1000, per_person_limit=2)
        owner = make_entrepreneur()
        colleagues = [make_entrepreneur(credit_code=owner.profile.credit_code) for _ in range(5)]
        return batch.id, [owner.id] + [c.id for c in colleagues]

    batch_id, firm = committed(pg_app, build)
    calls = [("POST", f"/api/voucher-batches/{batch_id}/claim", {}, token(pg_app, firm[i % len(firm)]))
             for i in range(60)]
    answers = hammer(pg_app, calls)
    assert sum(1 for s, _ in answers if s == 201) == 2
    assert {b["code"] for s, b in answers if s != 201} == {"claim_limit_reached"}
    assert invariants(pg_app) == []


class Hot:
    """A ¥1,000 voucher paying 100% of any bill, its holder's phone, and a staff member who scans it."""

    def __init__(self, app, staff_id, voucher_id, phone):
        self.app, self.voucher_id, self.phone = app, voucher_id, phone
        self.headers = token(app, staff_id)

    def scan(self, code=None) -> str:
        """A new scan of a new pay code (a pay code pays once): its scan token."""
        answer = self.app.test_client().post("/api/provider/scan", json={"code": code or pay_code(self.phone)},
                                             headers=self.headers)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["scan_token"]


@pytest.mark.parametrize("per_person_limit", [1, 3])
def test_one_claim_key_sent_many_times_at_once_claims_once(pg_app, per_person_limit):
    batch_id, person = committed(pg_app, lambda: (make_batch(total_count=100, per_person_limit=per_person_limit).id,
                                                  make_entrepreneur().id))
    call = ("POST", f"/api/voucher-batches/{batch_id}/claim", {"idempotency_key": "flaky-network-tap"},
            token(pg_app, person))
    answers = hammer(pg_app, [call] * 20)
    assert sorted(s for s, _ in answers) == [200] * 19 + [201], answers
    assert len({b["id"] for _, b in answers}) == 1 and len({str(sorted(b.items())) for _, b in answers}) == 1
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.holder_id == person)) == 1
        assert claims.held(user=db.session.get(User, person), batch=db.session.get(VoucherBatch, batch_id)) == 1
    assert invariants(pg_app) == []


@pytest.fixture
def hot_voucher(pg_app):
    def build():
        staff, provider = make_staff()
        holder = make_entrepreneur()
        batch = make_batch(face_value=100_000, co_pay_ratio_bp=10000, min_bill=0, total_count=10)
        voucher, _ = claims.claim(user=holder, batch_id=batch.id)
        phone = make_device(holder)
        phone.pk = phone.id  # still readable once the session is gone
        return staff.id, voucher.id, phone

    return Hot(pg_app, *committed(pg_app, build))


def redeem_call(hot, bill, key, scan_token=None):
    """A redemption on its own new scan, unless ``scan_token`` names one."""
    return ("POST", "/api/provider/redemptions", {"scan_token": scan_token or hot.scan(), "voucher_id": hot.voucher_id,
                                                  "bill_amount": bill, "category": "rent", "idempotency_key": key},
            hot.headers)


def post(app, call) -> dict:
    method, url, body, headers = call
    response = app.test_client().open(url, method=method, json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def balance(app, voucher_id) -> int:
    with app.app_context():
        return db.session.get(Voucher, voucher_id).balance


def test_a_hot_voucher_is_never_overspent(pg_app, hot_voucher):
    answers = hammer(pg_app, [redeem_call(hot_voucher, 10_000, f"hot-key-{i:04d}") for i in range(40)])
    assert sum(1 for s, _ in answers if s == 201) == 10
    assert {b["code"] for s, b in answers if s != 201} == {"insufficient_balance"}
    assert balance(pg_app, hot_voucher.voucher_id) == 0
    assert invariants(pg_app) == []


def test_one_scan_pays_once_however_many_redemptions_race_on_it(pg_app, hot_voucher):
    scan_token = hot_voucher.scan()
    answers = hammer(pg_app, [redeem_call(hot_voucher, 1_000, f"one-scan-{i}", scan_token) for i in range(24)])
    assert sum(1 for s, _ in answers if s == 201) == 1, answers
    assert {(s, b["code"]) for s, b in answers if s != 201} == {(409, "scan_used")}
    assert balance(pg_app, hot_voucher.voucher_id) == 99_000
    assert invariants(pg_app) == []


def test_one_pay_code_scanned_at_once_by_many_cashiers_is_taken_once(pg_app, hot_voucher):
    def build():
        return [make_staff()[0].id for _ in range(7)]  # staff of seven other providers

    cashiers = [hot_voucher.headers] + [token(pg_app, s) for s in committed(pg_app, build)]
    code = pay_code(hot_voucher.phone)
    answers = hammer(pg_app, [("POST", "/api/provider/scan", {"code": code}, cashiers[i % len(cashiers)])
                              for i in range(32)])
    assert sum(1 for s, _ in answers if s == 200) == 1, answers
    assert {(s, b["code"]) for s, b in answers if s != 200} == {(409, "pay_code_used")}
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PayScan)
                                 .where(PayScan.device_id == hot_voucher.phone.pk)) == 1


def test_the_same_request_retried_at_once_from_many_threads_acts_once(pg_app, hot_voucher):
    answers = hammer(pg_app, [redeem_call(hot_voucher, 25_000, "one-key-for-all")] * 24)
    assert sorted({s for s, _ in answers}) == [200, 201] and sum(1 for s, _ in answers if s == 201) == 1
    assert len({b["id"] for _, b in answers}) == 1
    assert balance(pg_app, hot_voucher.voucher_id) == 75_000
    assert invariants(pg_app) == []


def test_reversals_racing_redemptions_keep_the_ledger_whole(pg_app, hot_voucher):
    first = [post(pg_app, redeem_call(hot_voucher, 5_000, f"pre-redeem-{i}"))["id"] for i in range(10)]
    reversals = [("POST", f"/api/provider/redemptions/{rid}/reverse", {"reason": "并发撤销测试"}, hot_voucher.headers)
                 for rid in first] * 2  # each reversal twice: the second must act as a no-op
    redemptions = [redeem_call(hot_voucher, 5_000, f"race-key-{i}") for i in range(30)]
    calls = [c for pair in zip(redemptions, reversals + redemptions[len(reversals):]) for c in pair]
    answers = hammer(pg_app, calls)
    assert all(s in (200, 201) or b["code"] == "insufficient_balance" for s, b in answers), answers
    with pg_app.app_context():
        live = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Redemption.amount), 0)).where(
            Redemption.voucher_id == hot_voucher.voucher_id, Redemption.reversed_at.is_(None)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
            Redemption.id.in_(first), Redemption.reversed_at.is_(None))) == 0
    assert balance(pg_app, hot_voucher.voucher_id) == 100_000 - live >= 0
    assert invariants(pg_app) == []


def test_a_statement_and_reversals_at_the_same_moment_agree(pg_app, hot_voucher):
    ids = [post(pg_app, redeem_call(hot_voucher, 4_000, f"old-month-{i}"))["id"] for i in range(20)]
    last_month_day = utcnow().astimezone(LOCAL).replace(day=1, hour=12) - timedelta(days=3)
    month = last_month_day.strftime("%Y-%m")
    with pg_app.app_context():
        db.session.execute(sa.update(Redemption).where(Redemption.id.in_(ids)).values(created_at=last_month_day))
        db.session.commit()
    calls = [("POST", f"/api/provider/redemptions/{rid}/reverse", {"reason": "结算同时撤销"}, hot_voucher.headers)
             for rid in ids]
    calls.insert(len(calls) // 2, ("POST", "/api/provider/statements", {"month": month}, hot_voucher.headers))
    answers = hammer(pg_app, calls)
    statement_answer = answers[len(ids) // 2]
    assert statement_answer[0] == 201, statement_answer
    reversed_ok = sum(1 for s, b in answers if s == 200)
    refused = {b["code"] for s, b in answers if s >= 400}
    assert refused <= {"already_settled"}
    with pg_app.app_context():
        statement = db.session.get(SettlementStatement, statement_answer[1]["id"])
        rows = db.session.scalars(sa.select(Redemption).where(Redemption.statement_id == statement.id)).all()
        reversed_inside = sum(r.amount for r in rows if r.reversed_at is not None)
        assert statement.redeemed_total == sum(r.amount for r in rows)
        assert statement.reversed_total == reversed_inside  # what it says is what it holds
        # every redemption of the month is in the statement: reversed before it (netted out) or frozen after
        assert sorted(r.id for r in rows) == sorted(ids)
        assert reversed_ok == sum(1 for r in rows if r.reversed_at is not None)
    assert invariants(pg_app) == []
