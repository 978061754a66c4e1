"""Every icon button has an accessible name (issue #11, item 10): a screen reader reads its
tooltip. Checked in the source over every view (an IconButton built without a tooltip or a
semantics label), and on the screens as drawn (a tooltip that is empty, or a key left as is)."""
from __future__ import annotations

import ast
from pathlib import Path

import flet as ft
import pytest

from field_app import i18n

from .volunteer import add_household, enrolled_dir, open_app

ROOT = Path(__file__).resolve().parents[2] / "field_app"
NAMED_BY = {"tooltip", "semantics_label"}


def test_every_icon_button_in_the_source_is_given_a_name() -> None:
    unnamed = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if name == "IconButton" and not NAMED_BY & {k.arg for k in node.keywords}:
                    unnamed.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert unnamed == []


def _unnamed(h) -> list[str]:  # type: ignore[no-untyped-def]
    bad = []
    for button in h.find(ft.IconButton, scope="page"):
        tip = button.get("tooltip")
        words = tip.get("message") if isinstance(tip, dict) else tip
        if not words or not str(words).strip() or i18n.has(str(words)):  # empty, or an i18n key left as is
            bad.append(repr(button))
    return bad


@pytest.mark.parametrize("route", ["/", "/households", "/sync", "/settings", "HOUSEHOLD", "PERSON", "ADD"])
def test_every_icon_button_on_the_volunteer_screens_has_a_name(make_harness, tmp_path: Path, route: str) -> None:
    data = enrolled_dir(tmp_path)
    hid, (pid,) = add_household(data, "Số 1, ngõ 2", [{"label": "Nguyễn Văn An", "birth_year": 1960}],
                                consent="given")
    route = {"HOUSEHOLD": f"/households/{hid}", "PERSON": f"/households/{hid}/people/{pid}",
             "ADD": f"/households/{hid}/people/new"}.get(route, route)
    for width, height in ((390, 844), (1280, 800)):
        h = open_app(make_harness, data, route=route, width=width, height=height)
        assert h.find(ft.IconButton, scope="page") or route != "/", "the app bar's sync button at least"
        assert _unnamed(h) == [], (route, width)
