"""Voucher batches (admin): create, edit while draft, move through draft → active ⇄ paused → ended,
and decide who may claim (eligibility as data)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from backend.accounts.enums import SUBJECT_LABELS, SubjectType
from backend.core import audit
from backend.core.db import total, utcnow
from backend.core.errors import DomainError, NotFound
from backend.core.regions import DISTRICTS
from backend.extensions import db
from backend.core.localtime import LOCAL
from backend.vouchers.enums import BatchMode, BatchState
from backend.vouchers.models import VoucherBatch

FIELDS = ("name", "description", "district", "face_value", "total_count", "budget", "per_person_limit", "daily_cap",
          "claim_starts_at", "claim_ends_at", "valid_until", "valid_days", "categories", "co_pay_ratio_bp",
          "min_bill", "eligibility", "mode")
EDITABLE_WHEN_LIVE = ("name", "description", "claim_ends_at", "daily_cap")


def get_or_raise(*, id: int) -> VoucherBatch:
    batch = db.session.get(VoucherBatch, id)
    if batch is None:
        raise NotFound("创业券批次不存在", code="batch_not_found")
    return batch


def get_public(*, id: int) -> VoucherBatch:
    batch = get_or_raise(id=id)
    if batch.state == BatchState.draft:
        raise NotFound("创业券批次不存在", code="batch_not_found")
    return batch


def _snapshot(batch: VoucherBatch) -> dict:
    data = {k: getattr(batch, k) for k in FIELDS}
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    data["mode"] = batch.mode.value
    data["state"] = batch.state.value
    return data


def _check(data: dict) -> None:
    if data.get("total_count") is None and data.get("budget") is None:
        raise DomainError("请填写发放总量或资金预算（至少一项）", code="cap_required", status=422,
                          details={"total_count": ["发放总量或资金预算至少填一项"]})
    if data.get("budget") is not None and data["budget"] < data["face_value"]:
        raise DomainError("资金预算不足一张券的面值", code="budget_too_small", status=422,
                          details={"budget": ["预算至少为一张券的面值"]})
    if (data.get("valid_until") is None) == (data.get("valid_days") is None):
        raise DomainError("有效期请二选一：固定截止日期，或领取后 N 天", code="validity_required", status=422,
                          details={"valid_until": ["固定截止日期与领取后天数二选一"]})
    if data["claim_ends_at"] <= data["claim_starts_at"]:
        raise DomainError("领取截止时间应晚于开始时间", code="invalid_window", status=422,
                          details={"claim_ends_at": ["应晚于开始时间"]})
    if data.get("valid_until") is not None and data["valid_until"] <= data["claim_starts_at"]:
        raise DomainError("有效期截止应晚于领取开始时间", code="invalid_window", status=422,
                          details={"valid_until": ["应晚于领取开始时间"]})


def create(*, actor, data: dict) -> VoucherBatch:
    _check(data)
    batch = VoucherBatch(**{k: v for k, v in data.items() if k in FIELDS}, created_by_id=actor.id if actor else None)
    db.session.add(batch)
    db.session.flush()
    audit.record(actor=actor, action="voucher_batch.create", target_type="voucher_batch", target_id=batch.id,
                 after=_snapshot(batch))
    return batch


def update(*, actor, batch: VoucherBatch, data: dict) -> VoucherBatch:
    if batch.state != BatchState.draft:
        locked = sorted(set(data) - set(EDITABLE_WHEN_LIVE))
        if locked:
            raise DomainError("批次已发布，只能修改名称、说明、领取截止时间和每日上限", code="batch_locked",
                              status=409, details={"fields": locked})
    before = _snapshot(batch)
    merged = {**before, **{k: getattr(batch, k) for k in FIELDS}, **data}
    _check(merged)
    for key, value in data.items():
        setattr(batch, key, value)
    db.session.flush()
    audit.record_changes(actor=actor, action="voucher_batch.update", target_type="voucher_batch",
                         target_id=batch.id, before=before, after=_snapshot(batch))
    return batch


def set_state(*, actor, batch: VoucherBatch, state: BatchState) -> VoucherBatch:
    before = batch.state.value
    # the counters row is the hot row of claiming: lock it so a transition never interleaves a claim
    db.session.execute(sa.select(VoucherBatch.id).where(VoucherBatch.id == batch.id).with_for_update())
    db.session.refresh(batch)
    batch.transition(state)
    db.session.flush()
    if before != batch.state.value:
        audit.record(actor=actor, action="voucher_batch.state", target_type="voucher_batch", target_id=batch.id,
                     before={"state": before}, after={"state": batch.state.value})
    return batch


def admin_query(*, state=None, q=None) -> sa.Select:
    query = sa.select(VoucherBatch).order_by(VoucherBatch.id.desc())
    if state:
        query = query.where(VoucherBatch.state == state)
    if q:
        query = query.where(VoucherBatch.name.contains(q, autoescape=True))
    return query


def public_query(*, district=None, category=None) -> sa.Select:
    """Batches people can see in the voucher centre: live ones first, newest first."""
    query = sa.select(VoucherBatch).where(VoucherBatch.state.in_([BatchState.active, BatchState.paused,
                                                                  BatchState.ended]))
    if district:
        query = query.where(VoucherBatch.district == district)
    rows = query.order_by(sa.case((VoucherBatch.state == BatchState.active, 0), (VoucherBatch.state == BatchState.paused, 1),
                                  else_=2), VoucherBatch.id.desc())
    if category:
        # JSON containment differs per database; the catalogue of batches is small, so filter in SQL
        # by text match on the serialised list (values are fixed identifiers, never user text)
        rows = rows.where(sa.cast(VoucherBatch.categories, sa.String).contains(f'"{category}"'))
    return rows


# --- eligibility -----------------------------------------------------------------------------

def firm_age_years(founded_on, today) -> int:
    years = today.year - founded_on.year
    if (today.month, today.day) < (founded_on.month, founded_on.day):
        years -= 1
    return years


def eligibility_problem(*, user, batch: VoucherBatch, now: datetime | None = None) -> tuple[str, str] | None:
    """Why this person may not have a voucher of this batch (code, 中文), or None."""
    now = now or utcnow()
    profile = user.profile
    rules = batch.eligibility or {}
    if profile is None or profile.subject_type is None or not profile.id_number:
        return "profile_incomplete", "请先在“我的”中完善主体类型和身份证号"
    if profile.subject_type != SubjectType.individual and not profile.credit_code:
        return "profile_incomplete", "请先在“我的”中填写统一社会信用代码"
    types = rules.get("subject_types") or []
    if types and profile.subject_type.value not in types:
        names = "、".join(SUBJECT_LABELS[SubjectType(t)] for t in types)
        return "not_eligible", f"本批次仅限{names}申领"
    districts = rules.get("districts") or []
    if districts and profile.district not in districts:
        names = "、".join(DISTRICTS.get(d, d) for d in districts)
        return "not_eligible", f"本批次仅限{names}的创业者申领"
    max_age = rules.get("max_firm_age_years")
    if max_age is not None and profile.subject_type != SubjectType.individual:
        if profile.founded_on is None:
            return "profile_incomplete", "请先在“我的”中填写成立日期"
        if firm_age_years(profile.founded_on, now.astimezone(LOCAL).date()) >= max_age:
            return "not_eligible", f"本批次仅限成立不满 {max_age} 年的主体申领"
    return None


def window_problem(*, batch: VoucherBatch, now: datetime | None = None) -> tuple[str, str] | None:
    now = now or utcnow()
    if batch.state == BatchState.paused:
        return "batch_paused", "本批次暂停发放，请稍后再来"
    if batch.state != BatchState.active:
        return "batch_not_active", "本批次已结束发放"
    if now < batch.claim_starts_at:
        return "claim_not_started", "还没到领取时间"
    if now >= batch.claim_ends_at:
        return "claim_ended", "领取时间已结束"
    cap = batch.cap_count
    if cap is not None and batch.issued_count >= cap:
        return "sold_out", "本批次已发放完毕"
    return None


def apply_mode(batch: VoucherBatch) -> bool:
    return batch.mode == BatchMode.apply


def figures(*, batch: VoucherBatch) -> dict:
    """Where a batch's money is: issued = outstanding + redeemed − reversed + expired."""
    from backend.vouchers.models import LedgerEntry, Voucher

    sums = dict(db.session.execute(
        sa.select(LedgerEntry.kind, total(LedgerEntry.amount))
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id).where(Voucher.batch_id == batch.id)
        .group_by(LedgerEntry.kind)).all())
    get = lambda kind: abs(int(sums.get(kind, 0)))  # noqa: E731
    from backend.vouchers.enums import LedgerKind
    from backend.vouchers.models import Redemption

    outstanding = db.session.scalar(sa.select(total(Voucher.balance))
                                    .where(Voucher.batch_id == batch.id))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.batch_id == batch.id))
    redemptions = db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).join(
        Voucher, Voucher.id == Redemption.voucher_id).where(Voucher.batch_id == batch.id))
    issued, redeemed, reversed_, expired = (get(LedgerKind.issue), get(LedgerKind.redeem), get(LedgerKind.reverse),
                                            get(LedgerKind.expire))
    return {"batch": batch, "vouchers": count, "issued": issued, "redeemed": redeemed, "reversed": reversed_,
            "expired": expired, "outstanding": outstanding, "redemptions": redemptions,
            "balanced": issued == outstanding + redeemed - reversed_ + expired and issued == batch.issued_amount
            and expired == batch.returned_amount}
