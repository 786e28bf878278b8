"""WeChat login: the mini-program's code2session and the official account's web OAuth
code exchange.  Both answer JSON; a failure carries ``errcode`` / ``errmsg``."""
from __future__ import annotations

import logging
import time

import requests
from flask import current_app

from backend.accounts.enums import WechatApp
from backend.core.errors import DomainError

log = logging.getLogger(__name__)

# errcode -> (our code, Chinese message, HTTP status)
WECHAT_ERRORS = {
    40029: ("wechat_code_invalid", "微信登录凭证无效或已过期，请重新进入", 400),
    40163: ("wechat_code_used", "微信登录凭证已被使用，请重新进入", 400),
    45011: ("wechat_rate_limited", "微信登录太频繁，请稍后再试", 429),
    40226: ("wechat_user_blocked", "该微信账号存在风险，暂不能登录", 403),
    -1: ("wechat_busy", "微信系统繁忙，请稍后再试", 503),
}

ENDPOINTS = {
    WechatApp.mini: ("/sns/jscode2session", "js_code", "WECHAT_MINI_APPID", "WECHAT_MINI_SECRET"),
    WechatApp.oa: ("/sns/oauth2/access_token", "code", "WECHAT_OA_APPID", "WECHAT_OA_SECRET"),
}


def exchange_code(*, app: WechatApp, code: str) -> dict:
    """Return {"appid", "openid", "unionid"} for a login code, or raise a DomainError."""
    path, code_param, appid_key, secret_key = ENDPOINTS[app]
    appid, secret = current_app.config[appid_key], current_app.config[secret_key]
    if not appid or not secret:
        raise DomainError("未配置微信登录", code="wechat_not_configured", status=503)
    url = current_app.config["WECHAT_API_BASE"].rstrip("/") + path
    params = {"appid": appid, "secret": secret, code_param: code, "grant_type": "authorization_code"}
    try:
        response = requests.get(url, params=params, timeout=current_app.config["WECHAT_TIMEOUT_SECONDS"])
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("wechat %s exchange failed: %s", app.value, exc)
        raise DomainError("暂时无法连接微信，请稍后再试", code="wechat_unreachable", status=503) from exc
    errcode = data.get("errcode") or 0
    if errcode:
        log.info("wechat %s errcode %s: %s", app.value, errcode, data.get("errmsg"))
        our_code, message, status = WECHAT_ERRORS.get(errcode, ("wechat_error", "微信登录失败，请稍后再试", 502))
        raise DomainError(message, code=our_code, status=status, details={"errcode": errcode})
    if not data.get("openid"):
        raise DomainError("微信登录失败，请稍后再试", code="wechat_error", status=502)
    return {"appid": appid, "openid": data["openid"], "unionid": data.get("unionid")}


# --- subscription messages (订阅消息) ------------------------------------------------------------
# POST /cgi-bin/message/subscribe/send?access_token=… with {touser, template_id, page, data}; the
# access token comes from GET /cgi-bin/token?grant_type=client_credential&appid&secret and lives
# 7200 s. errcode 43101: the person has not (or no longer) agreed to receive this template.

_token: dict = {"value": None, "expires": 0.0, "appid": None}
TOKEN_STALE = {40001, 40014, 42001}  # invalid / expired access token: fetch a new one once


def _access_token(*, refresh: bool = False) -> str:
    appid, secret = current_app.config["WECHAT_MINI_APPID"], current_app.config["WECHAT_MINI_SECRET"]
    if not refresh and _token["value"] and _token["appid"] == appid and time.monotonic() < _token["expires"]:
        return _token["value"]
    url = current_app.config["WECHAT_API_BASE"].rstrip("/") + "/cgi-bin/token"
    data = requests.get(url, params={"grant_type": "client_credential", "appid": appid, "secret": secret},
                        timeout=current_app.config["WECHAT_TIMEOUT_SECONDS"]).json()
    if data.get("errcode"):
        raise WechatError(data["errcode"], data.get("errmsg", ""))
    _token.update(value=data["access_token"], appid=appid,
                  expires=time.monotonic() + int(data.get("expires_in", 7200)) - 300)
    return _token["value"]


class WechatError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode


def send_subscription(*, openid: str, template_id: str, page: str, data: dict[str, str]) -> str:
    """Send one subscription message. Returns "sent", "refused" (43101: not subscribed) or "failed"."""
    body = {"touser": openid, "template_id": template_id, "page": page,
            "data": {key: {"value": value} for key, value in data.items()}}
    url = current_app.config["WECHAT_API_BASE"].rstrip("/") + "/cgi-bin/message/subscribe/send"
    try:
        for attempt in range(2):
            answer = requests.post(url, params={"access_token": _access_token(refresh=attempt > 0)}, json=body,
                                   timeout=current_app.config["WECHAT_TIMEOUT_SECONDS"]).json()
            errcode = answer.get("errcode") or 0
            if errcode not in TOKEN_STALE:
                break
    except (requests.RequestException, ValueError, WechatError) as exc:
        log.warning("wechat subscription message failed: %s", exc)
        return "failed"
    if errcode == 0:
        return "sent"
    if errcode == 43101:
        return "refused"
    log.warning("wechat subscription message errcode %s: %s", errcode, answer.get("errmsg"))
    return "failed"
