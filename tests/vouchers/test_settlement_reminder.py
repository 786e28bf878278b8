"""The month-end settlement reminder (scheduled on the last 3 days of the month): the staff of each
provider with redemptions in no statement are told how many and how much, once per month."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.core.db import utcnow
from backend.core.localtime import LOCAL
from backend.extensions import db
from backend.notifications.models import Notification
from backend.vouchers import settlement
from backend.vouchers.models import Redemption
from tests.factories import make_staff
from tests.vouchers.test_redemption import redeem, shop  # noqa: F401 - the fixture


def reminders(user_id):
    return db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id,
                                                            Notification.kind == "settlement_reminder")).all()


def test_providers_with_unsettled_redemptions_are_reminded_once_a_month(shop):  # noqa: F811
    colleague, _ = make_staff(provider=shop.provider)
    idle_staff, _ = make_staff()  # a provider with nothing redeemed hears nothing
    redeem(shop, 40_000, key="key-remind-1")  # ¥200 off the voucher
    receipt, _ = redeem(shop, 20_000, key="key-remind-2")
    receipt.reversed_at = utcnow()  # a reversed one counts but adds nothing
    db.session.flush()
    month_end = datetime(2099, 1, 30, 9, 30, tzinfo=LOCAL)
    assert settlement.remind_unsettled(now=month_end) == {"providers": 1, "notified": 2}
    [note] = reminders(shop.staff.id)
    assert "2 笔" in note.body and "¥200.00" in note.body and "您" in note.body and note.link == "provider-statements"
    assert len(reminders(colleague.id)) == 1 and reminders(idle_staff.id) == []
    # the next day of the same month: nobody twice
    assert settlement.remind_unsettled(now=month_end + timedelta(days=1)) == {"providers": 1, "notified": 0}
    # still unsettled at the next month's end: reminded again
    assert settlement.remind_unsettled(now=datetime(2099, 2, 27, 9, 30, tzinfo=LOCAL))["notified"] == 2


def test_redemptions_in_a_statement_are_not_reminded(shop):  # noqa: F811
    redeem(shop, 40_000, key="key-remind-3")
    month = utcnow().astimezone(LOCAL).strftime("%Y-%m")
    statement = settlement.SettlementStatement(provider_id=shop.provider.id, month=month)
    db.session.add(statement)
    db.session.flush()
    db.session.execute(sa.update(Redemption).where(Redemption.provider_id == shop.provider.id)
                       .values(statement_id=statement.id))
    assert settlement.remind_unsettled() == {"providers": 0, "notified": 0}
