from enum import StrEnum

from backend.core.enums import LabelledEnum


class BatchState(LabelledEnum):
    draft = "draft", "草稿"
    active = "active", "发放中"
    paused = "paused", "已暂停"
    ended = "ended", "已结束"


BATCH_STATE_LABELS = BatchState.labels()


class BatchMode(StrEnum):
    claim = "claim"  # first come, first served
    apply = "apply"  # application with approval


class Category(LabelledEnum):
    rent = "rent", "房租抵扣"
    legal = "legal", "法律服务"
    tax = "tax", "财税服务"
    ip = "ip", "知识产权"
    training = "training", "培训"
    testing = "testing", "检验检测"
    consulting = "consulting", "管理咨询"
    coaching = "coaching", "创业辅导"
    financing = "financing", "投融资服务"


CATEGORY_LABELS = Category.labels()


class ProviderStatus(StrEnum):
    pending = "pending"  # registered, waiting for review
    approved = "approved"  # on public notice until listed_at, then in the catalogue
    rejected = "rejected"
    suspended = "suspended"
    blacklisted = "blacklisted"


PROVIDER_STATUS_LABELS = {"pending": "待审核", "notice": "公示中", "listed": "已入库", "rejected": "未通过",
                          "suspended": "已暂停", "blacklisted": "黑名单"}


class ApplicationState(LabelledEnum):
    pending = "pending", "审核中"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"
    withdrawn = "withdrawn", "已撤回"


APPLICATION_STATE_LABELS = ApplicationState.labels()


class LedgerKind(LabelledEnum):
    issue = "issue", "领取"
    redeem = "redeem", "核销"
    reverse = "reverse", "撤销退回"
    expire = "expire", "过期回收"


LEDGER_LABELS = LedgerKind.labels()


class StatementState(LabelledEnum):
    submitted = "submitted", "待审核"
    approved = "approved", "已审核"
    rejected = "rejected", "已退回"
    paid = "paid", "已兑付"


STATEMENT_STATE_LABELS = StatementState.labels()
