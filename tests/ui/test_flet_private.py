"""field_app/flet_private.py: the Flet internals the app relies on, pinned.

A Flet upgrade that renames or drops one of them fails here, by name, before
the lock or the shell quietly stop doing their job.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import flet as ft
import flet.utils
from flet.messaging.session import Session

from field_app import flet_private

REPO = Path(__file__).resolve().parents[2]


def test_the_pinned_flet_is_the_one_installed() -> None:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [m.group(1) for d in dependencies if (m := re.fullmatch(r"flet==(\S+)", d.strip()))]
    assert pins == [flet_private.FLET_VERSION]
    assert ft.__version__ == flet_private.FLET_VERSION


def test_each_private_name_still_exists(make_harness: Any) -> None:
    for name in ("dispatch_event", "apply_patch", "index"):
        assert hasattr(Session, name), f"flet.messaging.session.Session.{name}"
    for name in ("is_embedded", "is_linux_server"):
        assert callable(getattr(flet.utils, name, None)), f"flet.utils.{name}"
    pages: list[ft.Page] = []
    h = make_harness(lambda page: pages.append(page))
    page = pages[0]
    assert isinstance(page._i, int) and h.session.index.get(page._i) is page  # Page._i: its control id
    assert isinstance(page._dialogs.controls, list)  # Page._dialogs: a Dialogs control
    assert isinstance(flet_private.is_embedded(), bool) and isinstance(flet_private.is_linux_server(), bool)


def test_dialogs_lists_what_the_page_shows(make_harness: Any) -> None:
    bar = ft.SnackBar(ft.Text("Đã lưu"))

    def app(page: ft.Page) -> None:
        page.add(ft.Button("Mở", on_click=lambda e: page.show_dialog(bar)))

    h = make_harness(app)
    assert flet_private.dialogs(h.page) == []
    h.click(h.get(ft.Button, text="Mở"))
    assert flet_private.dialogs(h.page) == [bar] and bar.open


def test_the_session_hook_sees_every_message_and_may_drop_it(make_harness: Any) -> None:
    clicks: list[str] = []
    seen: list[tuple[Any, bool, Any]] = []

    def app(page: ft.Page) -> None:
        page.add(ft.Button("Mở", on_click=lambda e: clicks.append("open")),
                 ft.Button("Khóa", on_click=lambda e: clicks.append("locked")),
                 ft.TextField(key="field", on_change=lambda e: clicks.append("typed")))

    h = make_harness(app)

    def admits(control_id: int, control: Any, is_page: bool, event_name: Any) -> bool:
        assert control is h.session.index.get(control_id)
        seen.append((control, is_page, event_name))
        return not (isinstance(control, ft.Button) and control.content == "Khóa")

    assert flet_private.hook_session(h.page, admits)
    h.click(h.get(ft.Button, text="Mở"))
    h.click(h.get(ft.Button, text="Khóa"))
    assert clicks == ["open"]
    field = h.get(ft.TextField, key="field")
    h.change(field, "12")
    assert (h.control(field), False, None) in seen  # the typed value (UPDATE_CONTROL_PROPS)
    assert (h.control(field), False, "change") in seen and clicks == ["open", "typed"]
    h.go("/somewhere")
    assert (h.page, True, "route_change") in seen
