"""The app lock on screen: the lock screen, the PIN forms, and the guard that
hooks them into the shell (field_app/lock.py holds the rules).

`install(shell)` (build_app calls it) makes a `LockGuard`, `shell.lock`. The
shell's `render()` asks `shell.lock.intercept()` first; while the guard covers
the app (locked, signing out, or a required PIN not set yet) the page holds
only the guard's own view: every tab, pushed view and dialog leaves the
client, so nothing of the data stays on screen or in the browser's semantics
tree, and the AppBar says only "Gõ Cửa". The background sync is not touched.

The lock is per session (a phone app run, a browser tab): a new session starts
locked when a PIN is set, unlocking one tab does not unlock another, and the
PIN and the count of wrong tries belong to the device (its store).

What counts as an interaction — decision. Flet 1.0.5 gives a page-level
keyboard event, route changes, and per-control events; there is no hook for
"any tap". A wrapping GestureDetector would miss the AppBar, the navigation
bar and dialogs, and would fight the buttons inside it in Flutter's gesture
arena (a quick tap on a button can reject the outer tap recogniser, so the
tap is never reported). Instead the guard sits where every message from the
client arrives: the session's `dispatch_event` (CONTROL_EVENT: clicks,
selections, text changes, route changes, Back, keys) and `apply_patch`
(UPDATE_CONTROL_PROPS: a field's value as it is typed). All connection types
in flet 1.0.5 (the web server, the desktop/phone socket, pyodide) call these
two on the session object, and so does the UI test harness. That is the most
complete signal Flet offers, and the same place lets the guard drop events
aimed at controls of the hidden app while it covers it (defence in depth: a
hand-made websocket message cannot press a button the lock screen hid).
Not seen: scrolling without touching anything else (no event reaches
Python), so a person only reading a long list for the whole timeout is locked
out — as a phone's own screen lock would. If a future Flet lacks the hooks,
the guard logs it and the lock falls back to locking N minutes after each
unlock, whatever the person does: it fails closed, not open.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import flet as ft

from field_app import flet_private, i18n, theme
from field_app.i18n import t
from field_app.lock import (
    FREE_ATTEMPTS,
    MAX_ATTEMPTS,
    PIN_MAX,
    PIN_MIN,
    AppLock,
    Attempt,
    Clock,
    IdleTimer,
    PinError,
    SystemClock,
    attempts_left,
)
from field_app.net.errors import SyncError

from .common import C, number
from .shell import Shell
from .sync import ERROR_KINDS

__all__ = ["LockGuard", "install", "pin_form", "pin_view", "wait_text"]

log = logging.getLogger(__name__)

LOCK_ROUTE = "/lock"
SETUP_ROUTE = "/lock/setup"
PIN_ROUTE = "/settings/pin/:mode"  # set, change, remove
MODES = ("set", "change", "remove")
MAX_NAP = 15.0  # s: the idle timer re-reads the timeout setting at least this often

#: page events a person causes (the rest — connect, resize, lifecycle … — are not a sign of one)
PERSON_PAGE_EVENTS = frozenset({"route_change", "view_pop", "keyboard_event"})
#: control events no person causes
NOT_A_PERSON = frozenset({"animation_end", "load", "error", "image_error", "size_change", "visible"})
#: lifecycle states that mean "back in front of the person"
BACK_IN_FRONT = frozenset({ft.AppLifecycleState.SHOW, ft.AppLifecycleState.RESUME, ft.AppLifecycleState.RESTART})

# one sign-out at a time per process: two sessions hitting the limit together must not purge twice
_SIGN_OUT = threading.Lock()


def install(shell: Shell, clock: Optional[Clock] = None) -> "LockGuard":
    """Give `shell` its app lock (`shell.lock`) and the PIN route in Settings."""
    guard = LockGuard(shell, clock or SystemClock())
    shell.lock = guard
    shell.register_detail(PIN_ROUTE, pin_view)
    page = shell.page
    guard._chain_lifecycle = page.on_app_lifecycle_state_change
    page.on_app_lifecycle_state_change = guard._on_lifecycle
    guard._chain_keys = page.on_keyboard_event
    page.on_keyboard_event = guard._on_key
    guard.hooked = flet_private.hook_session(page, guard._admits)
    if not guard.hooked:
        log.warning("app lock: this Flet has no session hooks; locking by time since the last unlock")
    # a new session (the app started, a browser tab opened or reloaded) starts locked
    guard.locked = guard.active
    return guard


@dataclass
class _Saved:
    """The app as it was when the lock came down, to give it back as it was
    (a half-typed note included) when the route and layout are unchanged."""

    route: str
    views: list[ft.View]
    wide: bool


class LockGuard:
    """One session's lock: when to lock, what covers the app, unlocking."""

    def __init__(self, shell: Shell, clock: Clock) -> None:
        self.shell = shell
        self.clock = clock
        self.pin = AppLock(shell.store, clock)
        self.idle = IdleTimer(clock, self.pin.timeout_seconds)
        self.locked = False
        self.cover: Optional[ft.View] = None  # the guard's view while it covers the app
        self.hooked = False  # the session hooks are in (see the module's docstring)
        self._own_dialogs: list[ft.DialogControl] = []
        self._saved: Optional[_Saved] = None
        self._timer: Any = None  # the idle timer task (a concurrent future from page.run_task)
        self._countdown: Any = None
        self._enrolling = shell.needs_enrolment
        self._digits = ""
        self._message: Optional[tuple[str, str]] = None  # (style, text) under the PIN
        self._busy = False  # a PIN being checked, or the sign-out running
        self._signing_out = False
        self._chain_lifecycle: Any = None
        self._chain_keys: Any = None
        self._banner: Optional[tuple[ft.Banner, str]] = None  # the PIN offer after enrolment, and its route
        # the lock screen's live controls (rebuilt with the view)
        self._dots: Optional[ft.Text] = None
        self._dots_box: Optional[ft.Container] = None
        self._note: Optional[ft.Container] = None
        self._note_text: Optional[ft.Text] = None
        self._wait_text: Optional[ft.Text] = None
        self._keys: list[ft.Control] = []
        self._progress: Optional[ft.Control] = None
        self._forgot: Optional[ft.Control] = None

    # -- state -------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A PIN protects this device (so it may lock)."""
        return self.shell.signed_in and self.pin.has_pin

    def _t(self, key: str, **fmt: Any) -> str:
        # timer tasks and lifecycle handlers run outside the handler that set the page's context
        return t(key, lang=i18n.get_language(self.shell.page), **fmt)

    # -- the shell's hook --------------------------------------------------------

    def intercept(self) -> bool:
        """Called first by `AppShell.render()`. True: the guard drew the page
        itself (the app is covered); False: render the app as usual."""
        shell = self.shell
        if not shell.signed_in:
            # the enrol screen (or a preview's forced role): nothing to lock; a
            # sign-out elsewhere (another tab, a revocation) ends any lock here
            self._enrolling = shell.needs_enrolment
            if self.cover is not None or self.locked:
                self._release()
            return False
        if self._enrolling:
            self._enrolling = False
            self._just_enrolled()
        if self.pin.wipe_due:
            # the 10th wrong PIN, maybe before the app was killed: finish the sign-out
            self.locked = True
            self._busy = True  # no key works meanwhile
            self._show(self._lock_view())
            if not self._signing_out:
                self.shell.page.run_task(self.sign_out, "limit")
            return True
        if self.locked:
            if not self.pin.has_pin:  # removed in another session by someone who knew it
                self._release()
                return False
            self._show(self._lock_view())
            return True
        if self.pin.required and not self.pin.has_pin:
            self._show(self._setup_view())
            return True
        if self.cover is not None:
            self.cover = None
        if self._banner is not None and self._banner[1] != (shell.page.route or "/"):
            # the offer was not answered and the person moved on: that is "later"
            # (a banner over every screen would cost a volunteer 150 px all day)
            self._banner[0].open = False
            self._banner = None
        self._start_timer()
        return False

    def _just_enrolled(self) -> None:
        """Enrolled in this session: leaders, officers and admins must set a
        PIN before anything else; a volunteer is asked and may say later."""
        if self.pin.has_pin:
            return
        if self.pin.role_requires_pin:
            self.pin.require()
        else:
            self._offer_pin()

    # -- locking and unlocking ---------------------------------------------------

    def touch(self) -> None:
        """A person did something: the idle time starts again."""
        self.idle.touch()

    def lock_now(self) -> None:
        """Cover the app with the lock screen (no-op without a PIN)."""
        if self.locked or self.cover is not None or not self.active:
            return
        page = self.shell.page
        self.locked = True
        self._saved = _Saved(page.route or "/", list(page.views), self.shell.wide)
        self._digits = ""
        self._message = None
        self._stop_timer()
        self._close_dialogs()
        self._show(self._lock_view())

    def _unlock(self) -> None:
        self._release()
        self.idle.touch()
        page = self.shell.page
        saved, self._saved = self._saved, None
        if saved is not None and saved.views and saved.route == (page.route or "/") and saved.wide == self.shell.wide:
            page.views[:] = saved.views
            page.update()
        else:
            self.shell.render()
        self._start_timer()

    def _release(self) -> None:
        self.locked = False
        self.cover = None
        self._digits = ""
        self._message = None
        self._busy = False
        self._stop_countdown()
        for dialog in self._own_dialogs:
            dialog.open = False
        self._own_dialogs.clear()

    def _show(self, view: ft.View) -> None:
        self.cover = view
        page = self.shell.page
        page.views[:] = [view]
        page.update()

    def _close_dialogs(self) -> None:
        # every open dialog, snack bar and banner goes, as if cancelled: a
        # confirmation reappearing minutes later would be a trap, not a help
        for dialog in flet_private.dialogs(self.shell.page):
            if getattr(dialog, "open", False):
                dialog.open = False

    def _show_dialog(self, dialog: ft.DialogControl) -> None:
        self._own_dialogs.append(dialog)
        self.shell.page.show_dialog(dialog)

    def _pop_dialog(self, dialog: ft.DialogControl) -> None:
        dialog.open = False
        if dialog in self._own_dialogs:
            self._own_dialogs.remove(dialog)
        self.shell.page.update()

    # -- the idle timer ------------------------------------------------------------

    def _start_timer(self) -> None:
        if not self.active or (self._timer is not None and not self._timer.done()):
            return
        try:
            self._timer = self.shell.page.run_task(self._idle_loop)
        except Exception:  # no running session (closing): nothing to time
            log.debug("app lock timer not started", exc_info=True)

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and not timer.done():
            timer.cancel()

    async def _idle_loop(self) -> None:
        while not self.shell.closed and self.cover is None and not self.locked and self.active:
            self.idle.timeout = self.pin.timeout_seconds  # a change in Settings applies within MAX_NAP
            left = self.idle.remaining()
            if left <= 0:
                self.lock_now()
                return
            await self.clock.sleep(min(left, MAX_NAP))

    # -- what reaches the session ----------------------------------------------------

    def _admits(self, control_id: int, control: Any, is_page: bool, event_name: Optional[str]) -> bool:
        """Whether a client message goes through; counts it as an interaction."""
        if is_page:
            if event_name in PERSON_PAGE_EVENTS and self.cover is None:
                self.idle.touch()
            return True  # route changes, Back, resize …: the shell renders, and intercept() covers
        if self.cover is not None:
            if event_name != "dismiss" and not self._owns(control):
                # a control of the hidden app: its handler must not run while it is covered
                log.info("app lock: dropped %s for control %s (not on the lock screen)", event_name or "patch",
                         control_id)
                return False
            return True
        if event_name not in NOT_A_PERSON:
            self.idle.touch()
        return True

    def _owns(self, control: Any) -> bool:
        node = control
        while node is not None:
            if node is self.cover or any(node is d for d in self._own_dialogs):
                return True
            node = node.parent
        return False

    def _on_lifecycle(self, e: ft.AppLifecycleStateChangeEvent) -> None:
        """Back from the background after the timeout: lock. On a phone the
        app's Python may be frozen in the background, so the idle timer cannot
        fire there; its clock (CLOCK_BOOTTIME) kept counting, so this catches it."""
        if e.state in BACK_IN_FRONT and self.cover is None and self.active:
            if self.idle.expired():
                self.lock_now()
            else:
                self.idle.touch()
        if self._chain_lifecycle is not None:
            self._chain_lifecycle(e)

    async def _on_key(self, e: ft.KeyboardEvent) -> None:
        """A physical keyboard on the lock screen (a laptop in web mode): digits, Backspace, Enter."""
        if self.locked and self.cover is not None and not self._busy:
            key = e.key or ""
            if key.startswith("Numpad "):
                key = key[len("Numpad "):]
            if len(key) == 1 and key.isdigit():
                self._press(key)
            elif key == "Backspace":
                self._backspace()
            elif key == "Enter":
                await self._submit()
        if self._chain_keys is not None:
            result = self._chain_keys(e)
            if asyncio.iscoroutine(result):
                await result

    # -- the lock screen ---------------------------------------------------------------

    def _lock_view(self) -> ft.View:
        s = theme.STATUSES["problem"]
        self._dots = ft.Text("", size=30, font_family=theme.FONT_SEMIBOLD, key="lock.dots",
                             text_align=ft.TextAlign.CENTER, color=C.on_surface)
        self._dots_box = ft.Container(
            self._dots, height=56, alignment=ft.Alignment.CENTER,
            border=ft.Border.all(1.5, C.outline), border_radius=ft.BorderRadius.all(theme.RADIUS),
            bgcolor=C.surface_container_low,
        )
        self._note_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="lock.message", expand=True,
                                  color=s.on_container)
        self._wait_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="lock.wait",
                                  font_family=theme.FONT_SEMIBOLD, color=s.on_container, visible=False)
        self._note = ft.Container(
            ft.Column([
                ft.Row([ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong, size=20), self._note_text], spacing=8,
                       vertical_alignment=ft.CrossAxisAlignment.START),
                self._wait_text,
            ], spacing=4, tight=True),
            bgcolor=s.container, border=ft.Border.all(1.2, s.strong), border_radius=ft.BorderRadius.all(theme.RADIUS),
            padding=ft.Padding.symmetric(horizontal=12, vertical=8), visible=False, key="lock.note",
        )
        self._keys = []

        def key_button(label: str, on_click: Callable[..., Any], *, key: str, icon: Any = None,
                       filled: bool = False) -> ft.Control:
            """A 60 px key. An icon key is named by its icon's semantics label,
            so a screen reader reads the button itself ("Mở khóa, nút")."""
            cls = ft.FilledButton if filled else ft.FilledTonalButton
            content: ft.Control = (ft.Icon(icon, size=28, semantics_label=label) if icon is not None
                                   else ft.Text(label, size=26, font_family=theme.FONT_MEDIUM))
            button = cls(
                content=content, on_click=on_click, key=key, height=60, expand=True,
                style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=theme.RADIUS), padding=ft.Padding.all(0)),
            )
            self._keys.append(button)
            return button

        def digit(d: str) -> ft.Control:
            return key_button(d, lambda e: self._press(d), key=f"lock.key.{d}")

        async def ok(e: ft.ControlEvent) -> None:
            await self._submit()

        rows = [ft.Row([digit(d) for d in row], spacing=10) for row in ("123", "456", "789")]
        rows.append(ft.Row([
            key_button(self._t("lock.key_back"), lambda e: self._backspace(), key="lock.key.back",
                       icon=ft.Icons.BACKSPACE_OUTLINED),
            digit("0"),
            key_button(self._t("lock.key_ok"), ok, key="lock.key.ok", icon=ft.Icons.ARROW_FORWARD, filled=True),
        ], spacing=10))
        keypad = ft.Column(rows, spacing=10, key="lock.keypad")
        self._progress = ft.Column(
            [ft.ProgressBar(), ft.Text(self._t("lock.signing_out"), theme_style=ft.TextThemeStyle.BODY_LARGE,
                                       key="lock.signing_out")],
            spacing=8, visible=False, key="lock.progress",
        )
        self._forgot = ft.TextButton(self._t("lock.forgot"), icon=ft.Icons.HELP_OUTLINE, key="lock.forgot",
                                     on_click=lambda e: self._ask_forgot(), height=theme.TOUCH_TARGET)
        body = ft.Column(
            [
                ft.Row([ft.Icon(ft.Icons.LOCK, color=C.primary, size=28),
                        ft.Text(self._t("lock.title"), theme_style=ft.TextThemeStyle.TITLE_LARGE, key="lock.title")],
                       spacing=10),
                ft.Text(self._t("lock.prompt"), theme_style=ft.TextThemeStyle.BODY_LARGE),
                self._dots_box,
                self._note,
                keypad,
                self._progress,
                ft.Row([self._forgot], alignment=ft.MainAxisAlignment.CENTER),
            ],
            spacing=12,
            tight=True,
            horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
        )
        view = ft.View(
            route=LOCK_ROUTE,
            appbar=ft.AppBar(title=ft.Text(self._t("app.name")), automatically_imply_leading=False),
            # full width on a phone, a phone's width in the middle of a laptop's screen
            # (ResponsiveRow follows a window resize on the client, with no round trip)
            controls=[ft.ResponsiveRow([ft.Container(body, key="lock.screen",
                                                     col={"xs": 12, "sm": 8, "md": 6, "lg": 5, "xl": 4})],
                                       alignment=ft.MainAxisAlignment.CENTER)],
            scroll=ft.ScrollMode.AUTO,
            vertical_alignment=ft.MainAxisAlignment.CENTER,
            padding=ft.Padding.symmetric(horizontal=16, vertical=12),
        )
        self._paint()
        if self.pin.wait_remaining() > 0 and not self._signing_out and not self.pin.wipe_due:
            self._start_countdown()
        return view

    def _paint(self) -> None:
        """The lock screen's live parts from the guard's state (no update sent)."""
        if self._dots is None:
            return
        n = len(self._digits)
        self._dots.value = "•" * n if n else "—"
        self._dots.semantics_label = self._t("lock.typed", count=n)
        self._dots.color = C.on_surface if n else C.on_surface_variant
        # no countdown while signing out: there is nothing left to wait for
        waiting = self.pin.wait_remaining() if self.pin.has_pin and not self._signing_out \
            and not self.pin.wipe_due else 0.0
        message = self._message
        if message is None and waiting > 0:  # a new session (a restart) during a wait: say why
            failures = self.pin.failures
            message = ("problem", attempt_text(Attempt(False, failures, attempts_left(failures), waiting),
                                               lang=i18n.get_language(self.shell.page)))
        if message is not None:
            style, text = message
            s = theme.STATUSES[style]
            self._note_text.value = text
            self._note_text.color = s.on_container
            self._note.bgcolor = s.container
            self._note.border = ft.Border.all(1.2, s.strong)
            self._note.visible = True
        else:
            self._note.visible = False
        self._wait_text.visible = waiting > 0
        self._wait_text.value = self._t("lock.wait", time=wait_text(waiting))
        if waiting > 0:
            self._note.visible = True
        blocked = self._busy or waiting > 0 or self._signing_out
        for button in self._keys:
            button.disabled = blocked
        self._progress.visible = self._signing_out
        self._forgot.disabled = self._busy or self._signing_out
        self._forgot.visible = not self._signing_out

    def _refresh(self) -> None:
        self._paint()
        if self.cover is not None:
            self.shell.page.update()

    def _press(self, d: str) -> None:
        if self._busy or len(self._digits) >= PIN_MAX:
            return
        self._digits += d
        self._refresh()

    def _backspace(self) -> None:
        if self._busy:
            return
        self._digits = self._digits[:-1]
        self._refresh()

    async def _submit(self) -> None:
        if self._busy or not self.locked:
            return
        if len(self._digits) < PIN_MIN:
            self._message = ("problem", self._t("lock.too_short", min=PIN_MIN, max=PIN_MAX))
            self._refresh()
            return
        if not self.pin.has_pin:
            self._unlock()
            return
        digits, self._digits = self._digits, ""
        self._busy = True
        self._refresh()
        try:
            attempt = await self.shell.blocking(self.pin.check, digits)  # ~0.1-0.5 s of scrypt: off the loop
        except PinError:  # the PIN went away meanwhile (another tab removed it, a sign-out)
            self._busy = False
            self.shell.render()
            return
        self._busy = False
        if attempt.ok:
            self._unlock()
            return
        if attempt.wipe:
            await self.sign_out("limit")
            return
        self._message = ("problem", attempt_text(attempt, lang=i18n.get_language(self.shell.page)))
        self._refresh()
        if attempt.wait > 0:
            self._start_countdown()

    def _start_countdown(self) -> None:
        if self._countdown is not None and not self._countdown.done():
            return
        try:
            self._countdown = self.shell.page.run_task(self._count_down)
        except Exception:
            log.debug("app lock countdown not started", exc_info=True)

    def _stop_countdown(self) -> None:
        task, self._countdown = self._countdown, None
        if task is not None and not task.done():
            task.cancel()

    async def _count_down(self) -> None:
        while self.locked and not self.shell.closed:
            left = self.pin.wait_remaining()
            self._refresh()
            if left <= 0:
                return
            await self.clock.sleep(min(1.0, left))

    # -- setting the PIN after enrolment -------------------------------------------------

    def _setup_view(self) -> ft.View:
        role = self.shell.role

        def done() -> None:
            self.cover = None
            self.idle.touch()
            self.shell.render()
            self.shell.snack(self._t("lock.done.set"))

        controls = [
            ft.Row([ft.Icon(ft.Icons.LOCK_OUTLINE, color=C.primary, size=28),
                    ft.Text(self._t("lock.setup_title"), theme_style=ft.TextThemeStyle.TITLE_LARGE, expand=True)],
                   spacing=10),
            ft.Text(self._t("lock.setup_required", role=self._t(f"role.{role}"),
                            minutes=self.pin.timeout_minutes),
                    theme_style=ft.TextThemeStyle.BODY_LARGE, key="lock.setup_required"),
            ft.Text(self._t("lock.intro.set", min=PIN_MIN, max=PIN_MAX, attempts=MAX_ATTEMPTS),
                    theme_style=ft.TextThemeStyle.BODY_MEDIUM, color=C.on_surface_variant),
            *pin_form(self.shell, "set", done),
        ]
        return ft.View(
            route=SETUP_ROUTE,
            appbar=ft.AppBar(title=ft.Text(self._t("app.name")), automatically_imply_leading=False),
            controls=[ft.ResponsiveRow([ft.Container(ft.Column(controls, spacing=14, tight=True),
                                                     col={"xs": 12, "sm": 10, "md": 8, "lg": 6, "xl": 5})],
                                       alignment=ft.MainAxisAlignment.CENTER)],
            scroll=ft.ScrollMode.AUTO,
            padding=ft.Padding.all(16),
        )

    def _offer_pin(self) -> None:
        banner: ft.Banner

        def later(e: ft.ControlEvent) -> None:
            banner.open = False
            self._banner = None
            self.shell.page.update()

        def set_now(e: ft.ControlEvent) -> None:
            banner.open = False
            self._banner = None
            self.shell.go("/settings/pin/set")

        banner = ft.Banner(
            leading=ft.Icon(ft.Icons.LOCK_OUTLINE, color=C.primary),
            content=ft.Text(self._t("lock.offer"), theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="lock.offer"),
            actions=[
                ft.TextButton(self._t("lock.offer_later"), on_click=later, key="lock.offer_later"),
                ft.FilledButton(self._t("lock.offer_set"), on_click=set_now, key="lock.offer_set"),
            ],
            bgcolor=C.primary_container,
        )
        self._banner = (banner, self.shell.going_to or self.shell.page.route or "/")
        self.shell.page.show_dialog(banner)

    # -- signing out: a forgotten PIN, or the last wrong one ---------------------------------

    def _ask_forgot(self) -> None:
        if self._busy or self._signing_out:
            return
        pending = self.shell.store.pending_count() if self.shell.signed_in else 0
        dialog: ft.AlertDialog

        def cancel(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)

        async def confirm(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)
            await self.sign_out("forgot")

        dialog = ft.AlertDialog(
            modal=True,
            icon=ft.Icon(ft.Icons.HELP_OUTLINE, color=C.primary),
            title=ft.Text(self._t("lock.forgot_title")),
            content=ft.Text(self._t("lock.forgot_body", count=number(pending)), key="lock.forgot_body"),
            actions=[
                ft.TextButton(self._t("common.cancel"), on_click=cancel, key="lock.forgot_cancel"),
                ft.FilledButton(self._t("lock.forgot_confirm"), on_click=confirm, key="lock.forgot_confirm"),
            ],
        )
        self._show_dialog(dialog)

    async def sign_out(self, why: str) -> None:
        """Send what is pending, then purge (`Device.sign_out`), as for a lost
        phone. why="limit" (the last wrong PIN): purge even if sending fails —
        the person holding the phone is presumed not its volunteer.
        why="forgot": if events could not be sent, say how many and ask again,
        as Settings' sign-out does; why="discard": the answer to that, yes."""
        if self._signing_out:
            return
        force = why != "forgot"
        shell = self.shell
        self.locked = True
        self._signing_out = True
        self._busy = True
        self._message = None  # the progress line says what happens now
        self._stop_countdown()
        self._stop_timer()
        self._close_dialogs()
        self._show(self._lock_view())
        try:
            await shell.blocking(_sign_out, shell.device, force)
        except SyncError as exc:
            self._signing_out = False
            self._busy = False
            left = shell.store.pending_count() if shell.signed_in else 0
            kind = type(exc).__name__
            reason = self._t(f"sync.error.{kind if kind in ERROR_KINDS else 'other'}", detail=str(exc))
            self._message = ("problem", reason)
            self._refresh()
            if left:
                self._ask_discard(left, reason)
            return
        except Exception:
            log.exception("app lock: the sign-out failed")
            self._signing_out = False
            self._busy = False
            self._message = ("problem", self._t("lock.sign_out_failed"))
            self._refresh()
            return
        self.pin.forget()
        self._signing_out = False
        self._release()
        self._saved = None
        shell.drafts.clear()
        shell.ui.clear()
        shell.go("/")
        shell.snack(self._t("lock.wiped", attempts=MAX_ATTEMPTS) if why == "limit" else self._t("settings.signed_out"))

    def _ask_discard(self, left: int, reason: str) -> None:
        dialog: ft.AlertDialog
        s = theme.STATUSES["problem"]

        def stay(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)

        async def discard(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)
            await self.sign_out("discard")

        dialog = ft.AlertDialog(
            modal=True,
            icon=ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong),
            title=ft.Text(self._t("settings.unsent_title", count=number(left))),
            content=ft.Text(self._t("settings.unsent_body", count=number(left), reason=reason),
                            key="lock.unsent_body"),
            actions=[
                ft.TextButton(self._t("settings.unsent_stay"), on_click=stay, key="lock.unsent_stay"),
                ft.FilledButton(self._t("settings.unsent_discard", count=number(left)), key="lock.unsent_discard",
                                on_click=discard, style=ft.ButtonStyle(bgcolor=s.strong, color="#FFFFFF")),
            ],
        )
        self._show_dialog(dialog)


def _sign_out(device: Any, force: bool) -> None:
    """Blocking (a worker thread): Device.sign_out, once per process at a time. Forced, it purges
    whatever the sending does (field_app/signout.py)."""
    with _SIGN_OUT:
        if not device.store.signed_in:
            return  # another session did it meanwhile
        try:
            device.sign_out(force)
        except SyncError:
            if not device.store.signed_in:
                return  # purged all the same (the campaign's retention purge answered): done
            raise


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------


def wait_text(seconds: float) -> str:
    """A countdown as m:ss ("0:30", "8:00")."""
    whole = int(seconds + 0.999)
    return f"{whole // 60}:{whole % 60:02d}"


def attempt_text(attempt: Attempt, *, lang: Optional[str] = None) -> str:
    """What a wrong try says: wrong, how many tries are left, and from the
    waits on, what happens when they run out."""
    if attempt.refused:
        return t("lock.waiting", lang=lang)
    if attempt.failures >= FREE_ATTEMPTS:
        return t("lock.wrong_last" if attempt.left == 1 else "lock.wrong_warn", lang=lang, left=attempt.left)
    return t("lock.wrong", lang=lang, left=attempt.left)


# ---------------------------------------------------------------------------
# Setting, changing and removing the PIN
# ---------------------------------------------------------------------------


def _pin_field(label: str, key: str, *, autofocus: bool = False) -> ft.TextField:
    return ft.TextField(
        label=label,
        key=key,
        password=True,
        can_reveal_password=True,
        keyboard_type=ft.KeyboardType.NUMBER,
        input_filter=ft.NumbersOnlyInputFilter(),
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
    """The fields and the button of one PIN task: "set" (new, twice), "change"
    (current, then new twice), "remove" (current). A wrong current PIN counts
    as a wrong try on the lock screen: otherwise an unlocked app would let
    anyone guess the PIN here without limit, then open the app at will."""
    guard: LockGuard = shell.lock
    lang = i18n.get_language(shell.page)
    current = _pin_field(t("lock.field.current", lang=lang), "pin.current", autofocus=True) \
        if mode in ("change", "remove") else None
    new = _pin_field(t("lock.field.new", lang=lang), "pin.new", autofocus=current is None) \
        if mode in ("set", "change") else None
    again = _pin_field(t("lock.field.again", lang=lang), "pin.again") if new is not None else None
    fields = [f for f in (current, new, again) if f is not None]
    error = ft.Text("", key="pin.error", visible=False, theme_style=ft.TextThemeStyle.BODY_MEDIUM,
                    color=theme.STATUSES["problem"].on_container)
    busy = ft.ProgressBar(visible=False, key="pin.busy")
    danger = mode == "remove"
    button = theme.big_button(t(f"lock.save.{mode}", lang=lang), icon=ft.Icons.LOCK_OPEN if danger else ft.Icons.LOCK,
                              key="pin.save")

    def field_for(code: str) -> Optional[ft.TextField]:
        if code == "mismatch":
            return again
        if code in ("not_digits", "too_short", "too_long", "too_simple"):
            return new
        return None

    async def save(e: ft.ControlEvent) -> None:
        for f in fields:
            f.error = None
        error.visible = False
        button.disabled = True
        busy.visible = True
        shell.page.update()
        try:
            if mode == "set":
                await shell.blocking(guard.pin.set_pin, new.value or "", again.value or "")
                attempt = None
            elif mode == "change":
                attempt = await shell.blocking(guard.pin.change_pin, current.value or "", new.value or "",
                                               again.value or "")
            else:
                attempt = await shell.blocking(guard.pin.remove_pin, current.value or "")
        except PinError as exc:
            text = t(f"lock.pin_error.{exc.code}", lang=lang, min=PIN_MIN, max=PIN_MAX)
            target = field_for(exc.code)
            if target is not None:
                target.error = text
            else:
                error.value = text
                error.visible = True
            button.disabled = False
            busy.visible = False
            shell.page.update()
            return
        button.disabled = False
        busy.visible = False
        if attempt is not None and not attempt.ok:
            if attempt.wipe:
                await guard.sign_out("limit")
                return
            current.value = ""
            current.error = attempt_text(attempt, lang=lang)
            if attempt.wait > 0:
                current.error += " " + t("lock.wait", lang=lang, time=wait_text(attempt.wait))
            shell.page.update()
            return
        for f in fields:
            f.value = ""
        guard.touch()
        on_done()

    button.on_click = save
    for f in fields:
        f.on_submit = save
    return [*(ft.Row([f]) for f in fields), error, busy, button]


def pin_view(shell: Shell, params: dict[str, str]) -> ft.View:
    """/settings/pin/set | change | remove, pushed over Settings (Back returns there)."""
    route = f"/settings/pin/{params.get('mode', 'set')}"
    guard = shell.lock
    mode = params.get("mode") if params.get("mode") in MODES else "set"
    if guard is None or not shell.signed_in:  # a PIN belongs to an enrolment: without one there is none to set
        return shell.not_found(route)
    has_pin = guard.pin.has_pin
    if mode == "set" and has_pin:
        mode = "change"
    elif mode != "set" and not has_pin:
        mode = "set"
    if mode == "remove" and guard.pin.role_requires_pin:
        mode = "change"

    def done() -> None:
        shell.go("/settings")
        shell.snack(t(f"lock.done.{mode}"))

    intro = ft.Text(t(f"lock.intro.{mode}", min=PIN_MIN, max=PIN_MAX, attempts=MAX_ATTEMPTS),
                    theme_style=ft.TextThemeStyle.BODY_LARGE, key="pin.intro")
    return shell.pushed_view(route, t(f"lock.title.{mode}"), [intro, *pin_form(shell, mode, done)])
