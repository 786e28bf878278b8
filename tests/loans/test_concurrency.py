"""Handlers acting on one loan case at once, on a real PostgreSQL database, many threads through the
whole request path (each its own client, connection and transaction). A step locks the case and moves
it with a guarded UPDATE (backend/loans/flow.py): whoever comes second finds the state the first left
and is answered from it — 409 loan_state_changed when the step no longer applies — and the timeline
holds exactly the steps that were answered 200."""
from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.loans import flow
from backend.loans.models import LoanCase, LoanEvent, LoanRepayment
from tests.factories import make_loan_case, make_user
from tests.vouchers.test_concurrency import committed, hammer, pg_app, token  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres_only
WAN = 10000 * 100  # ¥10,000 in fen


def state_and_steps(app, case_id):
    """The case's state and its timeline's steps after the opening and the world's own steps."""
    with app.app_context():
        case = db.session.get(LoanCase, case_id)
        steps = db.session.scalars(sa.select(LoanEvent.step).where(LoanEvent.case_id == case_id)
                                   .order_by(LoanEvent.id)).all()
        return case.state.value, steps


def test_eight_administrators_approving_one_case_approve_it_once(pg_app):
    def build():
        case = make_loan_case("review")
        return case.id, [make_user("admin").id for _ in range(8)]

    case_id, admins = committed(pg_app, build)
    answers = hammer(pg_app, [("POST", f"/api/loans/cases/{case_id}/approve", {"remark": ""}, token(pg_app, a))
                              for a in admins])
    assert sorted(status for status, _ in answers) == [200] + [409] * 7, answers
    assert {body["code"] for status, body in answers if status == 409} == {"loan_state_changed"}
    state, steps = state_and_steps(pg_app, case_id)
    assert state == "notice"
    assert steps.count("approve") == 1 and steps[-1] == "approve"
    winner = next(body for status, body in answers if status == 200)
    assert winner["state"] == "notice" and [e["step"] for e in winner["timeline"]].count("approve") == 1


def test_an_administrator_rejecting_while_another_approves(pg_app):
    """Twelve cases, on each an approval and a rejection sent at once. Whichever lands first wins its
    move; the other is answered from the state it leaves: a rejection after the approval still
    applies (an administrator may reject during the notice period), an approval after the rejection
    is 409. Either way the case ends rejected, and the timeline holds exactly the steps answered 200,
    in the order they were taken."""
    def build():
        return [make_loan_case("review").id for _ in range(12)], make_user("admin").id, make_user("admin").id

    cases, approver, rejecter = committed(pg_app, build)
    calls = []
    for case_id in cases:
        calls += [("POST", f"/api/loans/cases/{case_id}/approve", {"remark": ""}, token(pg_app, approver)),
                  ("POST", f"/api/loans/cases/{case_id}/reject", {"reason": "材料与实际经营不符"}, token(pg_app, rejecter))]
    answers = hammer(pg_app, calls)
    outcomes = Counter()
    for case_id, (approved, rejected) in zip(cases, zip(answers[0::2], answers[1::2])):
        assert rejected[0] == 200, rejected
        state, steps = state_and_steps(pg_app, case_id)
        assert state == "rejected"
        if approved[0] == 200:
            assert steps[-2:] == ["approve", "reject"] and steps.count("approve") == 1, steps
            outcomes["approved first"] += 1
        else:
            assert (approved[0], approved[1]["code"]) == (409, "loan_state_changed"), approved
            assert steps[-1] == "reject" and "approve" not in steps, steps
            outcomes["rejected first"] += 1
        assert steps.count("reject") == 1
    assert sum(outcomes.values()) == 12


def _loan(app, amount: int):
    """A disbursed loan of ``amount`` and its bank's officer."""
    def build():
        from backend.loans import service

        case = make_loan_case("diligence")
        officer = make_user("bank_staff", bank=case.bank)
        service.disburse(user=officer, id=case.id, data=dict(approved_amount=amount, rate_bp=345, lpr_bp=300,
                                                             term_months=24, disbursed_on=flow.today()))
        return case.id, officer.id

    return committed(app, build)


def _repayments(app, case_id):
    with app.app_context():
        case = db.session.get(LoanCase, case_id)
        rows = db.session.scalars(sa.select(LoanRepayment.principal).where(LoanRepayment.case_id == case_id)).all()
        steps = db.session.scalars(sa.select(LoanEvent.step).where(LoanEvent.case_id == case_id)).all()
        return case.outstanding, case.state.value, sorted(rows), steps


def test_ten_repayments_at_once_each_counted_once_and_the_loan_closed_once(pg_app):
    case_id, officer = _loan(pg_app, 20 * WAN)
    with pg_app.app_context():
        body = {"paid_on": flow.today().isoformat(), "principal": 4 * WAN, "interest": 0}
    answers = hammer(pg_app, [("POST", f"/api/loans/cases/{case_id}/repayments", body, token(pg_app, officer))] * 10)
    assert sorted(status for status, _ in answers) == [200] * 5 + [409] * 5, answers
    assert {body["code"] for status, body in answers if status == 409} == {"loan_state_changed"}
    outstanding, state, rows, steps = _repayments(pg_app, case_id)
    assert (outstanding, state, rows) == (0, "closed", [4 * WAN] * 5)
    assert steps.count("close") == 1 and steps.count("repay") == 4


def test_repayments_of_different_sizes_at_once_never_take_the_loan_below_zero(pg_app):
    """Ten repayments adding up to more than the loan: those accepted have their rows and the
    outstanding is the loan minus them; each refused one was larger than what was left when its turn
    came (so larger than what is left now), or came after the loan was closed."""
    case_id, officer = _loan(pg_app, 20 * WAN)
    amounts = [5 * WAN, 5 * WAN, 3 * WAN, 3 * WAN, 2 * WAN, 2 * WAN, 4 * WAN, 4 * WAN, 1 * WAN, 1 * WAN]
    with pg_app.app_context():
        today = flow.today().isoformat()
    answers = hammer(pg_app, [("POST", f"/api/loans/cases/{case_id}/repayments",
                               {"paid_on": today, "principal": amount, "interest": 10_00}, token(pg_app, officer))
                              for amount in amounts])
    accepted = sorted(amount for amount, (status, _) in zip(amounts, answers) if status == 200)
    refused = [(amount, status, body["code"]) for amount, (status, body) in zip(amounts, answers) if status != 200]
    outstanding, state, rows, steps = _repayments(pg_app, case_id)
    assert rows == accepted and outstanding == 20 * WAN - sum(accepted) >= 0
    assert state == ("closed" if outstanding == 0 else "repaying")
    assert steps.count("close") == (1 if outstanding == 0 else 0)
    assert steps.count("repay") + steps.count("close") == len(accepted)
    for amount, status, code in refused:
        assert (status, code) in ((422, "validation_error"), (409, "loan_state_changed")), (amount, status, code)
        assert status == 409 or amount > outstanding
        assert status == 422 or outstanding == 0


def test_the_applicant_withdrawing_while_the_station_submits(pg_app):
    """Twelve cases, on each the applicant's withdrawal and the 专员's submission sent at once. A
    withdrawal first leaves nothing to submit (409); a submission first is still withdrawn (an
    applicant may withdraw while the office reviews). The case always ends withdrawn, never in review,
    and the timeline holds exactly the steps answered 200."""
    def build():
        from tests.factories import make_place

        station = make_place()
        staff = make_user("station_staff", place=station)
        cases = [make_loan_case("precheck", station=station, station_staff=staff) for _ in range(12)]
        return [(c.id, c.applicant_id) for c in cases], staff.id

    cases, staff = committed(pg_app, build)
    calls = []
    for case_id, applicant in cases:
        calls += [("POST", f"/api/loans/cases/{case_id}/withdraw", {"reason": "家里另有安排"}, token(pg_app, applicant)),
                  ("POST", f"/api/loans/cases/{case_id}/submit", {}, token(pg_app, staff))]
    answers = hammer(pg_app, calls)
    for (case_id, _), withdrawn, submitted in zip(cases, answers[0::2], answers[1::2]):
        assert withdrawn[0] == 200, withdrawn
        state, steps = state_and_steps(pg_app, case_id)
        assert state == "withdrawn" and steps.count("withdraw") == 1 and steps[-1] == "withdraw"
        if submitted[0] == 200:
            assert steps[-2:] == ["submit", "withdraw"], steps
        else:
            assert (submitted[0], submitted[1]["code"]) == (409, "loan_state_changed"), submitted
            assert "submit" not in steps, steps
