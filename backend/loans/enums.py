"""The 创业担保贷款 case: its states, borrowers, documents and the applicant's categories."""
from __future__ import annotations

from backend.core.enums import LabelledEnum


class CaseState(LabelledEnum):
    consultation = "consultation", "咨询"
    precheck = "precheck", "预审通过"
    correction = "correction", "补正材料"
    review = "review", "人社审核"
    notice = "notice", "公示中"
    referred = "referred", "已转介银行"
    diligence = "diligence", "尽调/担保"
    disbursed = "disbursed", "已放款"
    repaying = "repaying", "还款中"
    closed = "closed", "已结清"
    rejected = "rejected", "已驳回"
    withdrawn = "withdrawn", "已撤回"
    overdue = "overdue", "逾期"
    extended = "extended", "展期"


STATE_LABELS = CaseState.labels()
# the case is still being applied for (the applicant may withdraw)
APPLYING = (CaseState.consultation, CaseState.precheck, CaseState.correction, CaseState.review, CaseState.notice,
            CaseState.referred, CaseState.diligence)
# a loan exists (the bank paid it out)
LENT = (CaseState.disbursed, CaseState.repaying, CaseState.overdue, CaseState.extended, CaseState.closed)
FINISHED = (CaseState.closed, CaseState.rejected, CaseState.withdrawn)
# the steps of a case's timeline (flow.MOVES takes its labels from here)
STEP_LABELS = {
    "open": "开立案件",
    "edit": "修改申请",
    "upload": "上传材料",
    "precheck": "预审",
    "precheck_failed": "预审未通过",
    "request_documents": "要求补正材料",
    "submit": "提交人社审核",
    "approve": "审核通过并公示",
    "reject": "驳回",
    "refer": "转介银行",
    "withdraw": "撤回申请",
    "diligence": "尽调/担保",
    "disburse": "放款",
    "repay": "登记还款",
    "close": "结清",
    "overdue": "登记逾期",
    "cure": "逾期已还清",
    "extend": "展期",
    "change_rate": "调整利率",
}


class BorrowerType(LabelledEnum):
    individual = "individual", "个人"
    firm = "firm", "小微企业"


BORROWER_LABELS = BorrowerType.labels()


class DocumentKind(LabelledEnum):
    id_card = "id_card", "身份证"
    business_licence = "business_licence", "营业执照"
    credit_auth = "credit_auth", "征信查询授权书"
    identity_proof = "identity_proof", "身份类别证明"
    business_plan = "business_plan", "创业项目计划书"
    hiring_proof = "hiring_proof", "吸纳就业证明"
    other = "other", "其他材料"


DOCUMENT_LABELS = DocumentKind.labels()


class IdentityCategory(LabelledEnum):
    graduate = "graduate", "高校毕业生"
    returnee = "returnee", "返乡创业人员"
    veteran = "veteran", "退役军人"
    unemployed = "unemployed", "登记失业人员"
    poverty = "poverty", "脱贫人口"
    disabled = "disabled", "残疾人"
    other = "other", "其他"


IDENTITY_LABELS = IdentityCategory.labels()


class StatementState(LabelledEnum):
    submitted = "submitted", "待审核"
    approved = "approved", "已审核"
    paid = "paid", "已拨付"


STATEMENT_LABELS = StatementState.labels()
