"""What a screen may use of the app around it: the `Shell` Protocol.

Views are typed against this Protocol, never against the shell's class
(field_app/shell.py `AppShell` implements it): the shell imports the views to
plug them in, and a view importing the shell back would make a cycle. Every
name here is one some view uses; a view needing something else of the shell
adds it here first, in the open.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import flet as ft

from field_app.screen import Screen

if TYPE_CHECKING:  # types only
    from field_app.app_state import Device
    from field_app.lock import AppLock, IdleTimer
    from field_app.net.sync import SyncStatus
    from field_app.store import Store
    from field_app.visit_record import VisitDraft

__all__ = ["DetailBuilder", "EnrolBuilder", "LiveCallback", "Lock", "ScreenBuilder", "Shell"]

P = ParamSpec("P")
T = TypeVar("T")

ScreenBuilder = Callable[["Shell"], list[ft.Control] | Screen]
"""Builds the body of a tab: `builder(shell) -> [controls] | Screen`."""

DetailBuilder = Callable[["Shell", dict[str, str]], ft.View]
"""Builds a pushed view: `builder(shell, params) -> ft.View` (with an AppBar,
so the user gets a Back arrow). `params` holds the route's `:name` segments."""

EnrolBuilder = Callable[["Shell"], ft.View]
"""Builds the only view of a device that is not enrolled."""

LiveCallback = Callable[["SyncStatus", bool], None]
"""`callback(status, data_changed)`: a screen's reaction to the background
sync, run on the session's loop. `data_changed`: a sync just brought events."""


class Lock(Protocol):
    """The app lock as the shell and Settings see it (views/lock.py `LockGuard`)."""

    #: the PIN, its wrong tries and waits (field_app/lock.py)
    pin: AppLock
    #: time since the last interaction
    idle: IdleTimer
    #: the lock screen covers this session
    locked: bool

    def intercept(self) -> bool:
        """Asked first by every render: True when the lock drew the page itself."""
        ...

    def lock_now(self) -> None: ...

    def touch(self) -> None:
        """A person did something: the idle time starts again."""
        ...

    async def sign_out(self, why: str) -> None:
        """Send what is pending, then purge: a forgotten PIN, or the last wrong one."""
        ...


class Shell(Protocol):
    """The app around the screens, one per Flet session (page)."""

    page: ft.Page
    #: the server address the app was started with (`--server`): the enrol screen's default
    server_url: str | None
    #: screen state that survives a re-render (hamlet, search, filter …), by screen-chosen keys
    ui: dict[str, Any]
    #: per household, the help chosen before an outcome is tapped
    drafts: dict[str, VisitDraft]
    #: tab bodies by route (views/__init__.py `register` fills it)
    screens: dict[str, ScreenBuilder]
    #: the only view while the device is not enrolled
    enrol_screen: EnrolBuilder | None
    #: the app lock of this session (views/lock.py `install`)
    lock: Lock | None

    @property
    def store(self) -> Store:
        """The device's store."""
        ...

    @property
    def device(self) -> Device:
        """The device: its store, sync client and background sync."""
        ...

    @property
    def role(self) -> str:
        """The role whose screens are shown (the enrolled device's, or a forced one)."""
        ...

    @property
    def signed_in(self) -> bool: ...

    @property
    def needs_enrolment(self) -> bool:
        """Only the enrol screen shows (no forced role, not enrolled)."""
        ...

    @property
    def wide(self) -> bool:
        """The page is wide enough for a side rail (laptop layouts)."""
        ...

    @property
    def closed(self) -> bool:
        """The session has ended (timers and late answers stop)."""
        ...

    @property
    def going_to(self) -> str | None:
        """The route `go()` is opening and the client has not confirmed yet."""
        ...

    def go(self, route: str) -> None:
        """Navigate (safe from sync handlers)."""
        ...

    def render(self) -> None:
        """Rebuild the page's views for the current route and send them (once a closed dialog
        has left the client)."""
        ...

    def wait_for_dialogs(self) -> bool:
        """True when a closed dialog is still on the client: the caller replaces no views now, the
        shell renders once the dialog is gone (views replaced under a closing dialog were seen in
        Chromium to leave it on screen)."""
        ...

    def snack(self, text: str, *, error: bool = False, undo: Callable[[], Any] | None = None) -> None:
        """A short message about the screen being shown (or being opened); `undo`: a "Hoàn tác"
        button on it that calls this."""
        ...

    def changed(self) -> None:
        """Something was recorded: sync it when the network allows."""
        ...

    def live(self, callback: LiveCallback) -> None:
        """Call back on each background-sync change while this screen is shown."""
        ...

    def draft(self, household_id: str) -> VisitDraft:
        """The help chosen in this household before an outcome is tapped."""
        ...

    async def blocking(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking call (network, scrypt, sign-out) off the session's loop."""
        ...

    def set_language(self, lang: str) -> None:
        """Switch this session's language (remembered on the device) and redraw."""
        ...

    def register_detail(self, pattern: str, builder: DetailBuilder) -> None:
        """Route a pattern like "/households/:id" to a pushed view builder."""
        ...

    def pushed_view(
        self,
        route: str,
        title: str,
        controls: list[ft.Control],
        *,
        scroll: bool = True,
        bottom: ft.Control | None = None,
        fab: ft.FloatingActionButton | None = None,
        actions: list[ft.Control] | None = None,
    ) -> ft.View:
        """A view pushed over a tab: an AppBar with a Back arrow, no navigation bar."""
        ...

    def not_found(self, path: str) -> ft.View:
        """The view of a route that leads nowhere ("Không tìm thấy trang …")."""
        ...
