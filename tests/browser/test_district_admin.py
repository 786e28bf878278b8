"""The same console as a province and as a district administrator (Chromium, phone and desktop widths,
the demo with its history): the 任城区 administrator's places, providers, visits and batches hold only
任城区 — the 曲阜 and 邹城 stations and the 曲阜 provider under review are not there, the place form
offers only 任城区 — while the province administrator sees both districts. Every screen is screenshot."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import demo_login, demo_token

DEMO_HISTORY = True
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUFU_STATION, RENCHENG_STATION = "创贷之家·曲阜鼓楼驿站", "创贷之家·古槐路驿站"
QUFU_PROVIDER, RENCHENG_PROVIDER = "曲阜财税代理服务有限公司", "任城青创培训学校"


@pytest.fixture(params=["desktop", "phone"])
def admin_page(request, browser, live_server):
    context = browser.new_context(viewport=DESKTOP if request.param == "desktop" else PHONE, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=live_server.url, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.width_name = request.param
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _open(page, name: str):
    page.goto(f"/#/{name}")
    expect(page.get_by_test_id(f"page-{name}")).to_be_visible()
    expect(page.get_by_test_id("toast")).to_be_hidden()


@pytest.mark.parametrize("who,sees_qufu", [("admin", True), ("district_admin", False)])
def test_each_administrator_sees_their_region(admin_page, live_server, shot, who, sees_qufu):
    page, width = admin_page, admin_page.width_name
    demo_login(page, who)
    expect(page.get_by_test_id("toast")).to_be_hidden()
    shot(page, f"{who}-home-{width}")

    _open(page, "admin-places")
    expect(page.get_by_test_id("place-list")).to_contain_text(RENCHENG_STATION)
    if sees_qufu:
        expect(page.get_by_test_id("place-list")).to_contain_text(QUFU_STATION)
    else:
        expect(page.get_by_test_id("place-total")).to_have_text("共 3 个场所")  # the space, the street, 古槐路
        expect(page.get_by_test_id("place-list")).not_to_contain_text(QUFU_STATION)
        expect(page.get_by_test_id("place-district")).to_have_count(0)  # one district: nothing to choose
    shot(page, f"{who}-places-{width}")

    page.get_by_test_id("place-new").click()
    options = page.get_by_test_id("field-district").locator("option:not([disabled])")
    if sees_qufu:
        expect(options).to_have_count(23)  # every district of 济南 and 济宁
    else:
        expect(options).to_have_text(["任城区"])

    _open(page, "admin-providers")
    expect(page.get_by_test_id("provider-total")).to_be_visible()
    body = page.get_by_test_id("page-admin-providers")
    expect(body).to_contain_text(RENCHENG_PROVIDER)
    if sees_qufu:
        expect(body).to_contain_text(QUFU_PROVIDER)
    else:
        expect(body).not_to_contain_text(QUFU_PROVIDER)
    shot(page, f"{who}-providers-{width}")

    _open(page, "admin-visits")
    table = page.get_by_test_id("visits-by-purpose")
    expect(table).to_contain_text("任城区")
    if sees_qufu:
        expect(table).to_contain_text("曲阜市")
    else:
        expect(table).not_to_contain_text("曲阜市")
    shot(page, f"{who}-visits-{width}")


def test_the_screens_agree_with_the_api(live_server):
    """What the district administrator's screens were checked against: the API holds the same."""
    base = live_server.url
    district = {"Authorization": f"Bearer {demo_token(base, 'district_admin')}"}
    province = {"Authorization": f"Bearer {demo_token(base, 'admin')}"}
    names = lambda url, headers: {p["name"] for p in requests.get(base + url, headers=headers, timeout=5).json()}
    assert QUFU_PROVIDER not in names("/api/admin/providers", district)
    assert QUFU_PROVIDER in names("/api/admin/providers", province)
    assert QUFU_STATION not in names("/api/admin/places", district)
    assert QUFU_STATION in names("/api/admin/places", province)
