"""Settings: language, the official VNeID install link as a QR code for
citizens, the scam warning, the app lock (PIN, timeout, lock now), and
sign-out (send everything, then purge; if that is impossible, say how many
events would be lost and ask again).

The PIN forms themselves are pushed views (/settings/pin/set|change|remove,
field_app/views/lock.py), so that the phone's keyboard never hides a field of
a dialog on a 360×640 screen."""
from __future__ import annotations

from collections.abc import Callable

import flet as ft

from field_app import i18n, theme
from field_app.i18n import t
from field_app.lock import TIMEOUT_CHOICES
from field_app.net.errors import SyncError

from .audit import settings_tile as audit_tile
from .common import C, card, chip, heading, note, role_label
from .models.words import error_text, work_text
from .qr import VNEID_LINKS, qr_png
from .shell import Shell


def settings_screen(shell: Shell) -> list[ft.Control]:
    store = shell.store
    device = shell.device

    # -- language ------------------------------------------------------------------
    def on_language(e: ft.Event[ft.RadioGroup]) -> None:
        if e.control.value is not None:
            shell.set_language(e.control.value)

    language = ft.RadioGroup(
        key="settings.language",
        value=i18n.get_language(shell.page),
        on_change=on_language,
        content=ft.Column(
            [
                # a 48 px row per choice: web/desktop shrink the radio's own tap target to 40 px
                ft.Container(ft.Radio(value=lang, label=t(f"language.{lang}")), height=theme.TOUCH_TARGET,
                             alignment=ft.Alignment.CENTER_LEFT)
                for lang in i18n.LANGUAGES
            ],
            spacing=4,
        ),
    )

    # -- VNeID install QR ------------------------------------------------------------
    store_key = shell.ui.get("settings.vneid_store", "google_play")
    image = ft.Image(src=qr_png(VNEID_LINKS[store_key]), width=232, height=232, key="settings.vneid_qr",
                     semantics_label=t("settings.vneid_qr_label"), filter_quality=ft.FilterQuality.NONE)
    link = ft.Text(VNEID_LINKS[store_key], size=13.5, selectable=True, key="settings.vneid_link",
                   color=C.on_surface_variant, text_align=ft.TextAlign.CENTER)
    store_chips: dict[str, ft.Chip] = {}

    def pick_store(key: str) -> Callable[[ft.Event[ft.Chip]], None]:
        def handler(e: ft.Event[ft.Chip]) -> None:
            shell.ui["settings.vneid_store"] = key
            for k, c in store_chips.items():
                c.selected = k == key
            image.src = qr_png(VNEID_LINKS[key])
            link.value = VNEID_LINKS[key]
        return handler

    for key in VNEID_LINKS:
        store_chips[key] = ft.Chip(
            label=ft.Text(t(f"settings.store.{key}"), size=15),
            leading=ft.Icon(ft.Icons.ANDROID if key == "google_play" else ft.Icons.PHONE_IPHONE, size=20),
            selected=key == store_key,
            on_select=pick_store(key),
            key=f"settings.store.{key}",
            show_checkmark=False,
            selected_color=C.primary_container,
            border_side=ft.BorderSide(1.2, C.outline),
        )
    vneid = card(
        [
            heading(t("settings.vneid_title")),
            ft.Text(t("settings.vneid_hint"), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
            ft.Row(list(store_chips.values()), wrap=True, spacing=8),
            ft.Container(
                ft.Column([ft.Container(image, bgcolor="#FFFFFF", padding=ft.Padding.all(4)), link],
                          horizontal_alignment=ft.CrossAxisAlignment.CENTER, spacing=6, tight=True),
                alignment=ft.Alignment.CENTER,
            ),
        ],
        key="settings.vneid",
    )

    # -- scam warning -------------------------------------------------------------------
    s = theme.STATUSES["problem"]
    warning = card(
        [
            ft.Row([ft.Icon(ft.Icons.GPP_MAYBE_OUTLINED, color=s.strong),
                    heading(t("settings.scam_title"))], spacing=8),
            note(ft.Icons.LOCK_OUTLINE, t("settings.scam.otp"), color=s.strong),
            note(ft.Icons.VERIFIED_USER_OUTLINED, t("settings.scam.stores"), color=s.strong),
            note(ft.Icons.LOCAL_POLICE_OUTLINED, t("settings.scam.police"), color=s.strong),
        ],
        bgcolor=s.container,
        border=s.strong,
        key="settings.scam",
    )

    # -- this device and sign-out -------------------------------------------------------------
    sign_out_button = theme.big_button(t("settings.sign_out"), icon=ft.Icons.LOGOUT, filled=False,
                                       key="settings.sign_out")
    busy = ft.ProgressBar(visible=False, key="settings.sign_out_progress")

    def close_dialog(e: ft.Event[ft.TextButton]) -> None:
        shell.page.pop_dialog()

    async def run_sign_out(force: bool) -> None:
        sign_out_button.disabled = True
        busy.visible = True
        shell.page.update()
        try:
            await shell.blocking(device.sign_out, force)
        except SyncError as exc:
            sign_out_button.disabled = False
            busy.visible = False
            shell.page.update()
            left = store.work()
            reason = error_text(exc)
            if not left.total:  # nothing would be lost: say why it failed and stop there
                shell.snack(reason, error=True)
                return
            shell.page.show_dialog(ft.AlertDialog(
                modal=True,
                icon=ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong),
                title=ft.Text(t("settings.unsent_title", work=work_text(left))),
                content=ft.Text(t("settings.unsent_body", work=work_text(left), reason=reason),
                                key="settings.unsent_body"),
                actions=[
                    ft.TextButton(t("settings.unsent_stay"), on_click=close_dialog, key="settings.unsent_stay"),
                    ft.FilledButton(t("settings.unsent_discard", work=work_text(left)), key="settings.unsent_discard",
                                    on_click=discard, style=ft.ButtonStyle(bgcolor=s.strong, color="#FFFFFF")),
                ],
            ))
            return
        shell.drafts.clear()
        shell.ui.clear()
        shell.go("/")
        shell.snack(t("settings.signed_out"))

    async def confirmed(e: ft.Event[ft.Button]) -> None:
        shell.page.pop_dialog()
        await run_sign_out(False)

    async def discard(e: ft.Event[ft.Button]) -> None:
        shell.page.pop_dialog()
        await run_sign_out(True)

    def ask(e: ft.Event[ft.OutlinedButton]) -> None:
        work = store.work()
        shell.page.show_dialog(ft.AlertDialog(
            modal=True,
            title=ft.Text(t("settings.sign_out_title")),
            content=ft.Text(t("settings.sign_out_body", work=work_text(work)) if work.total
                            else t("settings.sign_out_body_all_sent")),
            actions=[
                ft.TextButton(t("common.cancel"), on_click=close_dialog, key="settings.sign_out_cancel"),
                ft.FilledButton(t("settings.sign_out_confirm"), on_click=confirmed, key="settings.sign_out_confirm"),
            ],
        ))

    sign_out_button.on_click = ask
    about = card(
        [
            heading(t("settings.device")),
            note(ft.Icons.BADGE_OUTLINED, t("settings.role", role=role_label(shell.role, store.scope))),
            note(ft.Icons.DNS_OUTLINED, t("settings.server", url=store.server_url or "—")),
            note(ft.Icons.PHONE_ANDROID, t("settings.device_id", id=(store.device_id or "—")[:8])),
            note(ft.Icons.STORAGE_OUTLINED, t("settings.data_here")),
            *([busy, sign_out_button] if shell.signed_in else []),
        ],
    )
    lock = lock_card(shell)
    return [
        heading(t("settings.language")),
        ft.Text(t("settings.language_hint"), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
        language,
        vneid,
        warning,
        *audit_tile(shell),  # admins and officers: the audit log (views/audit.py)
        about,
        # last, beside "this device": the sign-out above stays where volunteers learnt it is
        *([lock] if lock is not None else []),
    ]


def lock_card(shell: Shell) -> ft.Control | None:
    """The app lock: whether a PIN is set, set / change / remove it, how long
    without use before the app locks, and lock now."""
    guard = shell.lock
    if guard is None or not shell.signed_in:
        return None
    pin = guard.pin
    has_pin = pin.has_pin
    problem = theme.STATUSES["problem"]
    rows: list[ft.Control] = [
        ft.Row([ft.Icon(ft.Icons.LOCK if has_pin else ft.Icons.LOCK_OPEN, color=C.primary if has_pin else problem.strong),
                heading(t("lock.settings.title"))], spacing=8),
    ]
    if has_pin:
        state_note = note(ft.Icons.CHECK_CIRCLE, t("lock.settings.on", minutes=pin.timeout_minutes),
                          key="settings.lock.state", color=theme.STATUSES["done"].strong)
    else:
        state_note = note(ft.Icons.REPORT_PROBLEM, t("lock.settings.off"), key="settings.lock.state",
                          color=problem.strong)
    rows.append(state_note)
    if pin.role_requires_pin:
        rows.append(note(ft.Icons.BADGE_OUTLINED,
                         t("lock.settings.required", role=role_label(shell.role, shell.store.scope))))
    if not has_pin:
        rows.append(theme.big_button(t("lock.settings.set"), icon=ft.Icons.PIN_OUTLINED, key="settings.lock.set",
                                     on_click=lambda e: shell.go("/settings/pin/set")))
    else:
        # how long without a tap before the app locks: a choice of a few values, one tap each
        chips: dict[int, ft.Chip] = {}

        def choose(minutes: int) -> Callable[[ft.Event[ft.Chip]], None]:
            def handler(e: ft.Event[ft.Chip]) -> None:
                pin.set_timeout(minutes)
                guard.idle.timeout = minutes * 60.0
                for m, c in chips.items():
                    c.selected = m == minutes
                state.value = t("lock.settings.on", minutes=minutes)
                shell.page.update()
            return handler

        for minutes in TIMEOUT_CHOICES:
            chips[minutes] = chip(t("lock.settings.minutes", n=minutes), selected=minutes == pin.timeout_minutes,
                                  on_select=choose(minutes), key=f"settings.lock.timeout.{minutes}")
            chips[minutes].show_checkmark = False
        sentence = state_note.controls[1]  # note(): an icon, then the sentence
        assert isinstance(sentence, ft.Text)
        state = sentence
        buttons: list[ft.Control] = [ft.OutlinedButton(t("lock.settings.change"), icon=ft.Icons.PASSWORD, key="settings.lock.change",
                                     height=theme.TOUCH_TARGET, on_click=lambda e: shell.go("/settings/pin/change"))]
        if not pin.role_requires_pin:
            buttons.append(ft.OutlinedButton(t("lock.settings.remove"), icon=ft.Icons.LOCK_OPEN,
                                             key="settings.lock.remove", height=theme.TOUCH_TARGET,
                                             on_click=lambda e: shell.go("/settings/pin/remove")))
        rows += [
            ft.Text(t("lock.settings.timeout"), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
            ft.Row(list(chips.values()), wrap=True, spacing=8, run_spacing=8, key="settings.lock.timeout"),
            ft.Row(buttons, wrap=True, spacing=8, run_spacing=8),
            theme.big_button(t("lock.settings.lock_now"), icon=ft.Icons.LOCK, key="settings.lock.now",
                             on_click=lambda e: guard.lock_now()),
        ]
    rows.append(note(ft.Icons.HELP_OUTLINE, t("lock.settings.forgot")))
    return card(rows, key="settings.lock")
