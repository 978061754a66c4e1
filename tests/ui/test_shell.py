"""The app shell, driven through the harness: what the client receives."""
from __future__ import annotations

from pathlib import Path

import flet as ft
import pytest

from field_app import i18n
from field_app.app import build_app
from field_app.navigation import tabs_for
from field_app.shell import AppShell
from field_app.theme import ASSETS_DIR

from .harness import AppHarness
from .volunteer import enrolled_dir


@pytest.fixture
def app_data_dir(tmp_path: Path) -> Path:
    """The shell tests run on an enrolled device (an unenrolled one shows only
    the enrol screen: tests/ui/test_volunteer_enrol.py)."""
    return enrolled_dir(tmp_path)

VI_VOLUNTEER_TABS = ["Trang chủ", "Hộ dân", "Đồng bộ", "Cài đặt"]
EN_VOLUNTEER_TABS = ["Home", "Households", "Sync", "Settings"]


def nav_labels(h: AppHarness) -> list[str]:
    return [d["label"] for d in h.find(ft.NavigationBarDestination)]


def appbar_title(h: AppHarness) -> str:
    return h.get(ft.AppBar)["title"].text


def test_title_theme_and_font_reach_the_client(app: AppHarness) -> None:
    page = app.root
    assert page["title"] == "Gõ Cửa"
    assert appbar_title(app) == "Gõ Cửa"
    assert page["theme_mode"] == "light"
    assert page["theme"]["font_family"] == "Be Vietnam Pro"
    assert page["theme"]["visual_density"] == "standard"
    fonts = page["fonts"]
    assert fonts["Be Vietnam Pro"] == "fonts/BeVietnamPro-Regular.ttf"
    for family, path in fonts.items():
        assert (ASSETS_DIR / path).is_file(), f"{family}: {path} is not bundled"


def test_home_shows_vietnamese_navigation(app: AppHarness) -> None:
    assert app.route == "/"
    assert nav_labels(app) == VI_VOLUNTEER_TABS
    bar = app.get(ft.NavigationBar)
    assert bar["selected_index"] == 0
    assert bar.get("label_behavior") == "alwaysShow"
    assert app.exists(ft.Text, text="Xin chào!")
    # statuses are never colour alone: each home tile has an icon and words
    for label in ("Hôm nay của tôi", "Hộ chưa thăm", "Cần quay lại", "Cần theo dõi"):
        tile = app.get(ft.Text, text=label).parent
        assert any(c.type == "Icon" for c in tile.descendants())


def test_leader_gets_review_and_totals_and_a_sync_action(make_harness, tmp_path: Path) -> None:
    h = make_harness(lambda page: build_app(page, data_dir=tmp_path, role="leader"))
    assert nav_labels(h) == ["Trang chủ", "Hộ dân", "Duyệt", "Tổng hợp", "Cài đặt"]
    # no Sync tab for leaders, so the app bar carries a Sync action
    sync = h.get(ft.IconButton, text="Đồng bộ")
    h.click(sync)
    assert h.route == "/sync"
    assert len(h.views) == 2, "sync is pushed over home, with a Back arrow"
    assert appbar_title(h) == "Đồng bộ"
    h.back()
    assert h.route == "/"
    assert len(h.views) == 1


def test_clicking_a_nav_item_navigates(app: AppHarness) -> None:
    app.click(app.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert app.route == "/households"
    assert app.page.route == "/households"
    assert app.get(ft.NavigationBar)["selected_index"] == 1
    assert appbar_title(app) == "Hộ dân"
    assert any(i["name"] == "push_route" for i in app.invocations)


def test_switching_to_english_relabels_everything(app: AppHarness) -> None:
    app.click(app.get(ft.NavigationBarDestination, text="Cài đặt"))
    assert appbar_title(app) == "Cài đặt"
    app.click(app.get(ft.Radio, text="English"))

    assert nav_labels(app) == EN_VOLUNTEER_TABS
    assert appbar_title(app) == "Settings"
    assert app.get(key="settings.language")["value"] == "en"
    assert app.root["title"] == "Gõ Cửa"
    assert i18n.get_language(app.page) == "en"
    assert app.root["locale_configuration"]["current_locale"]["language_code"] == "en"

    app.click(app.get(ft.NavigationBarDestination, text="Home"))
    assert app.exists(ft.Text, text="Hello!")

    app.click(app.get(ft.NavigationBarDestination, text="Settings"))
    app.click(app.get(ft.Radio, text="Tiếng Việt"))
    assert nav_labels(app) == VI_VOLUNTEER_TABS


def test_language_is_per_session(make_harness, tmp_path: Path) -> None:
    """Web mode serves many people from one process: one person's English
    must not switch anyone else's screen."""
    data = enrolled_dir(tmp_path)
    first = make_harness(lambda page: build_app(page, data_dir=data, autosync=False))
    second = make_harness(lambda page: build_app(page, data_dir=data, autosync=False))
    first.click(first.get(ft.NavigationBarDestination, text="Cài đặt"))
    first.click(first.get(ft.Radio, text="English"))
    assert nav_labels(first) == EN_VOLUNTEER_TABS
    second.click(second.get(ft.NavigationBarDestination, text="Hộ dân"))
    assert nav_labels(second) == VI_VOLUNTEER_TABS
    assert i18n.get_language() == "vi"  # the process default is untouched


def test_build_app_language_argument(make_harness, tmp_path: Path) -> None:
    h = make_harness(lambda page: build_app(page, data_dir=enrolled_dir(tmp_path), language="en"))
    assert nav_labels(h) == EN_VOLUNTEER_TABS
    assert h.root["locale_configuration"]["current_locale"]["language_code"] == "en"


def test_deep_link_to_unknown_route_shows_not_found_over_home(make_harness, tmp_path) -> None:
    h = make_harness(lambda page: build_app(page, data_dir=enrolled_dir(tmp_path)), route="/nowhere")
    assert len(h.views) == 2
    assert h.exists(ft.Text, text="Không tìm thấy trang /nowhere.")
    h.back()
    assert h.route == "/"


def test_registered_detail_route_gets_params(app: AppHarness) -> None:
    shell: AppShell = app.page.data
    shell.register_detail(
        "/households/:id",
        lambda sh, params: sh.pushed_view(
            f"/households/{params['id']}", "Hộ", [ft.Text(f"hộ {params['id']}")]
        ),
    )
    app.go("/households/h-42")
    assert [v["route"] for v in app.views] == ["/households", "/households/h-42"]
    assert app.exists(ft.Text, text="hộ h-42")
    # the tab underneath is the households tab, selected
    app.back()
    assert app.route == "/households"
    assert app.get(ft.NavigationBar)["selected_index"] == 1


def test_narrow_phone_and_wide_laptop_layouts(make_harness, tmp_path: Path) -> None:
    h = make_harness(
        lambda page: build_app(page, data_dir=tmp_path, role="leader"), width=340, height=640
    )
    # five tabs below 360 px: only the selected label is shown
    assert h.get(ft.NavigationBar)["label_behavior"] == "onlyShowSelected"
    h.resize(1280, 800)
    assert not h.exists(ft.NavigationBar)
    rail = h.get(ft.NavigationRail)
    assert [d["label"] for d in h.find(ft.NavigationRailDestination)][-1] == "Cài đặt"
    h.click(h.get(ft.NavigationRailDestination, text="Tổng hợp"))
    assert h.route == "/totals"
    assert rail.id != h.get(ft.NavigationRail).id  # re-rendered for the new route
    h.resize(390, 844)
    assert h.get(ft.NavigationBar)["selected_index"] == 3


def test_each_roles_tabs_in_order() -> None:
    """docs/ui.md: at most five a role, the first is where "/" lands."""
    assert [tab.route for tab in tabs_for("volunteer")] == ["/", "/households", "/sync", "/settings"]
    assert [tab.route for tab in tabs_for("leader")] == ["/", "/households", "/review", "/totals", "/settings"]
    assert [tab.route for tab in tabs_for("officer")] == ["/totals", "/households", "/settings"]
    assert [tab.route for tab in tabs_for("admin")] == ["/totals", "/settings"]
    assert tabs_for("nobody") == []
