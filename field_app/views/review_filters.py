"""The review queue's filters (issue #13, item 6): by day, volunteer, outcome and action, as four
dropdowns (the volunteer and the help given on a row each, the day and the outcome side by side), each offering only the
values waiting (models/leader.py `filter_choices`), "Tất cả" first. They fold away behind "Lọc" beside
the queue's count (three rows of dropdowns pushed the first visit below the fold at 360×640); while
one is on, "Đang lọc: … Bỏ lọc" stays in sight folded or not. Filters narrow what is shown;
the sample is drawn over the whole day (models/review_groups.py), so it does not move as the
leader filters, and "approve the rest" approves the rest that is shown.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import flet as ft

from field_app.i18n import plural, t

from .models.leader import FilterChoices
from .models.review_groups import Filters

__all__ = ["ALL", "filter_bar", "filter_toggle"]

ALL = "*"  # the dropdowns' "every value" (no code is "*")
# (filter field, words, columns of 12): the volunteer's name and the help given are long, so
# each takes a whole row; the day and the outcome share one (seen at 360 px: a name was cut)
FIELDS = (("device_id", "volunteer", 12), ("day", "day", 6), ("outcome", "outcome", 6), ("action", "action", 12))


def filter_toggle(filters: Filters, unfolded: bool, on_toggle: Callable[[], None]) -> ft.TextButton:
    """ "Lọc" (with how many filters are on) to unfold the dropdowns, "Ẩn bộ lọc" to fold them."""
    words = (t("leader.review.filter.hide") if unfolded else
             t("leader.review.filter.open_on", count=filters.count) if filters.active else t("leader.review.filter.open"))
    return ft.TextButton(words, icon=ft.Icons.FILTER_LIST_OFF if unfolded else ft.Icons.FILTER_LIST, height=48,
                         key="review:filter:toggle", on_click=lambda e: on_toggle())


def filter_bar(choices: FilterChoices, filters: Filters, shown: int,
               on_change: Callable[[Filters], None], unfolded: bool = True) -> ft.Control:
    """The four dropdowns when unfolded, and when a filter is on, how many visits match and "Bỏ lọc"."""
    options = {"day": choices.days, "device_id": choices.volunteers, "outcome": choices.outcomes,
               "action": choices.actions}

    def picker(field: str, words: str, columns: int) -> ft.Dropdown:
        value = getattr(filters, field)

        def chosen(e: ft.Event[Any]) -> None:
            picked = e.control.value
            on_change(replace(filters, **{field: None if picked in (None, ALL) else picked}))

        return ft.Dropdown(
            label=t(f"leader.review.filter.{words}"), value=value if value is not None else ALL, dense=True,
            text_size=14,  # a volunteer's name in half of a 360 px screen
            key=f"review:filter:{words}", col=columns, expand=True, tooltip=t(f"leader.review.filter.{words}"),
            options=[ft.DropdownOption(key=ALL, text=t("leader.review.filter.all")),
                     *(ft.DropdownOption(key=code, text=text) for code, text in options[field])],
            on_select=chosen)

    controls: list[ft.Control] = []
    if unfolded:
        controls.append(ft.ResponsiveRow([picker(f, w, c) for f, w, c in FIELDS], spacing=8, run_spacing=8))
    if filters.active:
        controls.append(ft.Row([
            ft.Text(plural("leader.review.filter.shown", shown), expand=True, key="review:filter:shown"),
            ft.TextButton(t("leader.review.filter.clear"), icon=ft.Icons.FILTER_ALT_OFF, height=48,
                          key="review:filter:clear", on_click=lambda e: on_change(Filters())),
        ], vertical_alignment=ft.CrossAxisAlignment.CENTER))
    return ft.Column(controls, spacing=4, key="review:filters")
