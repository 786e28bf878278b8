"""The scheduled jobs: what each does (a domain's service), when it runs and how its counts read."""
from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from backend.core.localtime import LOCAL
from backend.scheduler.enums import JobName


class LastDaysOfMonth(BaseTrigger):
    """Fires at ``hour:minute`` Beijing time on each of the last ``days`` days of every month (cron
    cannot say "the last three days": its day field knows only "last")."""

    def __init__(self, *, days: int = 3, hour: int = 9, minute: int = 0):
        self.days = days
        self._cron = CronTrigger(day="25-31", hour=hour, minute=minute, timezone=LOCAL)

    def get_next_fire_time(self, previous_fire_time, now):
        fire = self._cron.get_next_fire_time(previous_fire_time, now)
        while fire is not None and fire.day <= monthrange(fire.year, fire.month)[1] - self.days:
            fire = self._cron.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return fire

    def __str__(self):
        return f"last {self.days} days of the month"


def _vouchers_expire() -> dict:
    from backend.vouchers import expiry

    return expiry.expire_due()


def _vouchers_remind() -> dict:
    from backend.vouchers import expiry

    return {"reminded": expiry.remind_due()}


def _events_remind() -> dict:
    from backend.events import reminders

    return reminders.remind()


def _settlement_remind() -> dict:
    from backend.vouchers import settlement

    return settlement.remind_unsettled()


def _loans_late() -> dict:
    from backend.loans import reminders

    return reminders.remind_late()


def _cleanup() -> dict:
    from backend.accounts import service
    from backend.scheduler import models

    return {**service.purge_expired(), "job_runs": models.purge_old_runs()}


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    schedule: str  # when it runs, as people read it
    trigger: BaseTrigger
    run: Callable[[], dict]


J = JobName
JOBS: dict[str, Job] = {job.name: job for job in (
    Job(J.vouchers_expire, J.vouchers_expire.label, "每小时第 5 分钟", CronTrigger(minute=5, timezone=LOCAL),
        _vouchers_expire),
    Job(J.vouchers_remind, J.vouchers_remind.label, "每天 09:00", CronTrigger(hour=9, minute=0, timezone=LOCAL),
        _vouchers_remind),
    Job(J.events_remind, J.events_remind.label, "每天 09:00", CronTrigger(hour=9, minute=0, timezone=LOCAL),
        _events_remind),
    Job(J.settlement_remind, J.settlement_remind.label, "每月最后 3 天 09:30", LastDaysOfMonth(days=3, hour=9, minute=30),
        _settlement_remind),
    Job(J.cleanup, J.cleanup.label, "每天 03:30", CronTrigger(hour=3, minute=30, timezone=LOCAL), _cleanup),
    Job(J.loans_late, J.loans_late.label, "工作日 08:30", CronTrigger(day_of_week="mon-fri", hour=8, minute=30,
                                                                    timezone=LOCAL), _loans_late),
)}

# what each count a job reports means; "fen" ones are amounts
COUNT_LABELS = {
    "expired": "到期张数", "returned": "退回批次金额", "reminded": "提醒张数", "notified": "已提醒人数",
    "sent": "微信消息", "refused": "微信拒收", "failed": "发送失败", "skipped": "此前已提醒",
    "providers": "待结算机构", "sms_codes": "清理验证码", "revoked_tokens": "清理注销令牌", "job_runs": "清理运行记录",
    "cases": "超时案件", "handlers": "已提醒经办人",
}
AMOUNTS = {"returned"}


def get(name: str) -> Job | None:
    return JOBS.get(name)


def next_run(job: Job, now: datetime) -> datetime | None:
    return job.trigger.get_next_fire_time(None, now)


def fire_time(job: Job, now: datetime, grace: timedelta = timedelta(minutes=10)) -> datetime:
    """The fire time a scheduled run that starts at ``now`` is for (the same in every scheduler
    process, so the second to arrive knows the first already did it); ``now`` to the minute otherwise."""
    fire = job.trigger.get_next_fire_time(None, now - grace)
    if fire is None or fire > now:
        return now.replace(second=0, microsecond=0)
    return fire
