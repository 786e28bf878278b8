from __future__ import annotations

from backend.core.enums import LabelledEnum


class Outcome(LabelledEnum):
    running = "running", "运行中"
    ok = "ok", "成功"
    failed = "failed", "失败"
    skipped = "skipped", "已跳过"


class RunTrigger(LabelledEnum):
    schedule = "schedule", "定时"
    manual = "manual", "管理员手动"
    cli = "cli", "命令行"


class SkipReason(LabelledEnum):
    running_elsewhere = "running_elsewhere", "另一进程正在运行此任务"
    already_ran = "already_ran", "本次定时已由另一进程完成"


class JobName(LabelledEnum):
    vouchers_expire = "vouchers_expire", "创业券到期处理"
    vouchers_remind = "vouchers_remind", "创业券到期提醒"
    events_remind = "events_remind", "活动前一天提醒"
    settlement_remind = "settlement_remind", "月末结算提醒"
    cleanup = "cleanup", "清理过期验证码与令牌"
    loans_late = "loans_late", "贷款案件超时提醒"
