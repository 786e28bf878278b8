from enum import StrEnum


class BatchState(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    ended = "ended"


BATCH_STATE_LABELS = {BatchState.draft: "草稿", BatchState.active: "发放中", BatchState.paused: "已暂停",
                      BatchState.ended: "已结束"}


class BatchMode(StrEnum):
    claim = "claim"  # first come, first served
    apply = "apply"  # application with approval


class Category(StrEnum):
    rent = "rent"
    legal = "legal"
    tax = "tax"
    ip = "ip"
    training = "training"
    testing = "testing"
    consulting = "consulting"
    coaching = "coaching"
    financing = "financing"


CATEGORY_LABELS = {
    Category.rent: "房租抵扣",
    Category.legal: "法律服务",
    Category.tax: "财税服务",
    Category.ip: "知识产权",
    Category.training: "培训",
    Category.testing: "检验检测",
    Category.consulting: "管理咨询",
    Category.coaching: "创业辅导",
    Category.financing: "投融资服务",
}


class ProviderStatus(StrEnum):
    pending = "pending"  # registered, waiting for review
    approved = "approved"  # on public notice until listed_at, then in the catalogue
    rejected = "rejected"
    suspended = "suspended"
    blacklisted = "blacklisted"


PROVIDER_STATUS_LABELS = {"pending": "待审核", "notice": "公示中", "listed": "已入库", "rejected": "未通过",
                          "suspended": "已暂停", "blacklisted": "黑名单"}


class ApplicationState(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


APPLICATION_STATE_LABELS = {"pending": "审核中", "approved": "已通过", "rejected": "未通过", "withdrawn": "已撤回"}


class LedgerKind(StrEnum):
    issue = "issue"
    redeem = "redeem"
    reverse = "reverse"
    expire = "expire"


LEDGER_LABELS = {"issue": "领取", "redeem": "核销", "reverse": "撤销退回", "expire": "过期回收"}


class StatementState(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    paid = "paid"


STATEMENT_STATE_LABELS = {"submitted": "待审核", "approved": "已审核", "rejected": "已退回", "paid": "已兑付"}
