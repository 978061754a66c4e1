"""The app shell in headless Chromium: real Flutter web client, no CDN."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

FONT_FILES = [
    "/fonts/BeVietnamPro-Regular.ttf",
    "/fonts/BeVietnamPro-Medium.ttf",
    "/fonts/BeVietnamPro-SemiBold.ttf",
    "/fonts/BeVietnamPro-Bold.ttf",
]


def assert_offline_clean(app) -> None:
    """Nothing left for another host; third-party loads were refused by the
    browser (our CSP) before any network request."""
    assert app.egress == [], f"requests left for other hosts: {app.egress}"
    external = [u for u in app.requests if not app.is_local(u)]
    assert set(external) <= set(app.csp_blocked), external
    for path in FONT_FILES:
        app.wait_for_request_to(path)
    assert any("/canvaskit/" in u for u in app.requests), "CanvasKit/skwasm not served locally"


def test_shell_in_chromium(open_app) -> None:
    """A fresh install (the fixture's data dir is not enrolled) opens on the
    enrol screen: no tabs until the device is enrolled
    (tests/e2e/test_volunteer_e2e.py goes on from there)."""
    app = open_app(390, 844)
    expect(app.by_role("heading", "Gõ Cửa")).to_be_visible()
    expect(app.text("Đăng ký máy này")).to_be_visible()
    expect(app.page.get_by_role("textbox", name="Mã hoặc đường dẫn đăng ký")).to_be_visible()
    expect(app.by_role("button", "Đăng ký")).to_be_visible()
    assert app.page.get_by_role("tab").count() == 0
    app.settle()
    app.screenshot("shell-enrol-390x844")

    app.by_role("button", "English").click()
    app.settle()
    expect(app.text("Enrol this phone")).to_be_visible()
    expect(app.by_role("button", "Enrol")).to_be_visible()
    app.screenshot("shell-enrol-en-390x844")
    # the choice is remembered on the device (one device per app process):
    # back to Vietnamese for whoever opens the app next
    app.by_role("button", "Tiếng Việt").click()
    expect(app.text("Đăng ký máy này")).to_be_visible()

    assert_offline_clean(app)


def test_shell_on_a_small_phone(open_app) -> None:
    app = open_app(360, 640)
    expect(app.text("Đăng ký máy này")).to_be_visible()
    expect(app.by_role("button", "Đăng ký")).to_be_visible()
    app.settle()
    app.screenshot("shell-enrol-360x640")
    assert_offline_clean(app)
