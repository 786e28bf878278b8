"""The quarterly interest statement: a bank hands in the interest, the subsidy is computed per loan by
the rule in force, an administrator approves it and marks it paid."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import sqlalchemy as sa
from openpyxl import load_workbook

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.extensions import db
from backend.loans.models import Bank, LoanCase, LoanPause, LoanRateChange
from tests.factories import make_entrepreneur, make_user
from tests.loans.test_flow import WAN, world  # noqa: F401 (fixture)

NOW = datetime(2026, 4, 10, 2, 0, tzinfo=timezone.utc)  # 2026 Q1 is over


def lent(w, *, amount=30 * WAN, rate=345, on=date(2025, 12, 1), pauses=()):
    case = LoanCase(applicant_id=make_entrepreneur().id, station_id=w["station"].id, region_code="370811",
                    bank_id=w["bank"].id, state="repaying", borrower_type="individual", identity_category="graduate",
                    amount=amount, term_months=24, approved_amount=amount, rate_bp=rate, lpr_bp=300,
                    loan_term_months=24, disbursed_on=on, matures_on=date(2027, 12, 1), outstanding=amount)
    db.session.add(case)
    db.session.flush()
    db.session.add(LoanRateChange(case_id=case.id, effective_from=on, rate_bp=rate))
    for start, end in pauses:
        db.session.add(LoanPause(case_id=case.id, kind="overdue", start=start, end=end))
    db.session.flush()
    return case


def test_the_subsidy_per_loan_by_the_rule_then_approved_and_paid(client, auth, world, monkeypatch):
    monkeypatch.setattr("backend.loans.flow.utcnow", lambda: NOW)
    plain = lent(world)
    late = lent(world, pauses=[(date(2026, 2, 1), date(2026, 3, 3))])  # 30 days overdue: no subsidy for them
    answer = client.post("/api/loans/statements", headers=auth(world["officer"]), json={
        "year": 2026, "quarter": 1, "lines": [{"case_id": plain.id, "interest": 258750},
                                              {"case_id": late.id, "interest": 258750}]})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    lines = {line["case_id"]: line for line in body["lines"]}
    # Shandong: the borrower pays at most LPR − 150 bp = 1.50 %, finance the rest of 3.45 %: 1.95 % on ¥300,000
    assert lines[plain.id]["subsidy"] == 30 * WAN * 195 * 90 // (10000 * 360) == 146250
    assert lines[plain.id]["computed_interest"] == 258750 and lines[plain.id]["days"] == 90
    assert lines[late.id]["subsidy"] == 30 * WAN * 195 * 60 // (10000 * 360) and lines[late.id]["days"] == 60
    assert body["subsidy"] == 146250 + 97500 and body["state"] == "submitted" and body["bank_name"] == "济宁银行"
    sid = body["id"]
    # a second statement for the same quarter, and a quarter not yet over, are refused
    again = client.post("/api/loans/statements", headers=auth(world["officer"]),
                        json={"year": 2026, "quarter": 1, "lines": [{"case_id": plain.id, "interest": 1}]})
    assert again.status_code == 409 and again.get_json()["code"] == "statement_exists"
    running = client.post("/api/loans/statements", headers=auth(world["officer"]),
                          json={"year": 2026, "quarter": 2, "lines": [{"case_id": plain.id, "interest": 1}]})
    assert running.get_json()["code"] == "quarter_not_over"
    # paying before approving is refused; approve, then pay
    assert client.post(f"/api/loans/statements/{sid}/pay", headers=auth(world["admin"])).get_json()["code"] == \
        "statement_state_changed"
    assert client.post(f"/api/loans/statements/{sid}/approve", headers=auth(world["admin"])).get_json()["state"] == \
        "approved"
    paid = client.post(f"/api/loans/statements/{sid}/pay", headers=auth(world["admin"])).get_json()
    assert paid["state"] == "paid" and paid["paid_at"]
    book = client.get(f"/api/loans/statements/{sid}.xlsx", headers=auth(world["admin"]))
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.data)).active
    values = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "合计"]
    assert values and values[0][4] == (146250 + 97500) / 100


def test_the_subsidy_never_exceeds_the_reported_interest_and_other_banks_see_nothing(client, auth, world, monkeypatch):
    monkeypatch.setattr("backend.loans.flow.utcnow", lambda: NOW)
    case = lent(world)
    answer = client.post("/api/loans/statements", headers=auth(world["officer"]),
                         json={"year": 2026, "quarter": 1, "lines": [{"case_id": case.id, "interest": 1000_00}]})
    line = answer.get_json()["lines"][0]
    assert line["subsidy"] == 1000_00 and "以申报利息为限" in line["note"] and "不符" in line["note"]
    other_bank = db.session.scalar(sa.select(Bank).where(Bank.name == "中国农业银行济宁分行"))
    stranger = accounts.create_user(phone="19911110002", name="外行", roles=())
    accounts.grant_role(actor=None, user=stranger, role=Role.bank_staff, bank_id=other_bank.id)
    sid = answer.get_json()["id"]
    assert client.get("/api/loans/statements", headers=auth(stranger)).get_json() == []
    assert client.get(f"/api/loans/statements/{sid}", headers=auth(stranger)).status_code == 404
    foreign = client.post("/api/loans/statements", headers=auth(stranger),
                          json={"year": 2026, "quarter": 1, "lines": [{"case_id": case.id, "interest": 100}]})
    assert foreign.status_code == 422
    zoucheng = make_user(Role.admin)
    zoucheng.grants[0].region_code = "370883"
    db.session.flush()
    assert client.get("/api/loans/statements", headers=auth(zoucheng)).get_json() == []
