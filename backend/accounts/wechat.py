"""WeChat login: the mini-program's code2session and the official account's web OAuth
code exchange.  Both answer JSON; a failure carries ``errcode`` / ``errmsg``."""
from __future__ import annotations

import logging

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
