"""`AppShell`: the app around the screens, one per Flet session (page).

It owns the session's route → views (field_app/navigation.py says which tab
and which stack), the snack bar, the app bar's sync badge, the language and
the role, and it brings the background sync's news to the screens. Screens
are typed against `field_app.views.shell.Shell`, the Protocol this class
implements, and plug in through `screens` (tab bodies, keyed by route) and
`register_detail` (pushed views such as "/households/:id"); the volunteer
screens register themselves in `field_app.views.register`.

Data: one `field_app.app_state.Device` per data dir (store + background
sync), shared by every session of the process. Until the device is enrolled
the shell shows only the enrol screen. Sync status reaches the screens from
the sync thread through `page.run_task` (see `AppShell._status_from_thread`).

A screen redrawn while a dialog closes waits for the dialog to go (`render`):
in Chromium, views replaced in the update that closed a dialog (an AlertDialog,
a date picker, a bottom sheet) left the dialog on screen over the new screen,
its buttons live, inviting a second tap (a second visit). So a screen closes
its dialog, writes, and calls `render()` or `go()` as usual; the shell sends
the close at once and the new views once the client reports the dialog
dismissed (or after `DISMISS_GRACE` seconds, if it never does). A tap on the
closed dialog meanwhile (sent before the client heard of the close) reaches no
handler (`_admits`): one tap, one write, without each screen keeping count.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import flet as ft

from campaign.roles import ROLES
from field_app import flet_private, frame, i18n
from field_app.app_state import Device
from field_app.i18n import t
from field_app.navigation import (
    ENROL_ROUTE,
    WIDE_BREAKPOINT,
    DetailRoutes,
    Tab,
    base_tab,
    parent_paths,
    path_of,
    tab_for,
    tabs_for,
)
from field_app.net.sync import SyncReport, SyncStatus
from field_app.screen import Screen
from field_app.store import Store
from field_app.views.shell import DetailBuilder, EnrolBuilder, LiveCallback, Lock, ScreenBuilder
from field_app.visit_record import VisitDraft

__all__ = ["AppShell", "apply_locale"]

log = logging.getLogger(__name__)

#: seconds a redraw waits for a closed dialog's dismissal before it goes ahead all the same (a
#: client that dropped the dialog unseen never reports it); Flutter's closing animation takes 0.15 s
DISMISS_GRACE = 3.0

P = ParamSpec("P")
T = TypeVar("T")


class AppShell:
    """The app around the screens: title, language, navigation, data.

    Screens get it as their first argument (typed as `Shell`) and use
    `shell.page`, `shell.go(route)`, `shell.store`, `shell.device`,
    `shell.role`, `shell.changed()` after recording, `shell.snack(text)`,
    `shell.live(callback)` for sync updates, and `shell.render()` after
    changing something shell-wide.
    """

    def __init__(self, page: ft.Page, device: Device, *, server_url: str | None = None,
                 role: str | None = None) -> None:
        if role is not None and role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.page = page
        self.server_url = server_url
        self._device = device
        #: an explicit role (tests, previews) shows that role's tabs even
        #: before enrolment; otherwise the enrolled device's role decides
        self.forced_role = role
        self.screens: dict[str, ScreenBuilder] = {}
        self.enrol_screen: EnrolBuilder | None = None
        self._details: DetailRoutes[DetailBuilder] = DetailRoutes()
        self._wide: bool | None = None
        #: per household, the help chosen before an outcome is tapped
        self.drafts: dict[str, VisitDraft] = {}
        #: screen state that survives a re-render (hamlet, search, filter …)
        self.ui: dict[str, Any] = {}
        self._live: list[LiveCallback] = []
        self._badges: list[ft.IconButton] = []
        self._going_to: str | None = None  # where go() is taking us (snacks belong there)
        self._last_report: SyncReport | None = None
        self._closed = False
        self._showing_app = False  # the last render showed the app, not the enrol screen
        #: the app lock (field_app/views/lock.py `LockGuard`), set by build_app
        self.lock: Lock | None = None
        #: called once when the session ends (build_app: release the device, remove a throwaway dir)
        self.on_close: list[Callable[[], None]] = []
        # a render waiting for a closed dialog to leave the client (see `render`)
        self._waiting: asyncio.TimerHandle | None = None
        self._given_up: list[ft.DialogControl] = []  # closed dialogs whose dismissal is no longer awaited
        self._hears_dismissals = flet_private.after_dismiss(page, self._dismissed)
        flet_private.hook_session(page, self._admits)

    # -- public API -------------------------------------------------------

    @property
    def device(self) -> Device:
        return self._device

    @property
    def store(self) -> Store:
        """The device's `field_app.store.Store`."""
        return self._device.store

    @property
    def role(self) -> str:
        if self.forced_role is not None:
            return self.forced_role
        role = self.store.role
        return role if role in ROLES else "volunteer"

    @role.setter
    def role(self, role: str) -> None:
        self.forced_role = role

    @property
    def signed_in(self) -> bool:
        return bool(self.store.signed_in)

    @property
    def needs_enrolment(self) -> bool:
        return self.forced_role is None and not self.signed_in

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def going_to(self) -> str | None:
        return self._going_to

    @property
    def tabs(self) -> list[Tab]:
        """The navigation tabs this role sees, in order."""
        return tabs_for(self.role)

    @property
    def wide(self) -> bool:
        """True when the page is wide enough for a side rail."""
        return (self.page.width or 0) >= WIDE_BREAKPOINT

    def go(self, route: str) -> None:
        """Navigate (safe from sync handlers): the client pushes the route onto
        its history, then `on_route_change` renders it."""
        self._going_to = route
        if route == self.page.route:
            self.render()
        else:
            self.page.navigate(route)

    def register_detail(self, pattern: str, builder: DetailBuilder) -> None:
        """Route a pattern like "/households/:id" to a pushed view builder.
        A later registration wins over an earlier one that matches the same
        path (register "/households/:id" before "/households/new")."""
        self._details.register(pattern, builder)

    def set_language(self, lang: str) -> None:
        """Switch this session's language (remembered on the device) and redraw."""
        i18n.set_language(lang, self.page)
        self.store.set_setting("language", lang)
        self.page.title = t("app.name")
        apply_locale(self.page, lang)
        self.render()

    def set_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.forced_role = role
        self.render()

    def render(self) -> None:
        """Rebuild `page.views` for the current route and send the update; while a dialog closes,
        only once the client has taken it down (the module's docstring says why)."""
        if self.wait_for_dialogs():
            # the close goes now (a dialog closed by `open = False` and no update of its own);
            # the views, the lock's cover as well, come with this render once the dialog is gone
            self.page.update()
            return
        if self.lock is not None and self.lock.intercept():
            return  # the lock screen (or the required PIN setup) covers the app instead
        route = self.page.route or "/"
        # the app gave way to the enrol screen (a purge, a sign-out in another tab): its dialogs
        # go with it, or a dialog about a household could stay over the enrol screen
        leaving_app = self.needs_enrolment and self._showing_app
        self._showing_app = not self.needs_enrolment
        for dialog in flet_private.dialogs(self.page):
            # a message about another screen goes when that screen does
            # (Flet removes it from the page when the client reports it dismissed)
            if not dialog.open:
                continue
            if leaving_app or (isinstance(dialog, ft.SnackBar) and dialog.data not in (route, self._going_to)):
                dialog.open = False
        if self.wait_for_dialogs():  # closed just now (leaving the app, or the lock let go of its own)
            self.page.update()  # the dialogs close now, the screen comes once they are gone
            return
        self._live = []
        self._badges = []
        if self._going_to == route:
            self._going_to = None
        self.page.views[:] = self._views_for(route)
        self.page.update()

    def wait_for_dialogs(self) -> bool:
        """True when a closed dialog is still on the client: the caller replaces no views now, and
        `render` runs once the client reports it dismissed (`_dismissed`), or after `DISMISS_GRACE`
        seconds if that never comes."""
        if self._waiting is not None:
            return True
        if not self._hears_dismissals:
            return False
        closing = [d for d in flet_private.closing_dialogs(self.page) if not any(d is g for g in self._given_up)]
        if not closing:
            held = flet_private.dialogs(self.page)
            self._given_up = [g for g in self._given_up if any(g is d for d in held)]
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the session's loop: nothing could wait, so do not
            return False
        self._waiting = loop.call_later(DISMISS_GRACE, self._give_up, closing)
        return True

    def _dismissed(self) -> None:
        """A dismissal was handled (flet_private.after_dismiss): a waiting render goes ahead once no
        closed dialog is left on the client."""
        if self._waiting is None or self._closed:
            return
        if any(not any(d is g for g in self._given_up) for d in flet_private.closing_dialogs(self.page)):
            return
        self._waiting.cancel()
        self._waiting = None
        self.render()

    def _admits(self, control_id: int, control: Any, is_page: bool, event_name: str | None) -> bool:
        """Whether a client message reaches its handler (flet_private.hook_session): not a tap, a
        typed value or any other event of a control inside a dialog already closed (the second tap
        of a double tap on "Tối", sent before the client heard of the close). Events of the dialog
        itself go through (a date picker's choice, its dismissal); snack bars and banners are left
        alone (the client closes them itself as their action is tapped)."""
        if is_page or control is None:
            return True
        node = control.parent
        while node is not None:
            if isinstance(node, ft.DialogControl) and not isinstance(node, (ft.SnackBar, ft.Banner)):
                if node.open:
                    return True
                log.debug("dropped %s for control %s: its dialog is closed", event_name or "patch", control_id)
                return False
            node = node.parent
        return True

    def _give_up(self, closing: list[ft.DialogControl]) -> None:
        log.info("render: %d closed dialog(s) not reported dismissed in %.0f s; redrawing all the same",
                 len(closing), DISMISS_GRACE)
        self._given_up.extend(closing)
        self._waiting = None
        if not self._closed:
            self.render()

    def live(self, callback: LiveCallback) -> None:
        """Call `callback(status, data_changed)` on each background sync change
        while the current screen is shown (cleared by the next render)."""
        self._live.append(callback)

    def changed(self) -> None:
        """A screen recorded something: sync it when the network allows."""
        self.device.changed()

    def draft(self, household_id: str) -> VisitDraft:
        return self.drafts.setdefault(household_id, VisitDraft())

    def snack(self, text: str, *, error: bool = False, undo: Callable[[], Any] | None = None) -> None:
        """A short message at the bottom of the screen. It belongs to the
        screen it is about (the one `go()` is opening, else the current one)
        and closes when the person moves to another."""
        if self.lock is not None and self.lock.locked:
            return  # a late answer of a hidden screen: it may name a person; nothing shows over the lock
        self.page.show_dialog(frame.snack_bar(text, error=error, about=self._going_to or self.page.route, undo=undo))

    async def blocking(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking call (network, sign-out) off the session's loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def sync_button(self) -> ft.Control:
        """The AppBar's sync status: its icon shape tells the state (done,
        waiting, syncing, failed), a badge the number of unsent events; a tap
        opens the sync screen."""
        button, holder = frame.sync_button(lambda e: self.go("/sync"))
        self._badges.append(button)
        self._paint_badge(button, self.device.status)
        return holder

    def _paint_badge(self, button: ft.IconButton, status: SyncStatus | None) -> None:
        # the unsent work as people count it (visits, households, people), as the screens say it
        pending = self.store.work().total if self.signed_in else 0
        frame.paint_sync_button(button, state=status.state if status is not None else "idle", pending=pending)

    # -- views ------------------------------------------------------------

    def _views_for(self, route: str) -> list[ft.View]:
        path = path_of(route)
        if self.needs_enrolment:
            return [self._enrol_view()]
        if path == ENROL_ROUTE:
            path = "/"
        tab_routes = [tab.route for tab in self.tabs]
        if path == "/":  # the landing screen: the role's first tab
            path = tab_routes[0]
        if path in tab_routes:
            return [self._tab_view(path)]
        stack = [self._tab_view(base_tab(path, tab_routes))]
        # detail routes whose own parents are details too are stacked on them
        for parent in parent_paths(path):
            view = self._match_detail(parent)
            if view is not None:
                stack.append(view)
        stack.append(self._detail_view(path))
        return stack

    def _enrol_view(self) -> ft.View:
        if self.enrol_screen is None:
            raise RuntimeError("no enrol screen: field_app.views.register(shell) plugs it in")
        return self.enrol_screen(self)

    def _match_detail(self, path: str) -> ft.View | None:
        found = self._details.match(path)
        if found is None:
            return None
        builder, params = found
        return builder(self, params)

    def _detail_view(self, path: str) -> ft.View:
        view = self._match_detail(path)
        if view is not None:
            return view
        # a tab route this role has no tab for (e.g. a leader's "/sync"):
        # the same screen, pushed with a Back arrow
        if path in self.screens:
            tab = tab_for(path)
            title = tab.label if tab else t("app.name")
            screen = self._build_screen(path)
            return self.pushed_view(
                path,
                title,
                screen.controls,
                scroll=screen.scroll,
                bottom=screen.bottom,
                fab=screen.fab,
                actions=screen.actions,
            )
        return self.not_found(path)

    def not_found(self, path: str) -> ft.View:
        return self.pushed_view(path, t("app.name"), [frame.message(ft.Icons.ERROR_OUTLINE,
                                                                    t("screen.not_found", route=path))])

    def _build_screen(self, route: str) -> Screen:
        built = self.screens[route](self)
        return built if isinstance(built, Screen) else Screen(list(built))

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
        """A view pushed over a tab: AppBar with Back arrow, no navigation bar.
        `bottom` stays pinned under the (scrolling) body."""
        appbar_actions = list(actions or [])
        if self.signed_in and route != "/sync":
            appbar_actions.append(self.sync_button())
        return frame.pushed_view(route, title, controls, actions=appbar_actions, scroll=scroll, bottom=bottom,
                                 fab=fab)

    def _tab_view(self, route: str) -> ft.View:
        tabs = self.tabs
        index = next(i for i, tab in enumerate(tabs) if tab.route == route)
        title = t("app.name") if route == "/" else tabs[index].label
        screen = self._build_screen(route)
        actions = list(screen.actions)
        if self.signed_in and route != "/sync":
            actions.append(self.sync_button())
        elif "/sync" not in [tb.route for tb in tabs]:
            actions.append(
                ft.IconButton(
                    ft.Icons.SYNC,
                    tooltip=t("nav.sync"),
                    on_click=lambda e: self.go("/sync"),
                )
            )
        self._wide = self.wide
        return frame.tab_view(route, title, screen, actions, tabs, index, wide=self._wide,
                              width=self.page.width or 390, on_nav_change=self._on_nav_change)

    # -- sync status, from the sync thread ----------------------------------

    def _status_from_thread(self, status: SyncStatus) -> None:
        """BackgroundSync's on_change (any thread): hop onto the session's loop.
        `page.run_task` is Flet 1.0's thread-safe way in
        (`asyncio.run_coroutine_threadsafe` on the session's loop)."""
        if self._closed:
            return
        if not flet_private.run_soon(self.page, self._apply_status, status):
            log.debug("sync status not delivered: the session is gone")

    async def _apply_status(self, status: SyncStatus) -> None:
        if self._closed:
            return
        data_changed = False
        if status.state == "idle" and status.report is not None and status.report is not self._last_report:
            self._last_report = status.report
            data_changed = bool(status.report.pulled or status.report.quarantined)
        if self.needs_enrolment:
            # signed out (or revoked and purged) from another session of this device
            if self.page.views and self.page.views[-1].route != ENROL_ROUTE:
                self.render()
            return
        if not self.signed_in:  # a forced role without an enrolment: nothing to show
            return
        for button in list(self._badges):
            self._paint_badge(button, status)
        for callback in list(self._live):
            try:
                callback(status, data_changed)
            except Exception:
                log.exception("screen failed to show the sync status")
        try:
            self.page.update()
        except Exception:
            log.debug("page update after sync failed", exc_info=True)

    # -- events -----------------------------------------------------------

    def _on_nav_change(self, e: frame.NavEvent) -> None:
        index = int(e.control.selected_index or 0)
        tabs = self.tabs
        if 0 <= index < len(tabs):
            self.go(tabs[index].route)

    def _on_route_change(self, e: ft.RouteChangeEvent) -> None:
        self.render()

    def _on_view_pop(self, e: ft.ViewPopEvent) -> None:
        if len(self.page.views) > 1:
            self.page.views.pop()
            self.go(self.page.views[-1].route or "/")

    def _on_resize(self, e: ft.PageResizeEvent) -> None:
        if self._wide is not None and self.wide != self._wide:
            self.render()

    def close(self) -> None:
        """The session ended: stop listening, then whatever build_app asked for."""
        if self._closed:
            return
        self._closed = True
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        self.device.unsubscribe(self._status_from_thread)
        for step in self.on_close:
            step()


def apply_locale(page: ft.Page, lang: str) -> None:
    """Flutter's own texts (date pickers, tooltips) in the same language."""
    locales = {"vi": ft.Locale("vi", "VN"), "en": ft.Locale("en", "US")}
    page.locale_configuration = ft.LocaleConfiguration(
        supported_locales=list(locales.values()), current_locale=locales[lang]
    )
