from __future__ import annotations

from marshmallow import ValidationError, validate, validates_schema

from backend.core import fields, regions
from backend.core.schemas import Schema
from backend.core.validators import mask_name, mask_phone
from backend.core.db import utcnow
from backend.loans.enums import STEP_LABELS, BorrowerType, CaseState, DocumentKind, IdentityCategory, StatementState

TEXT = validate.Length(max=200, error="不超过 200 个字")
REMARK = fields.String(load_default="", validate=TEXT)
RATE = fields.Integer(required=True, validate=validate.Range(0, 3600, error="年利率应在 0 到 36% 之间（单位：基点）"))


class CaseIn(Schema):
    borrower_type = fields.Enum(BorrowerType, required=True, error_messages={"unknown": "借款人类型只能是个人或小微企业"})
    amount = fields.Fen(required=True, validate=validate.Range(1_00, 100_000_000_00, error="请填写申请金额"))
    term_months = fields.Integer(required=True, validate=validate.Range(1, 120, error="期限为 1 到 120 个月"))
    purpose = fields.String(required=True, validate=validate.Length(min=2, max=200, error="用途为 2 到 200 个字"))
    business = fields.String(load_default="", validate=TEXT)
    identity_category = fields.Enum(IdentityCategory, required=True, error_messages={"unknown": "请选择人员类别"})
    age = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(16, 100, error="年龄应在 16 到 100 岁"))
    org_name = fields.String(load_default="", validate=validate.Length(max=128, error="不超过 128 个字"))
    staff_count = fields.Integer(load_default=None, allow_none=True,
                                 validate=validate.Range(1, 100000, error="职工人数应为正整数"))
    new_hires = fields.Integer(load_default=None, allow_none=True,
                               validate=validate.Range(0, 100000, error="新招用人数不能为负"))
    incubator_recommended = fields.Boolean(load_default=False)
    station_id = fields.Id(required=True, error_messages={"required": "请选择办理的创贷之家驿站"})

    @validates_schema
    def _firm(self, data, partial=False, **kwargs):
        if data.get("borrower_type") == BorrowerType.firm:
            if not data.get("org_name") and not partial:
                raise ValidationError("请填写企业名称", field_name="org_name")
        if data.get("staff_count") is not None and data.get("new_hires") is not None \
                and data["new_hires"] > data["staff_count"]:
            raise ValidationError("新招用人数不能多于职工人数", field_name="new_hires")


class CasePatchIn(CaseIn):
    """The same fields, each optional (used with partial=True)."""


class VisitCaseIn(Schema):
    visit_id = fields.Id(required=True)


class KindsIn(Schema):
    kinds = fields.List(fields.Enum(DocumentKind, error_messages={"unknown": "材料类型不正确"}), required=True,
                        validate=validate.Length(min=1, max=7, error="请选择要补充的材料"))
    remark = REMARK


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200, error="请填写原因（2 到 200 个字）"))


class RemarkIn(Schema):
    remark = REMARK


class ReferIn(Schema):
    bank_id = fields.Id(required=True, error_messages={"required": "请选择合作银行"})
    remark = REMARK


class DiligenceIn(Schema):
    remark = REMARK
    guarantee = fields.String(required=True, validate=validate.Length(min=2, max=120, error="请填写担保方式"))


class DisburseIn(Schema):
    approved_amount = fields.Fen(required=True, validate=validate.Range(1_00, 100_000_000_00, error="请填写放款金额"))
    rate_bp = RATE
    lpr_bp = fields.Integer(required=True, validate=validate.Range(0, 2000, error="LPR 应在 0 到 20% 之间（单位：基点）"))
    term_months = fields.Integer(required=True, validate=validate.Range(1, 120, error="期限为 1 到 120 个月"))
    disbursed_on = fields.Date(required=True)


class RepayIn(Schema):
    paid_on = fields.Date(required=True)
    principal = fields.Fen(load_default=0)
    interest = fields.Fen(load_default=0)


class OverdueIn(Schema):
    since = fields.Date(required=True)
    remark = REMARK


class CureIn(Schema):
    on = fields.Date(required=True)
    remark = REMARK


class ExtendIn(Schema):
    until = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=120, error="请填写展期原因（如受灾、重大突发事件）"))


class RateIn(Schema):
    effective_from = fields.Date(required=True, data_key="from")
    rate_bp = RATE


class DocumentFileIn(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


def document_kind(value: str | None) -> str:
    """The ``kind`` form field of a document upload (multipart, so read beside the file)."""
    from backend.core.errors import DomainError

    if value not in {k.value for k in DocumentKind}:
        raise DomainError("请选择材料类型", code="validation_error", status=422, details={"kind": ["请选择材料类型"]})
    return value


class CaseQueryIn(Schema):
    state = fields.Enum(CaseState, error_messages={"unknown": "状态不正确"})
    overdue = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=32, error="搜索词为 1 到 32 个字"))


def _person(user) -> dict:
    return {"id": user.id, "name": user.name, "phone": mask_phone(user.phone)}


def _named(obj) -> dict | None:
    return None if obj is None else {"id": obj.id, "name": obj.name}


class TimelineOut(Schema):
    step = fields.String(required=True)
    step_label = fields.Function(lambda e: STEP_LABELS.get(e.step, e.step))
    state = fields.enum_value("state")
    state_label = fields.enum_label("state")
    actor_name = fields.Function(lambda e: e.actor.name if e.actor else "系统")
    actor_role_label = fields.Function(lambda e: ROLE_NAMES.get(e.actor_role, ""))
    at = fields.DateTime(required=True)
    remark = fields.String(required=True)


ROLE_NAMES = {"owner": "申请人", "station": "驿站专员", "admin": "人社部门", "bank": "合作银行"}


class DocumentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.enum_value("kind")
    kind_label = fields.enum_label("kind")
    name = fields.Function(lambda d: d.upload.original_name or d.kind.label)
    content_type = fields.Function(lambda d: d.upload.content_type)
    size = fields.Function(lambda d: d.upload.size)
    created_at = fields.DateTime(required=True)
    url = fields.Function(lambda d: f"/api/loans/cases/{d.case_id}/documents/{d.id}")


def _loan(case) -> dict | None:
    if case.disbursed_on is None:
        return None
    return {"approved_amount": case.approved_amount, "rate_bp": case.rate_bp, "lpr_bp": case.lpr_bp,
            "term_months": case.loan_term_months, "disbursed_on": case.disbursed_on.isoformat(),
            "matures_on": case.matures_on.isoformat(), "outstanding": case.outstanding, "guarantee": case.guarantee,
            "extension_until": case.extension_until.isoformat() if case.extension_until else None,
            "repayments": [{"paid_on": r.paid_on.isoformat(), "principal": r.principal, "interest": r.interest}
                           for r in case.repayments],
            "rate_changes": [{"from": r.effective_from.isoformat(), "rate_bp": r.rate_bp} for r in case.rate_changes]}


class CaseRowOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    state = fields.enum_value("state")
    state_label = fields.enum_label("state")
    applicant_name = fields.Function(lambda c: c.applicant.name)
    applicant_phone = fields.Function(lambda c: mask_phone(c.applicant.phone))
    station_name = fields.Function(lambda c: c.station.name if c.station else None)
    bank_name = fields.Function(lambda c: c.bank.name if c.bank else None)
    amount = fields.Integer(allow_none=True)
    borrower_type = fields.enum_value("borrower_type")
    borrower_type_label = fields.enum_label("borrower_type")
    updated_at = fields.DateTime(required=True)
    step_due_at = fields.DateTime(allow_none=True)
    overdue_step = fields.Function(lambda c: c.step_due_at is not None and c.step_due_at < utcnow())


class CaseOut(CaseRowOut):
    applicant = fields.Function(lambda c: _person(c.applicant))
    station = fields.Function(lambda c: _named(c.station))
    bank = fields.Function(lambda c: _named(c.bank))
    region_code = fields.String(required=True)
    region_name = fields.Function(lambda c: regions.name_of(c.region_code))
    term_months = fields.Integer(allow_none=True)
    purpose = fields.String(required=True)
    business = fields.String(required=True)
    identity_category = fields.enum_value("identity_category")
    identity_category_label = fields.enum_label("identity_category")
    age = fields.Integer(allow_none=True)
    org_name = fields.String(required=True)
    staff_count = fields.Integer(allow_none=True)
    new_hires = fields.Integer(allow_none=True)
    incubator_recommended = fields.Boolean(required=True)
    precheck = fields.Raw(allow_none=True)
    required_documents = fields.Function(lambda c: getattr(c, "required", []))  # service.detail
    requested_documents = fields.Function(lambda c: [{"kind": k, "kind_label": DocumentKind(k).label}
                                                     for k in c.requested_documents or []])
    documents = fields.List(fields.Nested(DocumentOut))
    timeline = fields.List(fields.Nested(TimelineOut), attribute="events")
    notice_until = fields.Date(allow_none=True)
    reason = fields.String(required=True)
    loan = fields.Function(_loan)
    actions = fields.Function(lambda c: getattr(c, "actions", []))


class NoticeOut(Schema):
    number = fields.String(required=True)
    applicant_name = fields.Function(lambda c: mask_name(c.applicant.name))
    station_name = fields.Function(lambda c: c.station.name if c.station else None)
    amount = fields.Integer(allow_none=True)
    borrower_type_label = fields.enum_label("borrower_type")
    notice_until = fields.Date(allow_none=True)


class BankOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    parent_name = fields.Function(lambda b: b.parent.name if b.parent else None)
    region_name = fields.Function(lambda b: regions.name_of(b.region_code))


class StationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    district_name = fields.Function(lambda p: regions.name_of(p.district))
    address = fields.String(required=True)


class LoanStatementLineIn(Schema):
    case_id = fields.Id(required=True)
    interest = fields.Fen(required=True)


class LoanStatementIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(2021, 2100, error="年份不正确"))
    quarter = fields.Integer(required=True, validate=validate.Range(1, 4, error="季度为 1 到 4"))
    lines = fields.List(fields.Nested(LoanStatementLineIn), required=True,
                        validate=validate.Length(min=1, max=5000, error="请至少填写一笔贷款的利息"))


class LoanStatementQueryIn(Schema):
    state = fields.Enum(StatementState, error_messages={"unknown": "状态不正确"})


class LoanStatementLineOut(Schema):
    case_id = fields.Integer(required=True)
    number = fields.Function(lambda l: l.case.number)
    applicant_name = fields.Function(lambda l: l.case.applicant.name)
    interest = fields.Integer(required=True)
    computed_interest = fields.Integer(required=True)
    subsidy = fields.Integer(required=True)
    days = fields.Integer(required=True)
    note = fields.String(required=True)


class LoanStatementOut(Schema):
    id = fields.Integer(required=True)
    bank_name = fields.Function(lambda s: s.bank.name)
    year = fields.Integer(required=True)
    quarter = fields.Integer(required=True)
    state = fields.enum_value("state")
    state_label = fields.enum_label("state")
    loans = fields.Function(lambda s: len(s.lines))
    interest = fields.Integer(required=True)
    subsidy = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    approved_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)


class LoanStatementDetailOut(LoanStatementOut):
    lines = fields.List(fields.Nested(LoanStatementLineOut))


class LoanRuleIn(Schema):
    region_code = fields.String(required=True, validate=validate.OneOf(list(regions.REGION_NAMES), error="请选择地区"))
    borrower_type = fields.Enum(BorrowerType, required=True, error_messages={"unknown": "借款人类型只能是个人或小微企业"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=80, error="名称为 2 到 80 个字"))
    source = fields.String(load_default="", validate=validate.Length(max=160, error="不超过 160 个字"))
    max_amount = fields.Fen(required=True, validate=validate.Range(1_00, 100_000_000_00, error="请填写最高额度"))
    max_term_months = fields.Integer(required=True, validate=validate.Range(1, 120, error="期限为 1 到 120 个月"))
    max_times = fields.Integer(required=True, validate=validate.Range(1, 20, error="次数为 1 到 20"))
    hire_pct = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 100, error="比例为 0 到 100"))
    hire_pct_large = fields.Integer(load_default=None, allow_none=True,
                                    validate=validate.Range(0, 100, error="比例为 0 到 100"))
    large_staff = fields.Integer(load_default=None, allow_none=True,
                                 validate=validate.Range(1, 100000, error="人数应为正整数"))
    youth_max_age = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(16, 100, error="年龄应在 16 到 100 岁"))
    youth_waiver_max = fields.Fen(load_default=None, allow_none=True)
    incubator_waiver = fields.Boolean(load_default=False)
    rate_cap_offset_bp = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(-1000, 3000, error="应在 -1000 到 3000 基点之间"))
    borrower_offset_bp = fields.Integer(load_default=None, allow_none=True,
                                        validate=validate.Range(-1000, 3000, error="应在 -1000 到 3000 基点之间"))
    finance_share_pct = fields.Integer(required=True, validate=validate.Range(0, 100, error="比例为 0 到 100"))
    subsidy_loans_from = fields.Date(load_default=None, allow_none=True)
    documents = fields.List(fields.Enum(DocumentKind, by_value=True, error_messages={"unknown": "材料类型不正确"}),
                            load_default=list, validate=validate.Length(max=7, error="材料最多 7 项"))


class LoanRulePatchIn(LoanRuleIn):
    """The same fields, each optional (used with partial=True)."""


class LoanRuleQueryIn(Schema):
    region_code = fields.String(validate=validate.OneOf(list(regions.REGION_NAMES), error="地区代码不正确"))


class LoanRuleOut(Schema):
    id = fields.Integer(required=True)
    region_code = fields.String(required=True)
    region_name = fields.Function(lambda r: regions.name_of(r.region_code))
    borrower_type = fields.enum_value("borrower_type")
    borrower_type_label = fields.enum_label("borrower_type")
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)
    name = fields.String(required=True)
    source = fields.String(required=True)
    max_amount = fields.Integer(required=True)
    max_term_months = fields.Integer(required=True)
    max_times = fields.Integer(required=True)
    hire_pct = fields.Integer(allow_none=True)
    hire_pct_large = fields.Integer(allow_none=True)
    large_staff = fields.Integer(allow_none=True)
    youth_max_age = fields.Integer(allow_none=True)
    youth_waiver_max = fields.Integer(allow_none=True)
    incubator_waiver = fields.Boolean(required=True)
    rate_cap_offset_bp = fields.Integer(allow_none=True)
    borrower_offset_bp = fields.Integer(allow_none=True)
    finance_share_pct = fields.Integer(required=True)
    subsidy_loans_from = fields.Date(allow_none=True)
    documents = fields.List(fields.String())
