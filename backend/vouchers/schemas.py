from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from backend.accounts.enums import SubjectType
from backend.core import fields
from backend.core.db import utcnow
from backend.core.regions import DISTRICTS, REGION_NAMES
from backend.core.schemas import Schema
from backend.core.validators import is_credit_code, is_phone, mask_name, mask_phone
from backend.vouchers.enums import (CATEGORY_LABELS, PROVIDER_STATUS_LABELS, ApplicationState, BatchMode, BatchState,
                                    Category, StatementState)

MAX_AMOUNT = 10**10  # ¥100,000,000.00: a face value, a minimum bill, a bill (a budget goes to fields.MAX_FEN)
KEY = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_\-]{8,64}$",
                                                            error="请求编号应为 8 到 64 位字母、数字、- 或 _"))
CATEGORY = fields.String(validate=validate.OneOf([c.value for c in Category], error="服务类别不正确"))
DISTRICT = fields.String(validate=validate.OneOf(list(DISTRICTS), error="区县代码不正确"))
MONTH = fields.String(validate=validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$", error="月份格式应为 YYYY-MM"))


def _labels(values, labels) -> list[dict]:
    return [{"value": v, "label": labels.get(Category(v), v)} for v in values]


# --- batches --------------------------------------------------------------------------------------

class EligibilityIn(Schema):
    subject_types = fields.List(fields.String(validate=validate.OneOf([s.value for s in SubjectType],
                                                                      error="主体类型不正确")), load_default=list)
    max_firm_age_years = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(1, 50, error="成立年限应在 1 到 50 年之间"))
    districts = fields.List(DISTRICT, load_default=list)


class BatchIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=64, error="名称为 2 到 64 个字"))
    description = fields.String(load_default="", multiline=True,
                                validate=validate.Length(max=2000, error="说明不能超过 2000 字"))
    district = fields.String(required=True, validate=validate.OneOf(list(REGION_NAMES), error="请选择出资地区"))
    face_value = fields.Fen(required=True,
                            validate=validate.Range(1, MAX_AMOUNT, error="面值应在 1 分到 1 亿元之间（单位：分）"))
    total_count = fields.Integer(load_default=None, allow_none=True,
                                 validate=validate.Range(1, 10_000_000, error="发放总量应在 1 到 10000000 之间"))
    budget = fields.Fen(load_default=None, allow_none=True,
                        validate=validate.Range(1, fields.MAX_FEN, error="预算应在 1 分到 100 亿元之间（单位：分）"))
    per_person_limit = fields.Integer(load_default=1, validate=validate.Range(1, 100, error="每人限领应在 1 到 100 之间"))
    daily_cap = fields.Integer(load_default=None, allow_none=True,
                               validate=validate.Range(1, 10_000_000, error="每日上限应为正数"))
    claim_starts_at = fields.AwareDateTime(required=True, default_timezone=None)
    claim_ends_at = fields.AwareDateTime(required=True)
    valid_until = fields.AwareDateTime(load_default=None, allow_none=True)
    valid_days = fields.Integer(load_default=None, allow_none=True,
                                validate=validate.Range(1, 3650, error="有效天数应在 1 到 3650 之间"))
    categories = fields.List(CATEGORY, required=True, validate=validate.Length(min=1, error="至少选择一种用途"))
    co_pay_ratio_bp = fields.Integer(load_default=10000, validate=validate.Range(
        1, 10000, error="补贴比例应在 0.01% 到 100% 之间（单位：万分之一）"))
    min_bill = fields.Fen(load_default=0,
                          validate=validate.Range(0, MAX_AMOUNT, error="最低账单金额应在 0 到 1 亿元之间（单位：分）"))
    eligibility = fields.Nested(EligibilityIn, load_default=lambda: {"subject_types": [], "max_firm_age_years": None,
                                                                     "districts": []})
    mode = fields.Enum(BatchMode, load_default=BatchMode.claim, error_messages={"unknown": "发放方式只能是 claim 或 apply"})

    @validates_schema
    def _categories_unique(self, data, **kwargs):
        if "categories" in data and len(set(data["categories"])) != len(data["categories"]):
            raise ValidationError("用途不能重复", field_name="categories")


class BatchPatchIn(BatchIn):
    pass


class BatchStateIn(Schema):
    state = fields.Enum(BatchState, required=True, error_messages={"unknown": "状态只能是 active/paused/ended"})


class BatchQueryIn(Schema):
    state = fields.Enum(BatchState, error_messages={"unknown": "状态不正确"})
    q = fields.String(validate=validate.Length(min=1, max=64))


class PublicBatchQueryIn(Schema):
    district = DISTRICT
    category = CATEGORY


class BatchOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    district = fields.String(required=True)
    district_label = fields.Function(lambda b: REGION_NAMES.get(b.district), allow_none=True)
    face_value = fields.Integer(required=True)
    total_count = fields.Integer(allow_none=True)
    budget = fields.Integer(allow_none=True)
    cap_count = fields.Integer(allow_none=True)
    issued_count = fields.Integer(required=True)
    remaining = fields.Integer(allow_none=True)
    per_person_limit = fields.Integer(required=True)
    daily_cap = fields.Integer(allow_none=True)
    claim_starts_at = fields.DateTime(required=True)
    claim_ends_at = fields.DateTime(required=True)
    valid_until = fields.DateTime(allow_none=True)
    valid_days = fields.Integer(allow_none=True)
    categories = fields.List(fields.String(), required=True)
    category_labels = fields.Function(lambda b: [CATEGORY_LABELS[Category(c)] for c in b.categories], required=True)
    co_pay_ratio_bp = fields.Integer(required=True)
    min_bill = fields.Integer(required=True)
    eligibility = fields.Dict(required=True)
    mode = fields.enum_value("mode", required=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.String(required=True)  # VoucherBatch.state_label: 即将开放 before the window opens


class BatchForMeOut(BatchOut):
    """A batch as the voucher centre shows it to the signed-in person: can I, and if not, why
    (``batch.standing``, set by claims.with_standing)."""

    can_claim = fields.Function(lambda b: b.standing.reason_code is None, required=True)
    reason_code = fields.Function(lambda b: b.standing.reason_code, allow_none=True)
    reason = fields.Function(lambda b: b.standing.reason, allow_none=True)
    held = fields.Function(lambda b: b.standing.held, required=True)
    application_state = fields.Function(lambda b: b.standing.application_state, allow_none=True)


class ClaimIn(Schema):
    idempotency_key = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z0-9_\-]{8,64}$", error="请求编号应为 8 到 64 位字母、数字、- 或 _"))


# --- vouchers ---------------------------------------------------------------------------------------

class LedgerOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.enum_value("kind", required=True)
    kind_label = fields.enum_label("kind", required=True)
    amount = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)
    redemption_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)


class VoucherOut(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    batch_name = fields.Function(lambda v: v.batch.name, required=True)
    face_value = fields.Integer(required=True)
    balance = fields.Integer(required=True)
    state = fields.Function(lambda v: v.state, required=True)  # set by claims.with_state
    categories = fields.Function(lambda v: v.batch.categories, required=True)
    category_labels = fields.Function(lambda v: [CATEGORY_LABELS[Category(c)] for c in v.batch.categories],
                                      required=True)
    co_pay_ratio_bp = fields.Function(lambda v: v.batch.co_pay_ratio_bp, required=True)
    min_bill = fields.Function(lambda v: v.batch.min_bill, required=True)
    claimed_at = fields.DateTime(required=True)
    valid_from = fields.DateTime(required=True)
    valid_until = fields.DateTime(required=True)


class VoucherDetailOut(VoucherOut):
    history = fields.List(fields.Nested(LedgerOut), required=True)


class WalletQueryIn(Schema):
    usable = fields.Boolean(load_default=False)


# --- applications -------------------------------------------------------------------------------------

class ApplicationIn(Schema):
    statement = fields.String(required=True, multiline=True,
                              validate=validate.Length(min=5, max=2000, error="申请说明为 5 到 2000 字"))
    upload_ids = fields.List(fields.Id(), load_default=list,
                             validate=validate.Length(max=10, error="最多上传 10 份材料"))


class ApplicationOut(Schema):
    id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    batch_name = fields.Function(lambda a: a.batch.name, required=True)
    applicant_id = fields.Integer(required=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.enum_label("state", required=True)
    statement = fields.String(required=True)
    upload_ids = fields.List(fields.Integer(), required=True)
    decision_reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    reviewed_at = fields.DateTime(allow_none=True)


class AdminApplicationOut(ApplicationOut):
    applicant = fields.Function(lambda a: _applicant(a), required=True)


def _applicant(application) -> dict:
    from backend.accounts.enums import SUBJECT_LABELS
    from backend.core.validators import mask_id_number

    user = application.applicant
    profile = user.profile
    return {"id": user.id, "name": user.name, "phone_masked": mask_phone(user.phone),
            "subject_type_label": SUBJECT_LABELS.get(profile.subject_type) if profile else None,
            "org_name": profile.org_name if profile else None,
            "credit_code": profile.credit_code if profile else None,
            "id_number_masked": mask_id_number(profile.id_number) if profile else None,
            "district_label": DISTRICTS.get(profile.district) if profile else None}


class ApplicationQueryIn(Schema):
    state = fields.Enum(ApplicationState, error_messages={"unknown": "状态不正确"})
    batch_id = fields.Id()


class DecisionIn(Schema):
    approve = fields.Boolean(required=True)
    reason = fields.String(load_default="", multiline=True,
                           validate=validate.Length(max=256, error="原因不能超过 256 字"))


# --- providers -------------------------------------------------------------------------------------

def _credit_code(value: str) -> None:
    if not is_credit_code(value):
        raise ValidationError("统一社会信用代码不正确（请核对 18 位代码及校验位）")


class ProviderIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=128, error="机构名称为 2 到 128 个字"))
    credit_code = fields.String(required=True, validate=_credit_code)
    categories = fields.List(CATEGORY, required=True, validate=validate.Length(min=1, error="至少选择一种服务类别"))
    district = fields.String(required=True, validate=validate.OneOf(list(DISTRICTS), error="请选择所在区县"))
    address = fields.String(required=True, validate=validate.Length(min=2, max=256, error="地址为 2 到 256 个字"))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=64, error="请填写联系人"))
    contact_phone = fields.String(required=True, validate=lambda v: is_phone(v) or _bad_phone())
    intro = fields.String(load_default="", multiline=True,
                          validate=validate.Length(max=1000, error="简介不能超过 1000 字"))

    @validates_schema
    def _categories_unique(self, data, **kwargs):
        if "categories" in data and len(set(data["categories"])) != len(data["categories"]):
            raise ValidationError("服务类别不能重复", field_name="categories")


def _bad_phone():
    raise ValidationError("请输入正确的 11 位手机号")


class ProviderOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    categories = fields.List(fields.String(), required=True)
    category_labels = fields.Function(lambda p: [CATEGORY_LABELS[Category(c)] for c in p.categories], required=True)
    district = fields.String(required=True)
    district_label = fields.Function(lambda p: DISTRICTS.get(p.district), allow_none=True)
    address = fields.String(required=True)
    intro = fields.String(required=True)
    status = fields.Function(lambda p: p.public_status(utcnow()), required=True)
    status_label = fields.Function(lambda p: PROVIDER_STATUS_LABELS[p.public_status(utcnow())], required=True)
    listed_at = fields.DateTime(allow_none=True)


class ProviderPrivateOut(ProviderOut):
    """What the provider's own staff and admins see."""

    contact_name = fields.String(required=True)
    contact_phone_masked = fields.Function(lambda p: mask_phone(p.contact_phone), allow_none=True)
    status_reason = fields.String(required=True)
    approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    objection_count = fields.Function(lambda p: p.objection_count, required=True)  # set by providers.with_objections


class ProviderQueryIn(Schema):
    status = fields.String(load_default="listed", validate=validate.OneOf(["listed", "notice"],
                                                                          error="只能查看 listed 或 notice"))
    category = CATEGORY
    district = DISTRICT
    q = fields.String(validate=validate.Length(min=1, max=64))


class AdminProviderQueryIn(Schema):
    status = fields.String(validate=validate.OneOf(list(PROVIDER_STATUS_LABELS), error="状态不正确"))
    q = fields.String(validate=validate.Length(min=1, max=64))


class ProviderDecisionIn(Schema):
    action = fields.String(required=True, validate=validate.OneOf(
        ["approve", "reject", "suspend", "blacklist", "restore"], error="操作不正确"))
    reason = fields.String(load_default="", multiline=True,
                           validate=validate.Length(max=256, error="原因不能超过 256 字"))


class ObjectionIn(Schema):
    text = fields.String(required=True, multiline=True,
                         validate=validate.Length(min=5, max=500, error="异议内容为 5 到 500 字"))


class ObjectionOut(Schema):
    id = fields.Integer(required=True)
    text = fields.String(required=True)
    created_at = fields.DateTime(required=True)


# --- redemption ---------------------------------------------------------------------------------------

class ScanIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=2000, error="付款码内容为空或过长"))


class ScanOption(Schema):
    voucher = fields.Nested(VoucherOut, required=True)
    usable = fields.Boolean(required=True)
    reason_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    categories = fields.List(fields.String(), required=True)


class Holder(Schema):
    id = fields.Integer(required=True)
    name_masked = fields.Function(lambda u: mask_name(u.name), allow_none=True)


class ScanOut(Schema):
    holder = fields.Nested(Holder, required=True)
    vouchers = fields.List(fields.Nested(ScanOption), required=True)
    scan_token = fields.String(required=True)
    expires_in = fields.Integer(required=True)


class LastPayScan(Schema):
    code_ts = fields.Integer(required=True, metadata={"description": "when the phone made the scanned code, Unix seconds"})
    scanned_at = fields.DateTime(required=True)
    provider_name = fields.String(required=True)


class PayCodeStatusOut(Schema):
    last_scan = fields.Nested(LastPayScan, allow_none=True, required=True)


class QuoteIn(Schema):
    scan_token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    voucher_id = fields.Id(required=True)
    bill_amount = fields.Fen(required=True,
                             validate=validate.Range(1, MAX_AMOUNT, error="账单金额应在 1 分到 1 亿元之间（单位：分）"))
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category],
                                                                     error="服务类别不正确"))


class QuoteOut(Schema):
    amount = fields.Integer(required=True)
    self_pay = fields.Integer(required=True)
    covered = fields.Integer(required=True)
    balance_before = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)
    explanation = fields.String(required=True)


class RedeemIn(QuoteIn):
    idempotency_key = KEY


class RedemptionOut(Schema):
    id = fields.Integer(required=True)
    receipt_no = fields.String(required=True)
    voucher_id = fields.Integer(required=True)
    batch_name = fields.Function(lambda r: r.batch_name if hasattr(r, "batch_name") else r.voucher.batch.name,
                                 required=True)  # a fresh receipt names it from the locked row
    provider_id = fields.Integer(required=True)
    provider_name = fields.Function(lambda r: r.provider_name if hasattr(r, "provider_name")
                                    else r.provider.name, required=True)
    holder_name_masked = fields.Function(lambda r: mask_name(r.holder_name if hasattr(r, "holder_name")
                                                             else r.holder.name), allow_none=True)
    category = fields.String(required=True)
    category_label = fields.Function(lambda r: CATEGORY_LABELS[Category(r.category)], required=True)
    bill_amount = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    self_pay = fields.Function(lambda r: r.bill_amount - r.amount, required=True)
    created_at = fields.DateTime(required=True)
    reversed_at = fields.DateTime(allow_none=True)
    reverse_reason = fields.String(required=True)
    statement_id = fields.Integer(allow_none=True)
    reversible = fields.Function(lambda r: r.reversible, required=True)  # set by redemption.with_reversible
    replayed = fields.Function(lambda r: bool(getattr(r, "replayed", False)), required=True)



class ReverseIn(Schema):
    reason = fields.String(required=True, multiline=True,
                           validate=validate.Length(min=2, max=256, error="请填写撤销原因（2 到 256 字）"))


class RedemptionQueryIn(Schema):
    day = fields.Date()
    month = MONTH


class RedemptionTotalsOut(Schema):
    count = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)
    reversed = fields.Integer(required=True)
    net = fields.Integer(required=True)


class ReceiptQueryIn(Schema):
    since = fields.AwareDateTime()


# --- settlement ---------------------------------------------------------------------------------------

class StatementIn(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r"^20\d\d-(0[1-9]|1[0-2])$",
                                                                  error="月份格式应为 YYYY-MM"))


class StatementOut(Schema):
    id = fields.Integer(required=True)
    provider_id = fields.Integer(required=True)
    provider_name = fields.Function(lambda s: s.provider.name, required=True)
    month = fields.String(required=True)
    state = fields.enum_value("state", required=True)
    state_label = fields.enum_label("state", required=True)
    redemption_count = fields.Integer(required=True)
    redeemed_total = fields.Integer(required=True)
    reversed_total = fields.Integer(required=True)
    net_total = fields.Integer(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    reason = fields.String(required=True)
    paid_at = fields.DateTime(allow_none=True)


class StatementQueryIn(Schema):
    state = fields.Enum(StatementState, error_messages={"unknown": "状态不正确"})
    provider_id = fields.Id()


class StatementDecisionIn(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject", "pay"], error="操作不正确"))
    reason = fields.String(load_default="", multiline=True,
                           validate=validate.Length(max=256, error="原因不能超过 256 字"))


class ExportQueryIn(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"], error="格式只能是 xlsx 或 csv"))


# --- figures ---------------------------------------------------------------------------------------------

class BatchFiguresOut(Schema):
    batch = fields.Nested(BatchOut, required=True)
    vouchers = fields.Integer(required=True)
    issued = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)
    reversed = fields.Integer(required=True)
    expired = fields.Integer(required=True)
    outstanding = fields.Integer(required=True)
    redemptions = fields.Integer(required=True)
    balanced = fields.Boolean(required=True)
