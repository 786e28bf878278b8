"""The miniapp shell in Chromium: logins, the tab bar of each role, profile editing, places,
and the shell opening with no network."""
import pytest
from playwright.sync_api import expect
from tests.browser.conftest import demo_login

TABS = {
    "entrepreneur": ["首页", "活动", "创业券", "场所", "我的"],
    "provider_staff": ["工作台", "我的"],
    "station_staff": ["工作台", "场所", "我的"],
    "organiser": ["工作台", "场所", "我的"],
    "admin": ["管理", "场所", "我的"],
}


@pytest.mark.parametrize("role", list(TABS))
def test_demo_login_shows_the_role_tab_bar(page, shot, role):
    demo_login(page, role)
    tabbar = page.get_by_test_id("tabbar")
    expect(tabbar.locator("[data-testid^=tab-]")).to_have_text(TABS[role])
    shot(page, f"home-{role}")


def test_login_with_phone_and_sms_code(page, live_server, shot):
    page.goto("/")
    page.get_by_test_id("login-phone").fill("1234")
    page.get_by_test_id("send-code").click()
    expect(page.get_by_test_id("phone-error")).to_contain_text("手机号")
    shot(page, "login-phone-error")
    page.get_by_test_id("login-phone").fill("19900000001")
    page.get_by_test_id("send-code").click()
    expect(page.get_by_test_id("send-code")).to_contain_text("秒后重发")
    code = live_server.last_sms_code("199****0001")
    page.get_by_test_id("login-code").fill(f"{(int(code) + 1) % 1000000:06d}")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("code-error")).to_contain_text("验证码错误")
    page.get_by_test_id("login-code").fill(code)
    shot(page, "login")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "entrepreneur")
    page.get_by_test_id("tab-mine").click()
    expect(page.get_by_test_id("mine-phone")).to_have_text("199****0001")
    shot(page, "mine")


def test_profile_edit_shows_field_errors_then_saves(page, shot):
    demo_login(page, "entrepreneur")
    page.get_by_test_id("tab-mine").click()
    page.get_by_test_id("edit-profile").click()
    expect(page.get_by_test_id("page-profile-edit")).to_be_visible()
    page.get_by_test_id("subject-startup").click()  # organisation fields appear for firms
    page.get_by_test_id("field-org_name").fill("济宁智造科技有限公司")
    page.get_by_test_id("field-credit_code").fill("91370800MA3C4D5E6Z")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("error-credit_code")).to_contain_text("统一社会信用代码")
    shot(page, "profile-edit-error")
    from tests.factories import valid_credit_code, valid_id_number

    page.get_by_test_id("field-credit_code").fill(valid_credit_code())
    page.get_by_test_id("field-id_number").fill(valid_id_number())
    page.get_by_test_id("field-district").select_option("370811")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("error-credit_code")).to_have_count(0)
    expect(page.get_by_test_id("page-mine")).to_be_visible()
    shot(page, "mine-after-profile")
    page.get_by_test_id("edit-profile").click()
    expect(page.get_by_test_id("field-org_name")).to_have_value("济宁智造科技有限公司")
    shot(page, "profile-edit")


def test_places_list_filter_and_detail(page, shot):
    demo_login(page, "entrepreneur")
    page.get_by_test_id("tab-places").click()
    places = page.get_by_test_id("places-list")
    expect(places.locator("[data-testid^=place-]")).to_have_count(5)
    shot(page, "places")
    page.get_by_test_id("kind-loan_station").click()
    expect(places.locator("[data-testid^=place-]")).to_have_count(3)
    page.get_by_test_id("places-search-label").click()  # WeUI search bar: tap to open the input
    page.get_by_test_id("places-search").fill("曲阜")
    page.get_by_test_id("places-search").press("Enter")
    expect(places.locator("[data-testid^=place-]")).to_have_count(1)
    places.locator("[data-testid^=place-]").first.click()
    expect(page.get_by_test_id("place-name")).to_have_text("创贷之家·曲阜鼓楼驿站")
    shot(page, "place-detail")


def test_role_switch_changes_the_tab_bar(page, live_server, shot):
    import requests

    # give the demo organiser the entrepreneur role too, through the admin API
    admin = requests.post(live_server.url + "/api/auth/demo-login", json={"role": "admin"}).json()
    organiser = requests.post(live_server.url + "/api/auth/demo-login", json={"role": "organiser"}).json()["user"]
    granted = requests.post(f"{live_server.url}/api/admin/users/{organiser['id']}/roles",
                            headers={"Authorization": f"Bearer {admin['access_token']}"}, json={"role": "entrepreneur"})
    assert granted.ok, granted.text
    demo_login(page, "organiser")
    page.get_by_test_id("tab-mine").click()
    page.get_by_test_id("switch-role").click()
    shot(page, "role-switch")
    page.get_by_test_id("sheet-option-entrepreneur").click()
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "entrepreneur")


def test_the_shell_opens_offline_and_shows_cached_data(page, context, shot):
    demo_login(page, "entrepreneur")
    page.get_by_test_id("tab-places").click()
    expect(page.get_by_test_id("places-list").locator("[data-testid^=place-]")).to_have_count(5)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "entrepreneur")
    expect(page.get_by_test_id("places-list").locator("[data-testid^=place-]")).to_have_count(5)
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    shot(page, "places-offline")
    page.get_by_test_id("tab-mine").click()
    expect(page.get_by_test_id("mine-phone")).to_have_text("199****0001")
    context.set_offline(False)


def test_logout_returns_to_login(page, shot):
    demo_login(page, "admin")
    shot(page, "admin")
    page.get_by_test_id("tab-mine").click()
    page.get_by_test_id("logout").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("demo-accounts")).to_be_visible()
    expect(page.get_by_test_id("tabbar")).to_have_count(0)
