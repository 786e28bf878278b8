"""Demo vouchers for development and the browser tests: a listed provider the demo provider staff
belong to, one on public notice, two under review, a first-come batch and an application batch; the
demo entrepreneur's profile is complete so they can claim. With the history: four months of settled
redemptions, one statement in each state. Idempotent."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import Role, SubjectType
from backend.core.db import utcnow
from backend.core.validators import credit_code_check_char, id_number_check_char
from backend.extensions import db
from backend.vouchers.enums import BatchMode, BatchState, Category, ProviderStatus
from backend.vouchers.models import Provider, ProviderMember, VoucherBatch


def _credit(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


PROVIDERS = [
    dict(name="济宁创客孵化器有限公司", credit_code=_credit("91370811MA3DEM001"), district="370811",
         categories=[Category.rent.value, Category.training.value, Category.coaching.value],
         address="济宁市任城区科苑路 16 号", contact_name="李服务", contact_phone="19900000002",
         intro="市级创业孵化基地，提供工位与办公室租赁、创业培训和一对一创业辅导。", notice=False),
    dict(name="任城知识产权服务中心", credit_code=_credit("91370811MA3DEM002"), district="370811",
         categories=[Category.ip.value, Category.legal.value], address="济宁市任城区红星中路 120 号",
         contact_name="周律师", contact_phone="13905370002", intro="商标、专利代理与创业法律咨询。", notice=True),
]
# registered, waiting for the administrator's review (one in 任城区, one in 曲阜市)
PENDING = [
    dict(name="曲阜财税代理服务有限公司", credit_code=_credit("91370881MA3DEM003"), district="370881",
         categories=[Category.tax.value, Category.consulting.value], address="济宁市曲阜市静轩西路 55 号",
         contact_name="孔会计", contact_phone="13905370003", intro="代理记账、税务申报与创业财税咨询。"),
    dict(name="任城青创培训学校", credit_code=_credit("91370811MA3DEM004"), district="370811",
         categories=[Category.training.value], address="济宁市任城区共青团路 9 号",
         contact_name="马校长", contact_phone="13905370004", intro="创业培训（SYB、网店运营）与技能培训。"),
]
# Holders whose redemptions at the demo provider fill four closed months, settled to four states.
HOLDERS = [("19900002001", "孟凡宇"), ("19900002002", "庞静"), ("19900002003", "葛晓峰"), ("19900002004", "鲁婷")]
SETTLED = [(4, "reject", 96_000), (3, "pay", 120_000), (2, "approve", 80_000), (1, None, 150_000)]


def seed(*, history: bool = True) -> None:
    now = utcnow()
    staff = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.provider_staff][0])
    for data in PROVIDERS:
        data = dict(data)
        on_notice = data.pop("notice")
        provider = db.session.scalar(sa.select(Provider).where(Provider.credit_code == data["credit_code"]))
        if provider is None:
            provider = Provider(**data, status=ProviderStatus.approved, approved_at=now - timedelta(days=10),
                                listed_at=now + timedelta(days=5) if on_notice else now - timedelta(days=3))
            db.session.add(provider)
            db.session.flush()
        if not on_notice and staff is not None and db.session.scalar(
                sa.select(ProviderMember).where(ProviderMember.user_id == staff.id)) is None:
            db.session.add(ProviderMember(provider_id=provider.id, user_id=staff.id))

    entrepreneur = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.entrepreneur][0])
    if entrepreneur is not None and (entrepreneur.profile is None or not entrepreneur.profile.id_number):
        accounts.update_me(user=entrepreneur, data={"profile": {
            "subject_type": SubjectType.startup, "org_name": "济宁星火智能科技有限公司",
            "credit_code": _credit("91370811MA3XH0001"), "founded_on": date(2025, 3, 1), "district": "370811",
            "id_number": "37081119900307123" + id_number_check_char("37081119900307123")}})

    batches = [
        dict(name="2026年济宁市创业券（第一批）", district="370811", face_value=200_000, total_count=1000,
             budget=200_000_000, per_person_limit=1, daily_cap=None, claim_starts_at=now - timedelta(days=1),
             claim_ends_at=now + timedelta(days=60), valid_days=180,
             categories=[c.value for c in (Category.rent, Category.legal, Category.tax, Category.ip, Category.training,
                                           Category.coaching, Category.consulting)],
             co_pay_ratio_bp=5000, min_bill=10_000, mode=BatchMode.claim,
             eligibility={"subject_types": [], "max_firm_age_years": 5, "districts": []},
             description="用于抵扣创业孵化基地房租及购买法律、财税、知识产权、培训、辅导、咨询等创业服务。"
                         "每次可抵扣账单的 50%，单笔账单满 100 元可用。"),
        dict(name="科创企业检验检测券（申请制）", district="370811", face_value=500_000, total_count=100,
             budget=50_000_000, per_person_limit=1, daily_cap=None, claim_starts_at=now - timedelta(days=1),
             claim_ends_at=now + timedelta(days=30), valid_days=365,
             categories=[Category.testing.value, Category.ip.value, Category.financing.value],
             co_pay_ratio_bp=7000, min_bill=0, mode=BatchMode.apply,
             eligibility={"subject_types": [SubjectType.startup.value, SubjectType.tech_startup.value],
                          "max_firm_age_years": 3, "districts": []},
             description="面向成立 3 年内的初创、科创企业，经审核后发放，可用于检验检测、知识产权和投融资服务。"),
    ]
    for data in batches:
        if db.session.scalar(sa.select(VoucherBatch.id).where(VoucherBatch.name == data["name"])) is None:
            db.session.add(VoucherBatch(**data, state=BatchState.active))
    db.session.flush()
    for data in PENDING:
        if db.session.scalar(sa.select(Provider.id).where(Provider.credit_code == data["credit_code"])) is None:
            db.session.add(Provider(**data, status=ProviderStatus.pending))
    db.session.flush()
    if history and staff is not None:
        seed_settlement(staff=staff)


def _pay_code(holder) -> str:
    """A pay code from a phone the holder registers now, as the 付款码 page makes one."""
    import time

    from cryptography.hazmat.primitives.asymmetric import ec

    from backend.core import codes
    from backend.devices import service as devices

    key = ec.generate_private_key(ec.SECP256R1())
    _, credential = devices.register_personal(user=holder, public_key=codes.compress_p256(key.public_key()),
                                              name="演示手机")
    return codes.to_text(codes.encode_personal(codes.from_text(credential), device_key=key,
                                               purpose=codes.Purpose.pay, ts=int(time.time())))


def seed_settlement(*, staff) -> None:
    """Four holders each redeem once at the demo provider through the real scan and redeem; each
    redemption is then dated into one of the last four closed months (the demo's history), and the
    provider's statement for that month is submitted and decided: rejected, paid, approved, waiting."""
    from backend.core.localtime import LOCAL
    from backend.vouchers import claims, providers, redemption, settlement
    from backend.vouchers.models import Redemption, SettlementStatement

    provider = providers.provider_of(staff)
    if db.session.scalar(sa.select(SettlementStatement.id).where(SettlementStatement.provider_id == provider.id)
                         .limit(1)) is not None:
        return
    batch = db.session.scalar(sa.select(VoucherBatch).where(VoucherBatch.mode == BatchMode.claim)
                              .order_by(VoucherBatch.id))
    admin = accounts.find_by_phone(phone=accounts.DEMO_PHONES[Role.admin][0])
    first_of_month = datetime.now(LOCAL).replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    for (phone, name), (back, decision, bill) in zip(HOLDERS, SETTLED):
        holder = accounts.find_by_phone(phone=phone) or accounts.create_user(phone=phone, name=name)
        number = "370811199001" + phone[-4:] + "1"
        accounts.update_me(user=holder, data={"profile": {
            "subject_type": SubjectType.individual, "district": "370811",
            "id_number": number + id_number_check_char(number)}})
        voucher, _ = claims.claim(user=holder, batch_id=batch.id)
        scanned = redemption.scan(staff=staff, code=_pay_code(holder))
        receipt, _ = redemption.redeem(staff=staff, scan_token=scanned["scan_token"], voucher_id=voucher.id,
                                       bill_amount=bill, category=Category.rent.value,
                                       idempotency_key=f"demo-settlement-{phone}")
        month_start = first_of_month
        for _ in range(back):
            month_start = (month_start - timedelta(days=1)).replace(day=1)
        db.session.execute(sa.update(Redemption).where(Redemption.id == receipt.id)
                           .values(created_at=(month_start + timedelta(days=11)).astimezone(timezone.utc)))
        statement = settlement.submit(staff=staff, month=month_start.strftime("%Y-%m"))
        if decision == "reject":
            settlement.decide(actor=admin, statement=statement, action="reject", reason="发票抬头与机构名称不一致，请更正后重新提交")
        elif decision in ("approve", "pay"):
            settlement.decide(actor=admin, statement=statement, action="approve", reason="")
            if decision == "pay":
                settlement.decide(actor=admin, statement=statement, action="pay", reason="")
    db.session.flush()
