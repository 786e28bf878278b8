"""Demo loan cases at the 古槐路 station, in every state a handler meets, made through the real
steps (then dated back where a step needs time to pass: the notice period, months of repayments)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import DEMO_PHONES, Role
from backend.extensions import db
from backend.loans import flow, service
from backend.loans.enums import BorrowerType, IdentityCategory
from backend.loans.models import LoanCase
from backend.places.enums import PlaceKind
from backend.places.models import Place

WAN = 10000 * 100
PEOPLE = [("19900000101", "钱小满", "consultation"), ("19900000102", "孙禾苗", "correction"),
          ("19900000103", "李青禾", "review"), ("19900000104", "周晓楠", "notice"),
          ("19900000105", "吴家乐", "referred"), ("19900000106", "郑一帆", "diligence"),
          ("19900000107", "冯启航", "repaying"), ("19900000108", "陈思远", "overdue"),
          ("19900000109", "褚明月", "rejected")]
APPLICATION = dict(borrower_type=BorrowerType.individual, amount=20 * WAN, term_months=24,
                   purpose="开设社区烘焙店，购置设备和首批原料", business="烘焙零售",
                   identity_category=IdentityCategory.graduate, age=27)
STEPS = ["precheck", "submit", "approve", "refer", "diligence", "disburse"]
UNTIL = {"consultation": 0, "correction": 1, "review": 2, "notice": 3, "referred": 4, "diligence": 5,
         "repaying": 6, "overdue": 6, "rejected": 3}


def _user(phone: str, name: str):
    return accounts.find_by_phone(phone=phone) or accounts.create_user(phone=phone, name=name,
                                                                      roles=[Role.entrepreneur])


def _staff(role: Role):
    return accounts.find_by_phone(phone=DEMO_PHONES[role][0])


def _document(user, case, kind: str):
    from backend.loans.models import LoanDocument
    from backend.core import uploads
    from PIL import Image
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (236, 242, 250)).save(buffer, "PNG")
    upload = uploads.store(owner=user, data=buffer.getvalue(), filename=f"{kind}.png")
    db.session.add(LoanDocument(case_id=case.id, kind=kind, upload_id=upload.id))
    db.session.flush()


def seed(*, history: bool = True) -> None:
    if not history:
        return
    station = db.session.scalar(sa.select(Place).where(Place.kind == PlaceKind.loan_station).order_by(Place.id))
    staff, admin, bank_officer = _staff(Role.station_staff), _staff(Role.admin), _staff(Role.bank_staff)
    bank = bank_officer.grants and next(g.bank_id for g in bank_officer.grants if g.role == Role.bank_staff)
    for phone, name, target in PEOPLE:
        user = _user(phone, name)
        if db.session.scalar(sa.select(LoanCase.id).where(LoanCase.applicant_id == user.id)) is not None:
            continue
        case = service.open_online(user=user, data=dict(APPLICATION, station_id=station.id))
        for kind in ("id_card", "identity_proof", "credit_auth"):
            if target != "correction" or kind != "credit_auth":
                _document(user, case, kind)
        for step in STEPS[:UNTIL[target]]:
            if step == "precheck":
                service.precheck(user=staff, id=case.id)
                if target == "correction":
                    service.request_documents(user=staff, id=case.id, kinds=["credit_auth"],
                                              remark="请带身份证到驿站签署征信查询授权书")
            elif step == "submit":
                service.submit(user=staff, id=case.id)
            elif step == "approve":
                service.approve(user=admin, id=case.id, remark="")
                if target == "rejected":
                    break
                if target != "notice":
                    case.notice_until = flow.today() - timedelta(days=1)  # the notice period is over
            elif step == "refer":
                service.refer(user=admin, id=case.id, bank_id=bank, remark="")
            elif step == "diligence":
                service.diligence(user=bank_officer, id=case.id, remark="经营场所已实地查看",
                                  guarantee="免除反担保（青年创业，20万元以下）")
            elif step == "disburse":
                start = flow.today() - timedelta(days=200)
                service.disburse(user=bank_officer, id=case.id, data=dict(
                    approved_amount=20 * WAN, rate_bp=345, lpr_bp=300, term_months=24, disbursed_on=start))
                service.repay(user=bank_officer, id=case.id, paid_on=start + timedelta(days=91), principal=2 * WAN,
                              interest=1_72_50 * 10)
        if target == "rejected":
            service.reject(user=admin, id=case.id, reason="公示期间收到实名反映，经营项目与申报不符")
        if target == "overdue":
            service.mark_overdue(user=bank_officer, id=case.id, since=flow.today() - timedelta(days=20),
                                 remark="第二期本金未按期归还")
        db.session.flush()
    _statements(bank_officer, admin)


def _statements(officer, admin) -> None:
    """The bank's interest statements for the last two finished quarters: the older one paid, the
    newer one waiting for the administrator."""
    from backend.loans import statements, subsidy
    from backend.loans.models import SubsidyStatement

    if db.session.scalar(sa.select(SubsidyStatement.id).limit(1)) is not None:
        return
    today = flow.today()
    year, quarter = today.year, (today.month - 1) // 3  # the last finished quarter
    if quarter == 0:
        year, quarter = year - 1, 4
    older = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    lent = db.session.scalars(sa.select(LoanCase).where(LoanCase.disbursed_on.is_not(None))
                              .order_by(LoanCase.id)).all()
    for (y, q), paid in ((older, True), ((year, quarter), False)):
        start, end = subsidy.quarter(y, q)
        lines = []
        for case in lent:
            if case.disbursed_on < end:
                rule = case.rule or rules_in_force(case)
                result = subsidy.compute(statements.terms_of(rule), statements.facts_of(case), start, end)
                if result.interest:
                    lines.append({"case_id": case.id, "interest": result.interest})
        if not lines:
            continue
        statement = statements.submit(user=officer, year=y, quarter=q, lines=lines)
        if paid:
            statements.decide(user=admin, id=statement.id, action="approve")
            statements.decide(user=admin, id=statement.id, action="pay")


def rules_in_force(case):
    from backend.loans import rules

    return rules.in_force(region_code=case.region_code, borrower_type=case.borrower_type, on=case.disbursed_on)
