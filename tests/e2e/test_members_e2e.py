"""The leader's "new member" in Chromium (issue #13, item 1): from the review tab, a name typed,
the code made by the real server, shown as a QR code, the code and the link. Screenshots:
screenshots/new-member-360x640.png, new-member-390x844.png (and -code- once the code shows)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import open_page
from .test_walk_lists_e2e import world  # noqa: F401  (a fixture: a server, a team and its leader's app)

pytestmark = pytest.mark.e2e


def test_the_leader_makes_a_named_code_at_both_sizes(browser, world) -> None:  # noqa: F811
    app = open_page(browser, world["app"].url, 360, 640)
    app.set_pin()
    expect(app.tab("Duyệt")).to_be_visible(timeout=20_000)
    app.tab("Duyệt").click()
    app.by_role("button", "Thêm thành viên").click()
    app.type_into("Họ tên người giữ máy", "Nguyễn Thị Lan")
    app.settle(1.0)
    app.screenshot("new-member-360x640")
    app.tap_until(app.by_role("button", "Tạo mã đăng ký"), app.text("Mã đăng ký cho Nguyễn Thị Lan"))
    app.settle(1.5)
    app.screenshot("new-member-code-360x640")
    app.resize(390, 844)
    app.settle(1.5)
    app.screenshot("new-member-code-390x844")
    app.page.mouse.wheel(0, 600)  # the link, and the warning: the test server names itself 127.0.0.1
    app.settle(1.0)
    app.screenshot("new-member-link-390x844")
