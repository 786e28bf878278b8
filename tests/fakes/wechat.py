"""A local HTTP fake of WeChat's login APIs, speaking their real request and response shapes.

- GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code  (mini-program)
- GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code (official account)

Like WeChat, it answers HTTP 200 with ``text/plain`` JSON; failures carry errcode/errmsg:
40029 invalid code, 40163 code been used, 40125 invalid appsecret, 45011 minute quota, -1 busy.
A code is accepted once.  Codes are made by ``issue(openid, unionid=None)``; the special code
``busy`` answers -1 and the minute quota is ``quota_per_minute`` calls per appid.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class FakeWechat:
    MINI_APPID, MINI_SECRET = "wx0000000000mini", "mini-secret-0123456789abcdef"
    OA_APPID, OA_SECRET = "wx00000000000000oa", "oa-secret-0123456789abcdef"

    def __init__(self, quota_per_minute: int = 10_000):
        self.quota_per_minute = quota_per_minute
        self.codes: dict[str, dict] = {}
        self.used: set[str] = set()
        self.calls: list[dict] = []
        self._window: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._server.shutdown()

    def issue(self, openid: str | None = None, unionid: str | None = None) -> str:
        code = "0" + secrets.token_hex(15)  # WeChat codes are 32 characters
        self.codes[code] = {"openid": openid or "o" + secrets.token_hex(13), "unionid": unionid}
        return code

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            body = self._answer(request)
        response = Response(json.dumps(body), content_type="text/plain")
        return response(environ, start_response)

    def _answer(self, request: Request) -> dict:
        args = request.args
        self.calls.append({"path": request.path, **args})
        secrets_by_app = {self.MINI_APPID: self.MINI_SECRET, self.OA_APPID: self.OA_SECRET}
        paths = {"/sns/jscode2session": ("js_code", self.MINI_APPID), "/sns/oauth2/access_token": ("code", self.OA_APPID)}
        if request.path not in paths:
            return {"errcode": 40066, "errmsg": "invalid url"}
        code_param, expected_appid = paths[request.path]
        appid = args.get("appid")
        if appid != expected_appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if args.get("secret") != secrets_by_app[appid]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if args.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        now = time.monotonic()
        window = [t for t in self._window[appid] if now - t < 60]
        window.append(now)
        self._window[appid] = window
        if len(window) > self.quota_per_minute:
            return {"errcode": 45011, "errmsg": "api minute-quota reach limit  mustslower  retry next minute"}
        code = args.get(code_param, "")
        if code == "busy":
            return {"errcode": -1, "errmsg": "system error"}
        if code in self.used:
            return {"errcode": 40163, "errmsg": "code been used"}
        ident = self.codes.get(code)
        if ident is None:
            return {"errcode": 40029, "errmsg": "invalid code"}
        self.used.add(code)
        if request.path == "/sns/jscode2session":
            body = {"openid": ident["openid"], "session_key": secrets.token_urlsafe(16)}
        else:
            body = {"access_token": secrets.token_urlsafe(24), "expires_in": 7200,
                    "refresh_token": secrets.token_urlsafe(24), "openid": ident["openid"],
                    "scope": "snsapi_userinfo", "is_snapshotuser": 0}
        if ident["unionid"]:
            body["unionid"] = ident["unionid"]
        return body

    def reset_quota(self):
        self._window.clear()
