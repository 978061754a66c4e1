""""Không có nhà" → "Khi nào quay lại?" (issue #13, item 4): one tap on a time of day records the
visit (two taps in all, the common case); a date, when the household said one, is chosen first
in the same dialog (a list: today, tomorrow, the next days by weekday, or a calendar).

A date in the past or too far ahead is refused here with a sentence, before anything is written
(campaign.come_back; the server refuses it too). "Today" is Vietnam's by the store's clock, read
again at the tap: a dialog left open past midnight does not give yesterday."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import flet as ft

from campaign import come_back as rules
from campaign import vocabulary as v
from campaign.time import local_date
from field_app import theme
from field_app.i18n import t, vocab_label

from .common import C
from .models.come_back import date_choices, date_error, day_words
from .shell import Shell

NO_DATE = "none"  # the list's "not known" option
OTHER = "other"  # the list's "another date…": the calendar


def today_of(shell: Shell) -> date:
    """Today in Vietnam by the store's clock (the dialog, the visit rows, the home)."""
    now = shell.store.clock()
    return local_date(now if now.tzinfo is not None else now.astimezone())


def _picked_day(value: Any) -> date | None:
    """A DatePicker's value: a datetime, a date, or its ISO text as the client sent it."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


def ask_come_back(shell: Shell, record: Callable[[dict[str, Any] | None], None]) -> None:
    """Show the dialog; `record(come_back)` writes the not-home visit (None: "Chưa biết")."""
    page = shell.page
    today = today_of(shell)
    choices = {c.key: c for c in date_choices(today)}
    chosen: dict[str, date | None] = {"on": None}
    message = ft.Text("", size=14, visible=False, key="come_back.message")

    def say(day: date | None, error: str | None) -> None:
        message.value = error or (t("come_back.chosen", day=day_words(day, today_of(shell))) if day else "")
        message.color = theme.STATUSES["problem"].strong if error else C.on_surface_variant
        message.visible = bool(message.value)

    def set_day(day: date | None) -> None:
        chosen["on"] = day  # kept even when refused: no time of day records until it is put right
        say(day, date_error(day, today_of(shell)) if day is not None else None)
        page.update()

    def pick_other() -> None:
        def picked(e: ft.Event[ft.DatePicker]) -> None:
            set_day(_picked_day(e.control.value))
        last = rules.latest_date(today)
        page.show_dialog(ft.DatePicker(
            value=min(max(chosen["on"] or today, today), last), first_date=today, last_date=last,
            help_text=t("come_back.date_label"), cancel_text=t("common.cancel"), confirm_text=t("common.ok"),
            on_change=picked))

    def on_select(e: ft.Event[ft.Dropdown]) -> None:
        key = e.control.value
        if key == OTHER:
            pick_other()
        elif key in choices:
            set_day(choices[key].day)
        else:
            set_day(None)

    dates = ft.Dropdown(
        label=t("come_back.date_label"), value=NO_DATE, key="come_back.date", dense=True,
        options=[ft.DropdownOption(key=NO_DATE, text=t("come_back.no_date")),
                 *[ft.DropdownOption(key=c.key, text=c.label) for c in choices.values()],
                 ft.DropdownOption(key=OTHER, text=t("come_back.other_date") + "…")],
        on_select=on_select, expand=True)

    def choose(window: str) -> Callable[[ft.Event[ft.Button]], None]:
        def chosen_window(e: ft.Event[ft.Button]) -> None:
            on = chosen["on"]
            error = date_error(on, today_of(shell)) if on is not None else None
            if error:  # a date refused, or the day turned since it was chosen: nothing is written
                say(on, error)
                page.update()
                return
            close_then_record({"window": window, "on": on.isoformat() if on else None})
        return chosen_window

    def without(e: ft.Event[ft.TextButton]) -> None:
        """"Chưa biết": no time of day. A date chosen is not dropped: it goes with `any`."""
        if chosen["on"] is not None:
            choose("any")(e)  # type: ignore[arg-type]  # the same checks as a time of day's tap
            return
        close_then_record(None)

    def close_then_record(come_back: dict[str, Any] | None) -> None:
        """Close the dialog and write the visit. The shell redraws the household once the client
        has taken the dialog down, and a second tap on the closed dialog reaches no handler
        (field_app/shell.py `render`, `_admits`): one visit."""
        page.pop_dialog()
        record(come_back)

    page.show_dialog(ft.AlertDialog(
        modal=True,
        title=ft.Text(t("household.come_back_title")),
        content=ft.Column(
            [ft.Row([dates]), message,
             *[ft.FilledTonalButton(vocab_label(v.COME_BACK, window), key=f"come_back.{window}",
                                    on_click=choose(window), height=theme.TOUCH_TARGET)
               for window in v.COME_BACK.codes]],
            tight=True, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH),
        actions=[ft.TextButton(t("household.come_back_skip"), on_click=without, key="come_back.skip")],
    ))
