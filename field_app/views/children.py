"""The household screen's children panel: which children under 14 can be registered now and
through which parent (an adult of the household with level 2 active), and which then need a
booked capture at the police. The rule is campaign.children's, the one the server counts."""
from __future__ import annotations

from datetime import datetime

import flet as ft

from campaign import children as rules
from field_app import theme
from field_app.i18n import get_language, t
from field_app.store import PersonRow

from .common import C, card, heading, note, pill

PILL = {rules.NOW: "done", rules.CAPTURE: "revisit", rules.PARENT_FIRST: "problem", rules.DONE: "done"}


def children_panel(people: list[PersonRow], year: int | None = None) -> ft.Control | None:
    """None when the household has no child under 14 living here."""
    year = year or datetime.now().astimezone().year
    kids = rules.household([(p.id, p.as_data()) for p in people], year)
    if not kids:
        return None
    names = {p.id: p.label for p in people}
    lang = get_language()
    lines: list[ft.Control] = [heading(t("children.title", count=len(kids)))]
    for kid in kids:
        through = ", ".join(names[i] for i in kid.parents)
        lines.append(ft.Column([
            ft.Text(t("children.who", label=names[kid.person_id], age=kid.age), size=15.5,
                    font_family=theme.FONT_SEMIBOLD),
            ft.Row([pill(PILL[kid.status], rules.label(kid.status, lang), small=True,
                         key=f"children.{kid.person_id}.status")]),
            ft.Text(t(f"children.detail.{kid.status}", parents=through), size=14, color=C.on_surface_variant,
                    key=f"children.{kid.person_id}.detail"),
        ], spacing=2, key=f"children.{kid.person_id}"))
    if any(k.parents for k in kids):
        lines.append(note(ft.Icons.INFO_OUTLINE, t("children.ask_parent")))
    return card(lines, key="household.children", padding=12, spacing=8)
