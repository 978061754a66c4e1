"""Every volunteer screen at 360×640, checked for what Flutter would refuse to
lay out (it draws a grey box in release builds, which no harness test sees):
an expanded child in a wrapping row, an expanded child or a list in a
scrolling column. Plus: every tappable control is at least 48 px where it
says its size, and no translation key shows instead of text."""
from __future__ import annotations

import re
from pathlib import Path

import flet as ft

from field_app import i18n

from ..store_support import add_hamlet
from .harness import AppHarness, ClientControl
from .volunteer import add_household, device_store, enrolled_dir, open_app

KEY_LIKE = re.compile(r"^[a-z_]+(\.[a-z_0-9{}]+)+$")
TAPPABLE = {"FilledButton", "OutlinedButton", "TextButton", "Button", "IconButton"}


def problems(root: ClientControl) -> list[str]:
    found = []

    def scrolls(c: ClientControl) -> bool:
        return c.type in ("Column", "View") and c.props.get("scroll") not in (None, False)

    def walk(c: ClientControl) -> None:
        kids = list(c.children())
        if c.type == "Row" and c.props.get("wrap"):
            found.extend(f"expanded {k!r} in a wrapping {c!r}" for k in kids if k.props.get("expand"))
        if scrolls(c):
            for k in (c.props.get("controls") or []):
                if isinstance(k, ClientControl) and k.props.get("expand"):
                    found.append(f"expanded {k!r} in scrolling {c!r}")
                if isinstance(k, ClientControl) and k.type == "ListView" and not k.props.get("height"):
                    found.append(f"unbounded {k!r} in scrolling {c!r}")
        if c.type in TAPPABLE and isinstance(c.props.get("height"), (int, float)) and c.props["height"] < 48:
            found.append(f"{c!r} is {c.props['height']} px high")
        for text in c.own_texts():
            if KEY_LIKE.match(text) and i18n.has(text):
                found.append(f"untranslated key {text!r} in {c!r}")
        for k in kids:
            walk(k)

    walk(root)
    return found


def check(h: AppHarness, where: str) -> None:
    bad = [p for root in h.screen() for p in problems(root)]
    assert not bad, f"{where}:\n" + "\n".join(bad)


def test_every_volunteer_screen_lays_out_at_360x640(make_harness, tmp_path: Path) -> None:
    fresh = open_app(make_harness, tmp_path / "fresh", width=360, height=640)
    check(fresh, "enrol")

    data = enrolled_dir(tmp_path)
    asked, _ = add_household(data, "Số 1, phố Hoà Bình", [{"label": "Nguyễn Văn An", "birth_year": 1950}])
    hid, (pid, _) = add_household(data, "Số 2, phố Hoà Bình", [
        {"label": "Nguyễn Văn An", "birth_year": 1950, "vneid": "l1_approved"},
        {"label": "Trần Thị Hoà", "birth_year": 1990, "card": "none"}], consent="given")
    with device_store(data) as store:  # two hamlets: the pickers show
        add_hamlet(store, "10525", "Tổ dân phố 9", "to_dan_pho")
    h = open_app(make_harness, data, width=360, height=640)
    for route in ("/", "/households", "/households?filter=follow_up", f"/households/{asked}", f"/households/{hid}",
                  f"/households/{hid}/people/{pid}", "/households/new", f"/households/{hid}/people/new",
                  "/sync", "/settings"):
        h.go(route)
        assert h.route == route
        check(h, route)
    h.go("/settings")
    h.click(h.get(ft.Radio, text="English"))
    for route in ("/", "/households", f"/households/{hid}", f"/households/{hid}/people/{pid}", "/sync"):
        h.go(route)
        check(h, f"{route} (en)")


def test_the_check_finds_what_flutter_refuses(make_harness) -> None:
    def bad(page: ft.Page) -> None:
        page.add(ft.Row([ft.Text("a", expand=True)], wrap=True),
                 ft.Column([ft.ListView([ft.Text("b")])], scroll=ft.ScrollMode.AUTO),
                 ft.Text("nav.home"))

    h = make_harness(bad)
    found = [p for root in [h.root] for p in problems(root)]
    assert any("wrapping" in p for p in found)
    assert any("unbounded" in p for p in found)
    assert any("untranslated key 'nav.home'" in p for p in found)
