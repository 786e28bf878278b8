"""The public 服务机构目录 in Chromium: an anonymous visitor reads the catalogue and filters it, sees
the public notice list with its end date; a signed-in entrepreneur raises an objection (the server's
message when it is too short, then 提交成功) and an administrator sees it through the API."""
import re

import requests
from playwright.sync_api import expect
from tests.browser.conftest import demo_token

LISTED = "济宁创客孵化器有限公司"
ON_NOTICE = "任城知识产权服务中心"


def provider_card(page, name):
    return page.get_by_test_id("provider-list").locator("article", has_text=name)


def test_anonymous_visitor_reads_the_catalogue_and_filters_it(page, shot):
    page.goto("/#/providers")
    expect(page.get_by_test_id("page-providers")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/providers$"))  # not sent to the login page
    expect(page.get_by_test_id("providers-note")).to_contain_text("可以受理创业券")
    expect(page.get_by_test_id("providers-note")).to_contain_text("不能使用创业券")
    card = provider_card(page, LISTED)
    expect(card).to_be_visible()
    expect(card).to_contain_text("房租抵扣")
    expect(card).to_contain_text("任城区")
    expect(card).to_contain_text("科苑路 16 号")
    expect(page.get_by_test_id("provider-list").locator("article")).to_have_count(1)
    expect(page.get_by_test_id("tab-listed")).to_have_attribute("aria-selected", "true")
    shot(page, "providers-catalogue")

    page.get_by_test_id("category-rent").click()
    expect(page.get_by_test_id("category-rent")).to_have_attribute("aria-pressed", "true")
    expect(provider_card(page, LISTED)).to_be_visible()
    shot(page, "providers-filter-rent")

    page.get_by_test_id("category-ip").click()
    empty = page.get_by_test_id("empty-state")
    expect(empty).to_contain_text("没有找到符合条件的服务机构")
    expect(empty.get_by_role("button", name="清除筛选条件")).to_be_visible()
    shot(page, "providers-filter-empty")
    empty.get_by_role("button", name="清除筛选条件").click()
    expect(provider_card(page, LISTED)).to_be_visible()

    page.get_by_test_id("tab-notice").click()
    notice = provider_card(page, ON_NOTICE)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("知识产权")
    expect(notice.get_by_test_id("notice-until")).to_contain_text("公示至 20")
    expect(notice.get_by_test_id("notice-until")).to_contain_text("日")
    expect(page.get_by_test_id("provider-list").locator("article")).to_have_count(1)
    shot(page, "providers-notice")

    # Not signed in: 提出异议 asks to log in first.
    notice.get_by_role("button", name="提出异议").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("登录后才能提出异议")
    shot(page, "providers-objection-login")
    page.get_by_role("button", name="取消").click()
    expect(page.get_by_test_id("confirm-dialog")).to_have_count(0)


def test_entrepreneur_raises_an_objection_and_the_admin_sees_it(page, live_server, shot):
    page.goto("/")
    page.get_by_test_id("demo-login-entrepreneur").click()
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "entrepreneur")
    page.goto("/#/providers?tab=notice")
    notice = provider_card(page, ON_NOTICE)
    expect(notice).to_be_visible()
    provider_id = notice.get_attribute("data-testid").removeprefix("provider-")

    notice.get_by_role("button", name="提出异议").click()
    form = page.get_by_test_id("objection-form")
    expect(form).to_be_visible()
    form.get_by_test_id("objection-text").fill("不对")
    form.get_by_test_id("objection-submit").click()
    expect(form.get_by_test_id("objection-error")).to_have_text("异议内容为 5 到 500 字")
    shot(page, "providers-objection-too-short")

    text = "该机构登记的地址实际没有办公场所，请核实。"
    form.get_by_test_id("objection-text").fill(text)
    form.get_by_test_id("objection-submit").click()
    expect(page.get_by_test_id("toast")).to_contain_text("异议已提交")
    expect(page.locator(".weui-toast")).to_be_visible()
    expect(page.get_by_test_id("objection-form")).to_have_count(0)
    expect(notice.get_by_test_id(f"objected-{provider_id}")).to_have_text("已提交异议")
    shot(page, "providers-objection-sent")

    token = demo_token(live_server.url, "admin")
    response = requests.get(f"{live_server.url}/api/admin/providers/{provider_id}/objections",
                            headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 200, response.text
    assert [o["text"] for o in response.json()] == [text]


def test_a_new_organisation_finds_the_way_in_from_the_catalogue(page, shot):
    """机构入驻 on the public catalogue: a visitor logs in first and lands on 登记服务机构, not on the home tab."""
    page.goto("/#/providers")
    join = page.get_by_test_id("provider-join")
    expect(join).to_contain_text("机构入驻")
    expect(provider_card(page, LISTED)).to_be_visible()
    shot(page, "providers-join")
    join.click()
    expect(page).to_have_url(re.compile(r"#/login\?next=provider-register$"))
    page.get_by_test_id("demo-login-entrepreneur").click()
    expect(page.get_by_test_id("page-provider-register")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/provider-register$"))
    page.goto("/#/providers")  # signed in: straight to the form
    page.get_by_test_id("provider-join").click()
    expect(page.get_by_test_id("page-provider-register")).to_be_visible()
    page.goto("/#/providers?tab=notice")  # the notice list is about objections, not joining
    expect(page.get_by_test_id("providers-note")).to_contain_text("正在公示")
    expect(page.get_by_test_id("provider-join")).to_have_count(0)
