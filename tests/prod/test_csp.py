"""The CSP nginx sends fits the miniapp: every role's pages, opened in Debian's Chromium through nginx,
raise no Content-Security-Policy violation (scripts and style sheets only from the site itself, no
inline script or <style>; style attributes, which the dashboard's ECharts SVG sets, are allowed). The same listener does see a violation when a page tries an inline style, so silence means
something."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.prod.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGES = {
    "entrepreneur": ["home", "events", "vouchers", "wallet", "places", "mine", "personal-code", "my-visits",
                     "notifications", "providers"],
    "admin": ["admin", "admin-dashboard", "admin-batches", "admin-visits", "admin-people", "admin-audit",
              "admin-places", "admin-statements"],
    "provider_staff": ["provider-home", "redeem", "provider-redemptions"],
    "station_staff": ["workbench", "station-scanner"],
    "organiser": ["organiser-events"],
}
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture(scope="module")
def seeded(stack):
    stack.flask("seed-demo", "--no-history")
    return stack


def test_no_csp_violation_on_any_role_page(seeded, browser):
    shots = ROOT / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    violations = []
    # a browser of its own (camera allowed) from the session's Playwright, which the browser tests share
    browser = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    try:
        for role, names in PAGES.items():
            context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=seeded.url,
                                          permissions=["camera"])
            context.add_init_script(LISTEN)
            page = context.new_page()
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto("/")
            page.get_by_test_id(f"demo-login-{role}").click()
            expect(page.get_by_test_id("tabbar")).to_be_visible()
            for name in names:
                page.goto(f"/#/{name}")
                page.wait_for_load_state("networkidle")
                violations += [f"{role} {name}: {v}" for v in page.evaluate("window.__csp")]
            if role == "admin":  # the charts (ECharts, SVG) drawn, not only the page's frame
                page.goto("/#/admin-dashboard")
                expect(page.get_by_test_id("chart-trend-events").locator("svg")).to_be_visible()
                page.get_by_test_id("chart-trend-events").locator("svg").hover()
                violations += [f"admin dashboard charts: {v}" for v in page.evaluate("window.__csp")]
                page.screenshot(path=str(shots / "prod-nginx-admin-dashboard.png"))
            context.close()
        # the control: an inline style is refused and reported by the same listener
        context = browser.new_context(base_url=seeded.url)
        context.add_init_script(LISTEN)
        page = context.new_page()
        page.goto("/")
        page.evaluate("() => { const s = document.createElement('style'); s.textContent = 'body{color:red}';"
                      " document.head.append(s); }")
        page.wait_for_function("window.__csp.length > 0")
        assert "style-src" in page.evaluate("window.__csp")[0]
    finally:
        browser.close()
    assert violations == []
