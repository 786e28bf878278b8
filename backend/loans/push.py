"""The applicant's WeChat subscription message for a step of their case, where configured
(``WECHAT_LOAN_STEP_TEMPLATE``; empty: in-app only). Messages wait in the session and go out only
after the step is committed, so a step that is rolled back tells no one and a slow WeChat never holds
the case's row lock."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.accounts import wechat
from backend.accounts.enums import WechatApp
from backend.accounts.models import WechatIdentity
from backend.core.localtime import LOCAL
from backend.extensions import db

log = logging.getLogger(__name__)
KEY = "loan_pushes"


def queue(*, case, step_label: str, state_label: str, at) -> bool:
    """Queue the message for after the commit; False when not configured or the applicant never
    signed in through the mini-program."""
    template = current_app.config.get("WECHAT_LOAN_STEP_TEMPLATE")
    if not template:
        return False
    openid = db.session.scalar(sa.select(WechatIdentity.openid).where(
        WechatIdentity.user_id == case.applicant_id, WechatIdentity.app == WechatApp.mini))
    if not openid:
        return False
    message = dict(openid=openid, template_id=template, page=f"pages/loan-case/index?id={case.id}",
                   data={"thing1": f"创业担保贷款：{step_label}"[:20], "phrase2": state_label[:5],
                         "time3": f"{at.astimezone(LOCAL):%Y-%m-%d %H:%M}"})
    db.session().info.setdefault(KEY, []).append(message)
    return True


@event.listens_for(Session, "after_commit")
def _send(session):
    for message in session.info.pop(KEY, []):  # still inside the request's (or command's) app context
        outcome = wechat.send_subscription(**message)
        if outcome != "sent":
            log.info("loan step message %s: %s", outcome, message["page"])


@event.listens_for(Session, "after_rollback")
def _drop(session):
    session.info.pop(KEY, None)
