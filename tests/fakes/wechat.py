"""A local HTTP fake of WeChat's login and subscription-message APIs, speaking their real request
and response shapes.

- GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code  (mini-program)
- GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code (official account)
- GET /cgi-bin/token?grant_type=client_credential&appid&secret → {access_token, expires_in: 7200}
- POST /cgi-bin/message/subscribe/send?access_token= {touser, template_id, page, data:{key:{value}}}
  → {errcode: 0, errmsg: "ok"}; 40001 invalid access token, 43101 user refused (not subscribed),
  47003 template argument error (a ``thing`` value over 20 characters, a missing key).

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
        self.tokens: set[str] = set()
        self.subscribed: set[tuple[str, str]] = set()  # (openid, template_id) that agreed to receive
        self.templates: dict[str, list[str]] = {}  # template_id -> its keys
        self.sent: list[dict] = []
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

    def expire_tokens(self):
        self.tokens.clear()

    def _answer(self, request: Request) -> dict:
        args = request.args
        self.calls.append({"path": request.path, **args})
        if request.path == "/cgi-bin/token":
            return self._token(args)
        if request.path == "/cgi-bin/message/subscribe/send":
            return self._subscribe_send(args, request.get_json(silent=True) or {})
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

    def _token(self, args) -> dict:
        if args.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if args.get("appid") != self.MINI_APPID or args.get("secret") != self.MINI_SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(48)
        self.tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def _subscribe_send(self, args, body) -> dict:
        if args.get("access_token") not in self.tokens:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        keys = self.templates.get(body.get("template_id"))
        if keys is None:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        data = body.get("data") or {}
        if set(data) != set(keys) or any(k.startswith("thing") and len(v.get("value", "")) > 20 for k, v in data.items()):
            return {"errcode": 47003, "errmsg": "argument invalid!"}
        if (body.get("touser"), body["template_id"]) not in self.subscribed:
            return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
        self.sent.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def reset_quota(self):
        self._window.clear()
