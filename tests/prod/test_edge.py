"""What nginx in front promises: security headers with a CSP the miniapp fits, gzip, hashed assets cached
for a year and the page and service worker never, /api proxied with a request id, /metrics not public,
and limits that cut off a huge body or a slow client at nginx — never a stuck app worker."""
from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from deploy.serve import wait_until
from tests.prod.conftest import ROOT, nginx_log

STATIC = ROOT / "static"


def hashed_asset(suffix: str) -> str:
    """The biggest built file of that kind (small ones are below gzip_min_length)."""
    return max((p for p in (STATIC / "assets").iterdir() if p.suffix == suffix and "-" in p.stem),
               key=lambda p: p.stat().st_size).name


def test_security_headers_everywhere(stack):
    for path in ["/", "/#/home", "/some/deep/page", "/sw.js", f"/assets/{hashed_asset('.js')}", "/api/meta",
                 "/manifest.webmanifest"]:
        response = requests.get(stack.url + path, timeout=5)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "'unsafe-eval'" not in csp, path
        assert "style-src-elem 'self';" in csp, path  # no inline <style>; attributes only (ECharts' SVG)
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "camera=(self)" in response.headers["Permissions-Policy"], path
        assert response.headers["Server"] == "nginx", path  # no version


def test_caching_rules(stack):
    asset = requests.get(f"{stack.url}/assets/{hashed_asset('.js')}", timeout=5)
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for path in ["/", "/index.html", "/sw.js", "/some/page"]:
        response = requests.get(stack.url + path, timeout=5)
        assert response.headers["Cache-Control"] == "no-cache", path
    page = requests.get(stack.url + "/any/client/route", timeout=5)
    assert page.text == (STATIC / "index.html").read_text()  # the single-page app's fallback
    assert requests.get(stack.url + "/sw.js", timeout=5).headers["Service-Worker-Allowed"] == "/"


def test_gzip(stack):
    js = requests.get(f"{stack.url}/assets/{hashed_asset('.js')}", headers={"Accept-Encoding": "gzip"}, timeout=5)
    css = requests.get(f"{stack.url}/assets/{hashed_asset('.css')}", headers={"Accept-Encoding": "gzip"}, timeout=5)
    api = requests.get(f"{stack.url}/api/meta", headers={"Accept-Encoding": "gzip"}, timeout=5)
    for response in (js, css, api):
        assert response.headers.get("Content-Encoding") == "gzip", response.url
        assert "Accept-Encoding" in response.headers.get("Vary", "")


def test_api_is_proxied_with_a_request_id_and_metrics_are_not_public(stack):
    response = requests.get(stack.url + "/api/meta", headers={"X-Request-ID": "trace-me-42"}, timeout=5)
    assert response.status_code == 200 and "audit_actions" in response.json()
    # nginx writes the line as the request ends, just after the answer left: wait for it
    wait_until(lambda: any("rid=trace-me-42" in line for line in nginx_log(stack)), 5, "the access log line")
    missing = requests.get(stack.url + "/api/nothing-here", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"  # the app's own error shape
    metrics = requests.get(stack.url + "/metrics", timeout=5)
    assert metrics.status_code == 404 and "python_" not in metrics.text


def test_a_huge_body_is_refused_by_nginx_with_the_error_shape(stack):
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"  # over the app's 4 MiB JSON limit
    response = requests.post(stack.url + "/api/auth/sms-code", data=body,
                             headers={"Content-Type": "application/json"}, timeout=20)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large" and response.json()["message"] == "提交的内容过大"
    assert response.headers["Content-Type"].startswith("application/json")
    # uploads may be bigger (16 MiB, the app's multipart limit) but not without end
    upload = requests.post(stack.url + "/api/uploads", data=b"x" * (17 * 1024 * 1024),
                           headers={"Content-Type": "application/octet-stream"}, timeout=20)
    assert upload.status_code == 413 and upload.json()["code"] == "payload_too_large"
    not_cut = requests.post(stack.url + "/api/uploads", data=b"x" * (6 * 1024 * 1024),
                            headers={"Content-Type": "application/octet-stream"}, timeout=20)
    assert not_cut.status_code != 413 or "max_bytes" in not_cut.json()["details"], "nginx let it reach the app"


def _slow_client(stack, what: str) -> tuple[bytes, float]:
    """A client that starts a request and then goes quiet; returns what nginx said and when it hung up."""
    port = int(stack.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=stack.client_timeout + 10)
    started = time.monotonic()
    if what == "headers":
        sock.sendall(b"GET /api/meta HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    else:
        sock.sendall(b"POST /api/auth/sms-code HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"phone\":")
    received = b""
    while chunk := sock.recv(4096):  # until nginx closes the connection
        received += chunk
    sock.close()
    return received, time.monotonic() - started


def test_slow_clients_are_cut_off_by_nginx_not_by_a_stuck_worker(stack):
    # more slow clients than the two app servers have threads (2 × 1 worker × 4 threads)
    with ThreadPoolExecutor(20) as pool:
        slow = [pool.submit(_slow_client, stack, "headers" if n % 2 else "body") for n in range(20)]
        # while they dawdle, everyone else is served at once
        answered = [requests.get(stack.url + "/api/meta", timeout=3).status_code for _ in range(10)]
        assert answered == [200] * 10
        results = [future.result(timeout=stack.client_timeout + 15) for future in slow]
    for received, seconds in results:
        assert stack.client_timeout - 0.5 <= seconds <= stack.client_timeout + 5
        assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:80]
    wait_until(lambda: [line.split(" status=")[1][:3] for line in nginx_log(stack)].count("408") >= 20, 5,
               "nginx's 408 lines")
    for log in (stack.run / "server-1" / "gunicorn.log", stack.run / "server-2" / "gunicorn.log"):
        text = Path(log).read_text()
        assert "WORKER TIMEOUT" not in text
