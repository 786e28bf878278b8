"""The loans in the programme dashboard: disbursed amount against the plan's 创业担保贷款 target, and
the steps (consultations, pre-checks passed, referrals, disbursements, subsidy paid) by region and
month, in the API and the workbook alike."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

from openpyxl import load_workbook

from backend.extensions import db
from backend.loans.models import LoanCase, LoanEvent, SubsidyLine, SubsidyStatement
from backend.programme import seed as targets
from tests.factories import make_entrepreneur, make_place
from tests.loans.test_flow import WAN, world  # noqa: F401 (fixture)

NOW = datetime(2026, 6, 30, 4, 0, tzinfo=timezone.utc)


def case_at(w, station, *, steps, lent_on=None, amount=20 * WAN):
    case = LoanCase(applicant_id=make_entrepreneur().id, station_id=station.id, region_code=station.district,
                    state="repaying" if lent_on else "consultation", borrower_type="individual",
                    identity_category="other", amount=amount, approved_amount=amount if lent_on else None,
                    disbursed_on=lent_on, bank_id=w["bank"].id)
    db.session.add(case)
    db.session.flush()
    for step, when in steps:
        db.session.add(LoanEvent(case_id=case.id, step=step, state="consultation", at=when, actor_role="station"))
    db.session.flush()
    return case


def test_loans_in_the_dashboard_and_its_workbook(client, auth, world, monkeypatch):
    monkeypatch.setattr("backend.programme.routes.utcnow", lambda: NOW)
    targets.seed()
    march, may = datetime(2026, 3, 5, 2, tzinfo=timezone.utc), datetime(2026, 5, 9, 2, tzinfo=timezone.utc)
    lent = case_at(world, world["station"], steps=[("open", march), ("precheck", march), ("refer", may),
                                                   ("disburse", may)], lent_on=date(2026, 5, 9))
    case_at(world, world["station"], steps=[("open", may)])
    qufu = make_place(name="创贷之家·曲阜测试驿站", district="370881")
    case_at(world, qufu, steps=[("open", may), ("disburse", may)], lent_on=date(2026, 5, 10), amount=30 * WAN)
    case_at(world, world["station"], steps=[("open", datetime(2025, 12, 1, tzinfo=timezone.utc))])  # last year
    statement = SubsidyStatement(bank_id=world["bank"].id, year=2026, quarter=1, state="paid", interest=5000,
                                 subsidy=3000, paid_at=may)
    statement.lines.append(SubsidyLine(case_id=lent.id, interest=5000, computed_interest=5000, subsidy=3000, days=90))
    db.session.add(statement)
    db.session.flush()
    report = client.get("/api/admin/dashboard?year=2026&region=370800", headers=auth(world["admin"])).get_json()
    loans = next(s for s in report["sections"] if s["key"] == "loans")
    assert loans["money"] is True and loans["actual"] == 50 * WAN and loans["target"] == 12 * 10000 * 10000 * 100
    assert loans["by_month"][4] == 50 * WAN and sum(loans["by_month"]) == 50 * WAN
    steps = {s["key"]: s for s in loans["steps"]}
    assert {k: s["total"] for k, s in steps.items()} == {"consultations": 3, "prechecks_passed": 1, "referrals": 1,
                                                        "disbursed": 2, "subsidy_paid": 3000}
    assert steps["consultations"]["by_month"][2] == 1 and steps["consultations"]["by_month"][4] == 2
    rows = {r["name"]: r for r in loans["by_region"]}
    assert rows["任城区"]["actual"] == 20 * WAN and rows["任城区"]["steps"]["consultations"] == 2
    assert rows["曲阜市"]["actual"] == 30 * WAN and rows["曲阜市"]["steps"]["subsidy_paid"] == 0
    # at district level the children are the stations
    district = client.get("/api/admin/dashboard?year=2026&region=370811", headers=auth(world["admin"])).get_json()
    by_station = next(s for s in district["sections"] if s["key"] == "loans")["by_region"]
    assert [(r["name"], r["actual"]) for r in by_station] == [("创贷之家·流程测试驿站", 20 * WAN)]
    book = client.get("/api/admin/dashboard.xlsx?year=2026&region=370800", headers=auth(world["admin"]))
    sheet = load_workbook(io.BytesIO(book.data))["创业担保贷款发放"]
    values = [row[:8] for row in sheet.iter_rows(values_only=True)]
    assert ("任城区", 200000.0, None, 2, 1, 1, 1, 30.0) in values
