"""Driving components/QrScanner.vue from a test, as staff would: its 手动输入 box (a scanner gun types there).

The scanner starts in `starting` while it asks for the camera and loads the decoder; only then does it
settle on `scanning` (a camera) or `manual` (none, or refused). Deciding before it settles races it: the
手动输入 link that was there while starting is replaced by 改用相机扫码 once it falls back to manual.
"""
from playwright.sync_api import expect


def open_manual(page):
    """This browser has no camera (the scanner says so and shows 手动输入); with one, switch to it."""
    scanner = page.get_by_test_id("qr-scanner")
    expect(scanner).not_to_have_attribute("data-mode", "starting", timeout=15_000)
    if scanner.get_attribute("data-mode") != "manual":
        page.get_by_test_id("qr-use-manual").click()
    expect(scanner).to_have_attribute("data-mode", "manual")
    expect(page.get_by_test_id("qr-manual-input")).to_be_visible()


def manual_scan(page, text: str):
    """Type a code into the scanner, as a scanner gun would, and submit it."""
    open_manual(page)
    page.get_by_test_id("qr-manual-input").fill(text)
    page.get_by_test_id("qr-manual-submit").click()
