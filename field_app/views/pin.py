"""Setting, changing and removing the PIN: /settings/pin/set | change | remove,
pushed over Settings (so the phone's keyboard never hides a field), and the
same form on the lock's "set your PIN first" screen. What each task asks and
what saving it says is `models/lock.py`'s `PinTask`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from field_app import i18n, theme
from field_app.i18n import t
from field_app.lock import MAX_ATTEMPTS, PIN_MAX, PIN_MIN

from .models.lock import PinTask, pin_mode
from .shell import Shell

__all__ = ["PIN_ROUTE", "pin_form", "pin_view"]

PIN_ROUTE = "/settings/pin/:mode"  # set, change, remove

_numbers_only: Callable[[], ft.InputFilter] = ft.NumbersOnlyInputFilter  # its constructor is untyped in Flet
_LABELS = {"current": "lock.field.current", "new": "lock.field.new", "again": "lock.field.again"}
_KEYS = {"current": "pin.current", "new": "pin.new", "again": "pin.again"}


def _pin_field(label: str, key: str, *, autofocus: bool = False) -> ft.TextField:
    return ft.TextField(
        label=label,
        key=key,
        password=True,
        can_reveal_password=True,
        keyboard_type=ft.KeyboardType.NUMBER,
        input_filter=_numbers_only(),
        max_length=PIN_MAX,
        counter="",  # no "0/8" under every field: the intro says 4-8 digits once
        text_size=22,
        autofocus=autofocus,
        autocorrect=False,
        enable_suggestions=False,
        error_max_lines=4,  # "Sai mã PIN. Còn 5 lần thử. Nếu sai hết …" wraps on a 360 px screen
        expand=True,
    )


def pin_form(shell: Shell, mode: str, on_done: Callable[[], Any]) -> list[ft.Control]:
    """The fields and the button of one PIN task (see `PinTask`)."""
    guard = shell.lock
    assert guard is not None, "the PIN forms come with the app lock (views/lock.py install)"
    task = PinTask(guard.pin, mode)
    lang = i18n.get_language(shell.page)
    fields = {name: _pin_field(t(_LABELS[name], lang=lang), _KEYS[name], autofocus=n == 0)
              for n, name in enumerate(task.fields)}
    error = ft.Text("", key="pin.error", visible=False, theme_style=ft.TextThemeStyle.BODY_MEDIUM,
                    color=theme.STATUSES["problem"].on_container)
    busy = ft.ProgressBar(visible=False, key="pin.busy")
    def value(name: str) -> str:
        field = fields.get(name)
        return (field.value or "") if field is not None else ""

    async def save(e: ft.Event[Any]) -> None:
        for f in fields.values():
            f.error = None
        error.visible = False
        button.disabled = True
        busy.visible = True
        shell.page.update()
        outcome = await shell.blocking(task.save, value("current"), value("new"), value("again"), lang=lang)
        button.disabled = False
        busy.visible = False
        if outcome.wipe:
            await guard.sign_out("limit")
            return
        if not outcome.ok:
            target = fields.get(outcome.field) if outcome.field is not None else None
            if target is None:
                error.value = outcome.error or ""
                error.visible = True
            else:
                if outcome.field == "current":  # a wrong PIN: type it again
                    target.value = ""
                target.error = outcome.error
            shell.page.update()
            return
        for f in fields.values():
            f.value = ""
        guard.touch()
        on_done()

    danger = mode == "remove"
    button = theme.big_button(t(f"lock.save.{mode}", lang=lang), icon=ft.Icons.LOCK_OPEN if danger else ft.Icons.LOCK,
                              key="pin.save", on_click=save)
    for f in fields.values():
        f.on_submit = save
    return [*(ft.Row([f]) for f in fields.values()), error, busy, button]


def pin_view(shell: Shell, params: dict[str, str]) -> ft.View:
    """/settings/pin/set | change | remove, pushed over Settings (Back returns there)."""
    route = f"/settings/pin/{params.get('mode', 'set')}"
    guard = shell.lock
    if guard is None or not shell.signed_in:  # a PIN belongs to an enrolment: without one there is none to set
        return shell.not_found(route)
    mode = pin_mode(params.get("mode"), has_pin=guard.pin.has_pin, role_requires_pin=guard.pin.role_requires_pin)

    def done() -> None:
        shell.go("/settings")
        shell.snack(t(f"lock.done.{mode}"))

    intro = ft.Text(t(f"lock.intro.{mode}", min=PIN_MIN, max=PIN_MAX, attempts=MAX_ATTEMPTS),
                    theme_style=ft.TextThemeStyle.BODY_LARGE, key="pin.intro")
    return shell.pushed_view(route, t(f"lock.title.{mode}"), [intro, *pin_form(shell, mode, done)])
