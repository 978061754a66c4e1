"""The app lock on screen: the lock screen and the guard that hooks it into the
shell. field_app/lock.py holds the rules, models/lock.py the flow (what covers
the app, what a key does, the sign-out steps); views/pin.py the PIN forms.

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
client arrives (field_app/flet_private.py `hook_session`): the session's
`dispatch_event` (CONTROL_EVENT: clicks, selections, text changes, route
changes, Back, keys) and `apply_patch` (UPDATE_CONTROL_PROPS: a field's value
as it is typed). All connection types
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
from dataclasses import dataclass
from typing import Any

import flet as ft

from field_app import flet_private, i18n
from field_app.i18n import t
from field_app.lock import AppLock, Clock, IdleTimer, PinError, SystemClock
from field_app.net.errors import SyncError
from field_app.signout import sign_out_once
from field_app.store import Work

from .lock_screen import LockScreen, discard_dialog, forgot_dialog, offer_banner, setup_view
from .models.lock import Cover, LockFlow, Submit, counts_as_person, keypad_key
from .pin import PIN_ROUTE, pin_form, pin_view
from .shell import Shell

__all__ = ["LockGuard", "install"]

log = logging.getLogger(__name__)

MAX_NAP = 15.0  # s: the idle timer re-reads the timeout setting at least this often

#: lifecycle states that mean "back in front of the person"
BACK_IN_FRONT = frozenset({ft.AppLifecycleState.SHOW, ft.AppLifecycleState.RESUME, ft.AppLifecycleState.RESTART})


def install(shell: Shell, clock: Clock | None = None) -> LockGuard:
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
        self.flow = LockFlow(self.pin, enrolling=shell.needs_enrolment)
        self.idle = IdleTimer(clock, self.pin.timeout_seconds)
        self.cover: ft.View | None = None  # the guard's view while it covers the app
        self.hooked = False  # the session hooks are in (see the module's docstring)
        self._own_dialogs: list[ft.DialogControl] = []
        self._saved: _Saved | None = None
        self._timer: Any = None  # the idle timer task (a concurrent future from page.run_task)
        self._countdown: Any = None
        self._chain_lifecycle: Any = None
        self._chain_keys: Any = None
        self._banner: tuple[ft.Banner, str] | None = None  # the PIN offer after enrolment, and its route
        self._screen: LockScreen | None = None  # the lock screen's live parts (rebuilt with the view)

    # -- state -------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """The lock screen covers this session (or will at the next render)."""
        return self.flow.locked

    @locked.setter
    def locked(self, value: bool) -> None:
        self.flow.locked = value

    @property
    def active(self) -> bool:
        """A PIN protects this device (so it may lock)."""
        return self.flow.active(self.shell.signed_in)

    def _lang(self) -> str:
        # timer tasks and lifecycle handlers run outside the handler that set the page's context
        return i18n.get_language(self.shell.page)

    def _t(self, key: str, **fmt: Any) -> str:
        return t(key, lang=self._lang(), **fmt)

    # -- the shell's hook --------------------------------------------------------

    def intercept(self) -> bool:
        """Called first by `AppShell.render()`. True: the guard drew the page
        itself (the app is covered); False: render the app as usual."""
        shell = self.shell
        cover = self.flow.cover(signed_in=shell.signed_in, needs_enrolment=shell.needs_enrolment,
                                covered=self.cover is not None)
        if self.flow.offer_due:
            self.flow.offer_due = False
            self._offer_pin()
        if cover is Cover.OUT:
            return False
        if cover is Cover.RELEASED:
            self._release()
            return False
        if cover is Cover.FINISH_SIGN_OUT:  # the 10th wrong PIN, maybe before the app was killed
            self._show(self._lock_view())
            if not self.flow.signing_out:
                shell.page.run_task(self.sign_out, "limit")
            return True
        if cover is Cover.LOCK:
            self._show(self._lock_view())
            return True
        if cover is Cover.SETUP:
            self._show(self._setup_view())
            return True
        self.cover = None
        if self._banner is not None and self._banner[1] != (shell.page.route or "/"):
            # the offer was not answered and the person moved on: that is "later"
            # (a banner over every screen would cost a volunteer 150 px all day)
            self._banner[0].open = False
            self._banner = None
        self._start_timer()
        return False

    # -- locking and unlocking ---------------------------------------------------

    def touch(self) -> None:
        """A person did something: the idle time starts again."""
        self.idle.touch()

    def lock_now(self) -> None:
        """Cover the app with the lock screen (no-op without a PIN)."""
        if self.locked or self.cover is not None or not self.active:
            return
        page = self.shell.page
        self.flow.lock()
        self._saved = _Saved(page.route or "/", list(page.views), self.shell.wide)
        self._stop_timer()
        self._close_dialogs()
        self._show(self._lock_view())

    def _unlock(self) -> None:
        self._release()
        self.idle.touch()
        page = self.shell.page
        saved, self._saved = self._saved, None
        if self.shell.wait_for_dialogs():
            # the forgot-PIN question was open (a PIN typed on a keyboard under it): it closes now
            # and the shell draws the app once it is gone, the screen built again, not given back
            page.update()
        elif saved is not None and saved.views and saved.route == (page.route or "/") and saved.wide == self.shell.wide:
            page.views[:] = saved.views
            page.update()
        else:
            self.shell.render()
        self._start_timer()

    def _release(self) -> None:
        self.flow.release()
        self.cover = None
        self._stop_countdown()
        for dialog in self._own_dialogs:
            dialog.open = False
        self._own_dialogs.clear()

    def _show(self, view: ft.View) -> None:
        self.cover = view  # from now on the hidden app's controls get no events (`_admits`)
        page = self.shell.page
        if self.shell.wait_for_dialogs():
            # a dialog closes (the forgot-PIN confirmation, the app's own when locking): the
            # shell's render brings the cover once the client has taken the dialog down
            page.update()
            return
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

    def _admits(self, control_id: int, control: Any, is_page: bool, event_name: str | None) -> bool:
        """Whether a client message goes through; counts it as an interaction."""
        if is_page:
            if counts_as_person(True, event_name) and self.cover is None:
                self.idle.touch()
            return True  # route changes, Back, resize …: the shell renders, and intercept() covers
        if self.cover is not None:
            if event_name != "dismiss" and not self._owns(control):
                # a control of the hidden app: its handler must not run while it is covered
                log.info("app lock: dropped %s for control %s (not on the lock screen)", event_name or "patch",
                         control_id)
                return False
            return True
        if counts_as_person(False, event_name):
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
        if self.locked and self.cover is not None and not self.flow.busy:
            key = keypad_key(e.key)
            if key == "back":
                self._backspace()
            elif key == "ok":
                await self._submit()
            elif key is not None:
                self._press(key)
        if self._chain_keys is not None:
            result = self._chain_keys(e)
            if asyncio.iscoroutine(result):
                await result

    # -- the lock screen ---------------------------------------------------------------

    def _lock_view(self) -> ft.View:
        self._screen = LockScreen(self._lang(), on_digit=self._press, on_back=self._backspace, on_ok=self._submit,
                                  on_forgot=self._ask_forgot)
        self._paint()
        if self.flow.counting_down():
            self._start_countdown()
        return self._screen.view

    def _paint(self) -> None:
        """The lock screen's live parts from the flow's state (no update sent)."""
        if self._screen is not None:
            self._screen.paint(self.flow.face(self._lang()))

    def _refresh(self) -> None:
        self._paint()
        if self.cover is not None:
            self.shell.page.update()

    def _press(self, d: str) -> None:
        if self.flow.press(d):
            self._refresh()

    def _backspace(self) -> None:
        if self.flow.backspace():
            self._refresh()

    async def _submit(self) -> None:
        step = self.flow.submit(self._lang())
        if step is Submit.IGNORED:
            return
        if step is Submit.TOO_SHORT:
            self._refresh()
            return
        if step is Submit.UNLOCK:
            self._unlock()
            return
        self._refresh()
        try:
            attempt = await self.shell.blocking(self.flow.check)  # ~0.1-0.5 s of scrypt: off the loop
        except PinError:  # the PIN went away meanwhile (another tab removed it, a sign-out)
            self.flow.pin_gone()
            self.shell.render()
            return
        self.flow.checked(attempt, self._lang())
        if attempt.ok:
            self._unlock()
            return
        if attempt.wipe:
            await self.sign_out("limit")
            return
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
        def done() -> None:
            self.cover = None
            self.idle.touch()
            self.shell.render()
            self.shell.snack(self._t("lock.done.set"))

        return setup_view(self._lang(), self.shell.role, self.pin.timeout_minutes, pin_form(self.shell, "set", done))

    def _offer_pin(self) -> None:
        def later(e: ft.ControlEvent) -> None:
            banner.open = False
            self._banner = None
            self.shell.page.update()

        def set_now(e: ft.ControlEvent) -> None:
            banner.open = False
            self._banner = None
            self.shell.go("/settings/pin/set")

        banner = offer_banner(self._lang(), later=later, set_now=set_now)
        self._banner = (banner, self.shell.going_to or self.shell.page.route or "/")
        self.shell.page.show_dialog(banner)

    # -- signing out: a forgotten PIN, or the last wrong one ---------------------------------

    def _ask_forgot(self) -> None:
        if not self.flow.may_ask_forgot():
            return
        pending = self.shell.store.work() if self.shell.signed_in else Work()

        def cancel(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)

        async def confirm(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)
            await self.sign_out("forgot")

        dialog = forgot_dialog(self._lang(), pending, cancel=cancel, confirm=confirm)
        self._show_dialog(dialog)

    async def sign_out(self, why: str) -> None:
        """Send what is pending, then purge (`Device.sign_out`), as for a lost
        phone. why="limit" (the last wrong PIN): purge even if sending fails —
        the person holding the phone is presumed not its volunteer.
        why="forgot": if events could not be sent, say how many and ask again,
        as Settings' sign-out does; why="discard": the answer to that, yes."""
        force = self.flow.start_sign_out(why)
        if force is None:
            return
        shell = self.shell
        self._stop_countdown()
        self._stop_timer()
        self._close_dialogs()
        self._show(self._lock_view())
        try:
            await shell.blocking(sign_out_once, shell.device, force)
        except SyncError as exc:
            reason = self.flow.sign_out_refused(exc, self._lang())
            left = shell.store.work() if shell.signed_in else Work()
            self._refresh()
            if left.total:
                self._ask_discard(left, reason)
            return
        except Exception:
            log.exception("app lock: the sign-out failed")
            self.flow.sign_out_failed(self._lang())
            self._refresh()
            return
        done = self.flow.signed_out(why, self._lang())
        self._release()
        self._saved = None
        shell.drafts.clear()
        shell.ui.clear()
        shell.go("/")
        shell.snack(done)

    def _ask_discard(self, left: Work, reason: str) -> None:
        def stay(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)

        async def discard(e: ft.ControlEvent) -> None:
            self._pop_dialog(dialog)
            await self.sign_out("discard")

        dialog = discard_dialog(self._lang(), left, reason, stay=stay, discard=discard)
        self._show_dialog(dialog)

