"""The programme dashboard in a browser, on a phone and at desktop width: the demo administrator opens
项目看板 from 管理, drills from the province into 济宁市 and 任城区, and every number on the screen
equals the API's and the downloaded workbook's; the charts are drawn (ECharts, loaded with this page
only); a target edited on 年度目标 is the one the dashboard then shows."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, demo_login, demo_token

DEMO_HISTORY = True  # 60 days of visits and months of redemptions: every section has numbers to compare
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}
KEYS = ["events", "attendance", "mentor_visits", "station_visits", "stations_in_service", "vouchers", "providers_listed"]


def number(text: str):
    """What the screen shows → the API's value: '¥750.50' → 75050 (fen), '1,000' → 1000, '—' → None."""
    text = text.strip()
    if text == "—":
        return None
    if text.startswith("¥"):
        yuan, _, cents = text[1:].replace(",", "").partition(".")
        return int(yuan) * 100 + int(cents or 0)
    return int(text.replace(",", ""))


def api(live_server, path: str):
    answer = requests.get(live_server.url + path, timeout=10,
                          headers={"Authorization": f"Bearer {demo_token(live_server.url, 'admin')}"})
    assert answer.status_code == 200, answer.text
    return answer


def screen_numbers(page, report) -> dict:
    seen = {}
    for section in report["sections"]:
        key = section["key"]
        card = page.get_by_test_id(f"section-{key}")
        seen[key] = {
            "actual": number(card.get_by_test_id(f"actual-{key}").inner_text()),
            "target": number(card.get_by_test_id(f"target-{key}").inner_text()),
            "expected_by_now": number(card.get_by_test_id(f"expected-{key}").inner_text()),
            "by_month": [number(card.get_by_test_id(f"month-{key}-{m}").inner_text()) for m in range(1, 13)],
            "by_region": {code: (number(row.get_by_test_id("row-actual").inner_text()),
                                 number(row.get_by_test_id("row-target").inner_text()))
                          for code in [r["code"] for r in section["by_region"]]
                          for row in [card.get_by_test_id(f"region-row-{key}-{code}")]},
        }
    return seen


def api_numbers(report) -> dict:
    return {s["key"]: {"actual": s["actual"], "target": s["target"], "expected_by_now": s["expected_by_now"],
                       "by_month": [None if v is None else v for v in s["by_month"]],
                       "by_region": {r["code"]: (r["actual"], r["target"]) for r in s["by_region"]}}
            for s in report["sections"]}


def workbook_numbers(path) -> dict:
    book = load_workbook(io.BytesIO(Path(path).read_bytes()))
    overview = {row[0]: row for row in list(book["总览"].iter_rows(values_only=True))[2:]}
    out = {}
    for title, row in overview.items():
        if title not in book.sheetnames:
            continue
        sheet = list(book[title].iter_rows(values_only=True))
        months = next(r for r in sheet if r and isinstance(r[0], str) and r[0].startswith("实际"))
        out[title] = {"target": row[2], "actual": row[3], "expected_by_now": row[4], "by_month": list(months[1:13])}
    return out


def check_all_three_agree(page, live_server, year: int, region: str, shot, name: str):
    report = api(live_server, f"/api/admin/dashboard?year={year}&region={region}").json()
    assert {"events", "mentor_visits", "station_visits", "vouchers"} <= {s["key"] for s in report["sections"]}
    for key in KEYS:
        expect(page.get_by_test_id(f"chart-trend-{key}").locator("svg")).to_be_visible()
    assert screen_numbers(page, report) == api_numbers(report)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename == f"dashboard-{region}-{year}.xlsx"
    book = workbook_numbers(download.value.path())
    for section in report["sections"]:
        scale = 100 if section["money"] else 1
        sheet = book[section["title"]]
        as_api = {k: None if sheet[k] is None else round(sheet[k] * scale) for k in ("target", "actual", "expected_by_now")}
        assert as_api == {k: section[k] for k in as_api}, section["key"]
        assert [None if v is None else round(v * scale) for v in sheet["by_month"]] == section["by_month"]
    return report


def open_dashboard(page):
    demo_login(page, "admin")
    page.get_by_test_id("admin-dashboard").click()
    expect(page.get_by_test_id("page-admin-dashboard")).to_be_visible()
    expect(page.get_by_test_id("section-events")).to_be_visible()


def test_the_phone_dashboard_drills_down_and_agrees_with_the_api_and_the_workbook(page, live_server, shot):
    open_dashboard(page)
    year = int(page.get_by_test_id("page-admin-dashboard").locator(".dash__head-title").inner_text().split()[1])
    expect(page.get_by_test_id("region-name")).to_have_text("山东省")
    check_all_three_agree(page, live_server, year, "370000", shot, "admin-dashboard-province-390")

    page.get_by_test_id("region-row-events-370800").click()
    expect(page.get_by_test_id("region-name")).to_have_text("济宁市")
    expect(page.get_by_test_id("target-events")).to_have_text("100")  # the Jining plan, seeded
    report = check_all_three_agree(page, live_server, year, "370800", shot, "admin-dashboard-jining-390")
    events = next(s for s in report["sections"] if s["key"] == "events")
    assert events["actual"] > 0 and events["plan"].startswith("济政办字〔2024〕50号")
    expect(page.get_by_test_id("ratio-events")).to_contain_text("济政办字〔2024〕50号")

    page.get_by_test_id("region-row-events-370811").click()
    expect(page.get_by_test_id("region-name")).to_have_text("任城区")
    report = check_all_three_agree(page, live_server, year, "370811", shot, "admin-dashboard-rencheng-390")
    places = [r["name"] for r in next(s for s in report["sections"] if s["key"] == "events")["by_region"]]
    assert "喵小创·任城创业陪跑空间" in places
    expect(page.get_by_test_id("section-events").get_by_test_id("by-region-events")).to_contain_text("喵小创·任城创业陪跑空间")

    page.get_by_test_id("region-up-370800").click()
    expect(page.get_by_test_id("region-name")).to_have_text("济宁市")


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(viewport=DESKTOP_VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the desktop page: {errors}"


def test_the_desktop_dashboard_agrees_too_and_an_edited_target_shows(desktop, live_server, shot):
    page = desktop
    open_dashboard(page)
    year = int(page.locator(".dash__head-title").inner_text().split()[1])
    page.goto(f"/#/admin-dashboard?year={year}&region=370800")
    expect(page.get_by_test_id("region-name")).to_have_text("济宁市")
    check_all_three_agree(page, live_server, year, "370800", shot, "admin-dashboard-jining-1280")

    page.get_by_test_id("open-targets").click()
    expect(page.get_by_test_id("page-admin-targets")).to_be_visible()
    page.get_by_test_id("target-370800-mentor_visits").click()
    expect(page.get_by_test_id("target-dialog")).to_contain_text("济宁市 · 创业导师基层行场次")
    page.get_by_test_id("target-value").fill("-2")
    page.get_by_test_id("target-save").click()
    expect(page.get_by_test_id("error-value")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-targets-edit-1280.png"))  # the dialog as seen, not the whole page
    page.get_by_test_id("target-value").fill("24")
    page.get_by_test_id("target-save").click()
    expect(page.get_by_test_id("target-dialog")).to_be_hidden()
    expect(page.get_by_test_id("target-370800-mentor_visits")).to_contain_text("24 场")
    shot(page, "admin-targets-1280")

    page.go_back()
    expect(page.get_by_test_id("target-mentor_visits")).to_have_text("24")
    report = api(live_server, f"/api/admin/dashboard?year={year}&region=370800").json()
    assert next(s for s in report["sections"] if s["key"] == "mentor_visits")["target"] == 24
    log = api(live_server, "/api/admin/audit-log?target_type=programme_target").json()
    assert log[0]["action"] == "target.update" and log[0]["after"] == {"value": 24}


def test_the_charts_load_only_with_the_dashboard(page, live_server):
    loaded = []
    page.on("request", lambda r: loaded.append(r.url) if re.search(r"/assets/echarts-[\w-]+\.js", r.url) else None)
    demo_login(page, "admin")
    expect(page.get_by_test_id("admin-dashboard")).to_be_visible()
    assert loaded == []
    page.get_by_test_id("admin-dashboard").click()
    expect(page.get_by_test_id("chart-gauge-events").locator("svg")).to_be_visible()
    assert len(loaded) == 1
    # Nor does every phone's service worker fetch them in the background: the chunk is not precached.
    chunk = loaded[0].rsplit("/", 1)[1]
    assert chunk not in requests.get(live_server.url + "/sw.js", timeout=5).text
