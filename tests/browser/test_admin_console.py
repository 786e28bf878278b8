"""The administrators' console in Chromium: the province administrator finds a person by name, grants
场所工作人员 bound to a place picked by name, revokes it, blocks and restores the account; the audit
screen shows those entries by name in Chinese, filters them and exports them as XLSX. A person
without the admin role who opens #/admin-people sees the plain no-permission page and goes back to
their home. At 1280 px the console has its side navigation; at 390 px it has not (the phone layout).
Every new page is screenshot at both widths."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import demo_login

DESKTOP = {"width": 1280, "height": 860}
PERSON = "张创业"  # the demo entrepreneur
PLACE = "创贷之家·邹城平阳驿站"


def snap(shot, page, name: str):
    expect(page.get_by_test_id("toast")).to_have_count(0, timeout=5000)
    shot(page, name)


def open_page(page, hash_path: str, testid: str):
    page.goto(f"/#/{hash_path}")
    expect(page.get_by_test_id(testid)).to_be_visible()
    expect(page.get_by_test_id("list-loading")).to_have_count(0)


def find_person(page):
    open_page(page, "admin-people", "page-admin-people")
    page.get_by_test_id("people-search-label").click()
    page.get_by_test_id("people-search").fill(PERSON)
    page.get_by_test_id("people-search").press("Enter")
    expect(page.get_by_test_id("people-total")).to_have_text("共 1 人")
    card = page.locator("[data-testid^=person-]").filter(has_text=PERSON).first
    expect(card).to_contain_text("199****0001")  # the phone, masked
    return card


def confirm(page):
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("confirm-dialog")).to_have_count(0)


def test_province_admin_grants_revokes_blocks_and_restores_then_reads_the_audit_log(page, shot):
    demo_login(page, "admin")
    find_person(page).click()
    sheet = page.get_by_test_id("person-sheet")
    expect(sheet.get_by_test_id("grant-entrepreneur")).to_contain_text("创业者")
    snap(shot, page, "admin-people-sheet-390")

    # grant 场所工作人员: without a place first (refused in Chinese), then with one picked by name
    page.get_by_test_id("person-grant").click()
    page.get_by_test_id("grant-role").select_option("station_staff")
    page.get_by_test_id("grant-ok").click()
    expect(page.get_by_test_id("grant-error")).to_have_text("请选择驿站/场所")
    page.get_by_test_id("grant-find").fill("平阳")
    page.get_by_test_id("grant-find").press("Enter")
    option = page.locator("[data-testid^=grant-option-]").filter(has_text=PLACE)
    expect(option).to_have_count(1)
    option.click()
    snap(shot, page, "admin-people-grant-390")
    page.get_by_test_id("grant-ok").click()
    expect(page.get_by_test_id("grant-dialog")).to_have_count(0)
    granted = sheet.get_by_test_id("grant-station_staff")
    expect(granted).to_contain_text("场所工作人员")
    expect(granted).to_contain_text(f"场所：{PLACE}")

    # revoke it
    granted.get_by_test_id("grant-revoke").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text(f"场所工作人员 · {PLACE}")
    confirm(page)
    expect(sheet.get_by_test_id("grant-station_staff")).to_have_count(0)

    # block, then restore
    page.get_by_test_id("person-block").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("停用")
    confirm(page)
    expect(page.get_by_test_id("person-restore")).to_be_visible()
    page.get_by_test_id("person-close").click()
    expect(page.get_by_test_id("person-blocked")).to_have_text("已停用")
    snap(shot, page, "admin-people-390")
    page.locator("[data-testid^=person-]").filter(has_text=PERSON).first.click()
    page.get_by_test_id("person-restore").click()
    confirm(page)
    expect(page.get_by_test_id("person-block")).to_be_visible()
    page.get_by_test_id("person-close").click()
    expect(page.get_by_test_id("person-blocked")).to_have_count(0)

    # from the person's sheet to what was done to them
    page.locator("[data-testid^=person-]").filter(has_text=PERSON).first.click()
    page.get_by_test_id("person-audit").click()
    expect(page.get_by_test_id("page-admin-audit")).to_be_visible()
    expect(page.get_by_test_id("audit-target-type")).to_have_value("user")
    entries = page.get_by_test_id("audit-entry")
    expect(entries.first).to_contain_text("恢复账号")
    for i in range(entries.count()):
        expect(entries.nth(i)).to_contain_text(f"人员“{PERSON}”")

    # the audit log: newest first, by name, in Chinese
    open_page(page, "admin-audit", "page-admin-audit")
    labels = page.get_by_test_id("audit-action-label")
    expect(labels.nth(0)).to_have_text("恢复账号")
    expect(labels.nth(1)).to_have_text("停用账号")
    expect(labels.nth(2)).to_have_text("撤销角色")
    expect(labels.nth(3)).to_have_text("授予角色")
    first = page.get_by_test_id("audit-entry").filter(has_text="授予角色").first
    expect(first).to_contain_text("刘管理")
    expect(first).to_contain_text(f"人员“{PERSON}”")
    first.get_by_test_id("audit-toggle").click()
    expect(first.get_by_test_id("audit-diff")).to_contain_text("场所工作人员")
    expect(first.get_by_test_id("audit-diff")).to_contain_text(PLACE)
    snap(shot, page, "admin-audit-390")

    # filter by what (a group of actions), then export what the filter finds
    page.get_by_test_id("audit-action").select_option("role")
    page.get_by_test_id("audit-actor").fill("刘管理")
    page.get_by_test_id("audit-search").click()
    expect(page.get_by_test_id("audit-total")).to_have_text("共 2 条记录")
    expect(page.get_by_test_id("audit-action-label")).to_have_text(["撤销角色", "授予角色"])
    with page.expect_download() as download:
        page.get_by_test_id("audit-export").click()
    xlsx = download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as f:
        rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(f.read())).active.iter_rows()]
    assert [r[3] for r in rows[2:]] == ["撤销角色", "授予角色"]
    assert {r[2] for r in rows[2:]} == {"刘管理"} and {r[6] for r in rows[2:]} == {PERSON}
    snap(shot, page, "admin-audit-filtered-390")


def test_no_side_navigation_on_a_phone(page, shot):
    demo_login(page, "admin")
    open_page(page, "admin", "page-admin")
    expect(page.get_by_test_id("admin-people")).to_be_visible()
    expect(page.get_by_test_id("admin-nav")).to_be_hidden()
    expect(page.get_by_test_id("tabbar")).to_be_visible()
    snap(shot, page, "admin-home-system-390")


def test_desktop_console_has_the_side_navigation(browser, live_server, shot):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        demo_login(page, "admin")
        open_page(page, "admin", "page-admin")
        nav = page.get_by_test_id("admin-nav")
        expect(nav).to_be_visible()
        expect(page.get_by_test_id("tabbar")).to_be_hidden()
        for title in ("创业券批次", "申请审核", "服务机构审核", "兑付结算", "活动统计", "活动管理", "到访统计",
                      "签到核查", "扫码设备", "人员与角色", "审计日志"):
            expect(nav.get_by_text(title, exact=True)).to_be_visible()
        snap(shot, page, "admin-home-1280")
        nav.get_by_test_id("admin-nav-admin-people").click()
        expect(page.get_by_test_id("page-admin-people")).to_be_visible()
        expect(nav.get_by_test_id("admin-nav-admin-people")).to_have_attribute("aria-current", "page")
        expect(page.get_by_test_id("list-loading")).to_have_count(0)
        snap(shot, page, "admin-people-1280")
        page.locator("[data-testid^=person-]").filter(has_text=PERSON).first.click()
        expect(page.get_by_test_id("person-grant")).to_be_visible()
        snap(shot, page, "admin-people-sheet-1280")
        page.get_by_test_id("person-grant").click()
        page.get_by_test_id("grant-role").select_option("admin")
        snap(shot, page, "admin-people-grant-1280")
        page.goto("/#/admin-audit")
        expect(page.get_by_test_id("page-admin-audit")).to_be_visible()
        expect(page.get_by_test_id("list-loading")).to_have_count(0)
        expect(nav.get_by_test_id("admin-nav-admin-audit")).to_have_attribute("aria-current", "page")
        snap(shot, page, "admin-audit-1280")
        page.goto("/#/admin-batches")
        expect(page.get_by_test_id("page-admin-batches")).to_be_visible()
        expect(nav).to_be_visible()  # every console page keeps the navigation
        # the shell's other pages do not have it
        page.goto("/#/mine")
        expect(page.get_by_test_id("tabbar")).to_be_visible()
        expect(page.get_by_test_id("admin-nav")).to_have_count(0)
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize("role", ["entrepreneur", "station_staff"])
def test_someone_without_the_admin_role_sees_no_permission(page, shot, role):
    demo_login(page, role)
    page.goto("/#/admin-people")
    expect(page.get_by_test_id("page-no-permission")).to_be_visible()
    expect(page.get_by_test_id("page-no-permission")).to_contain_text("您没有权限查看此页面")
    expect(page.get_by_test_id("page-admin-people")).to_have_count(0)
    expect(page.get_by_test_id("admin-nav")).to_have_count(0)
    snap(shot, page, f"no-permission-{role}-390")
    page.get_by_test_id("no-permission-home").click()
    expect(page.get_by_test_id("page-home" if role == "entrepreneur" else "page-workbench")).to_be_visible()
    expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", role)


def test_district_admin_sees_their_district_and_grants_only_inside_it(browser, live_server, shot):
    """The 任城区 administrator (孙区县): people of 任城区 only; a role bound to a 任城区 place is granted
    and revoked, one bound to a 邹城 station is refused; their audit log holds the entries of 任城区's
    people (their own first), never the province administrator's. Phone width, then the same console at 1280 px."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=live_server.url, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/")
        page.get_by_test_id("demo-login-district_admin").click()
        expect(page.get_by_test_id("tabbar")).to_have_attribute("data-role", "admin")
        open_page(page, "admin-people", "page-admin-people")
        names = page.locator(".admin-card__title")
        expect(names.filter(has_text=PERSON)).to_have_count(1)  # 张创业's profile is in 任城区
        expect(names.filter(has_text="刘管理")).to_have_count(0)  # the province administrator is no person of 任城区
        snap(shot, page, "admin-people-district-390")
        page.locator("[data-testid^=person-]").filter(has_text=PERSON).first.click()
        page.get_by_test_id("person-grant").click()
        page.get_by_test_id("grant-role").select_option("admin")  # offered only the region they manage
        expect(page.get_by_test_id("grant-binding").locator("option:not([disabled])")).to_have_text(["任城区"])
        page.get_by_test_id("grant-role").select_option("organiser")
        page.get_by_test_id("grant-find").fill("平阳")
        page.get_by_test_id("grant-find").press("Enter")
        page.locator("[data-testid^=grant-option-]").filter(has_text=PLACE).click()
        page.get_by_test_id("grant-ok").click()
        expect(page.get_by_test_id("toast")).to_have_text("您只能在本辖区内授予角色")
        page.get_by_test_id("grant-find").fill("任城创业陪跑")
        page.get_by_test_id("grant-find").press("Enter")
        page.locator("[data-testid^=grant-option-]").filter(has_text="喵小创·任城创业陪跑空间").click()
        page.get_by_test_id("grant-ok").click()
        granted = page.get_by_test_id("grant-organiser")
        expect(granted).to_contain_text("场所：喵小创·任城创业陪跑空间")
        granted.get_by_test_id("grant-revoke").click()
        confirm(page)
        expect(page.get_by_test_id("grant-organiser")).to_have_count(0)
        page.get_by_test_id("person-close").click()

        open_page(page, "admin-audit", "page-admin-audit")
        labels, actors = page.get_by_test_id("audit-action-label"), page.get_by_test_id("audit-actor-name")
        expect(labels.nth(0)).to_have_text("撤销角色")
        expect(labels.nth(1)).to_have_text("授予角色")
        expect(actors.nth(0)).to_have_text("孙区县")
        expect(actors.nth(1)).to_have_text("孙区县")
        assert "刘管理" not in actors.all_inner_texts()  # the province administrator is no person of 任城区
        snap(shot, page, "admin-audit-district-390")

        page.set_viewport_size(DESKTOP)
        open_page(page, "admin-people", "page-admin-people")
        expect(page.get_by_test_id("admin-nav")).to_be_visible()
        snap(shot, page, "admin-people-district-1280")
    finally:
        context.close()
    assert not errors, errors
