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
        assert any(u.endswith(path) for u in app.requests), f"{path} not loaded"
    assert any("/canvaskit/" in u for u in app.requests), "CanvasKit/skwasm not served locally"


def test_shell_in_chromium(open_app) -> None:
    app = open_app(390, 844)
    home = app.tab("Trang chủ")
    expect(home).to_be_visible()
    expect(home).to_have_attribute("aria-selected", "true")
    expect(app.by_role("heading", "Gõ Cửa")).to_be_visible()
    expect(app.text("Hỗ trợ định danh điện tử tận nhà")).to_be_visible()
    app.settle()
    app.screenshot("shell-home-390x844")

    app.tab("Cài đặt").click()
    app.settle()
    expect(app.tab("Cài đặt")).to_have_attribute("aria-selected", "true")
    expect(app.by_role("heading", "Cài đặt")).to_be_visible()
    assert app.page.url.endswith("/settings")
    app.screenshot("shell-settings-390x844")

    app.by_role("radio", "English").click()
    app.settle()
    expect(app.tab("Settings")).to_be_visible()
    expect(app.by_role("heading", "Settings")).to_be_visible()
    app.screenshot("shell-settings-en-390x844")

    assert_offline_clean(app)


def test_shell_on_a_small_phone(open_app) -> None:
    app = open_app(360, 640)
    expect(app.tab("Trang chủ")).to_be_visible()
    for name in ("Hộ dân", "Đồng bộ", "Cài đặt"):
        expect(app.tab(name)).to_be_visible()
    app.tab("Hộ dân").click()
    app.settle()
    expect(app.by_role("heading", "Hộ dân")).to_be_visible()
    app.tab("Trang chủ").click()
    app.settle()
    app.screenshot("shell-home-360x640")
    assert_offline_clean(app)
