"""Demo vouchers for development and the browser tests: a listed provider the demo provider staff
belong to, one on public notice, a first-come batch and an application batch; the demo
entrepreneur's profile is complete so they can claim. Idempotent."""
from __future__ import annotations

from datetime import date, timedelta

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


def seed() -> None:
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
    if staff is not None:  # the demo staff member's role is bound to their provider (人员与角色 shows it)
        member = db.session.scalar(sa.select(ProviderMember).where(ProviderMember.user_id == staff.id))
        for grant in staff.grants:
            if member is not None and grant.role == Role.provider_staff and grant.provider_id is None:
                grant.provider_id = member.provider_id

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
