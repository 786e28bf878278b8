"""A server failure's toast ends with 「错误编号」 and the first 8 characters of the answer's X-Request-ID
(what the JSON log lines carry), so a user's screenshot leads to the logs; a refusal (4xx) reads as before."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import demo_login


def answer_with(status: int, code: str, message: str, request_id: str):
    def fulfil(route):
        route.fulfill(status=status, content_type="application/json", headers={"X-Request-ID": request_id},
                      body=json.dumps({"code": code, "message": message, "details": {}}))

    return fulfil


def test_a_5xx_toast_names_the_request_a_4xx_toast_does_not(page, shot):
    demo_login(page, "admin")
    page.goto("/#/admin-audit")
    expect(page.get_by_test_id("page-admin-audit")).to_be_visible()
    expect(page.get_by_test_id("list-loading")).to_have_count(0)

    page.route("**/api/admin/audit-log.xlsx*",
               answer_with(503, "service_unavailable", "服务暂时不可用，请稍后重试", "deadbeef0123456789abcdef"))
    page.get_by_test_id("audit-export").click()
    toast = page.get_by_test_id("toast")
    expect(toast).to_have_text("服务暂时不可用，请稍后重试（错误编号 deadbeef）")
    shot(page, "error-reference-toast-390")
    expect(toast).to_have_count(0, timeout=5000)

    page.unroute("**/api/admin/audit-log.xlsx*")
    page.route("**/api/admin/audit-log.xlsx*", answer_with(403, "forbidden", "没有权限执行此操作", "cafebabe01234567"))
    page.get_by_test_id("audit-export").click()
    expect(toast).to_have_text("没有权限执行此操作")
