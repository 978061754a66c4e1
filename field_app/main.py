"""Gõ Cửa field app: the command line and the app shell.

    gocua-app [--web] [--host H] [--port P] [--data DIR] [--server URL] [--enrol CODE]

`build_app(page, ...)` turns a Flet page into the app (tests call it on the
harness's page); `main()` is the console entry point.

Routing — decision: Flet's *views* model. `page.views` is rebuilt from
`page.route` in `page.on_route_change`; Back is `page.on_view_pop`; code
navigates with `AppShell.go(route)` (= `page.navigate`). We do not use
`ft.Router`: in Flet 1.0 it is a declarative `@ft.component` (hooks, a
deferred update scheduler, `page.render_views`), and our screens are plain
control trees that read the local store and update in place. Views keep one
obvious flow — route → builder → controls — that the UI harness drives
without a browser, and still give the system Back button and browser history.

Screens plug in through `AppShell.screens` (tab bodies, keyed by route) and
`AppShell.register_detail` (pushed views such as "/households/:id"); a
detail route under another one ("/households/:id/people/:pid") is stacked on
its parent, so Back walks up. The volunteer screens register themselves in
`field_app.views.register`.

Data: one `field_app.app_state.Device` per data dir (store + background
sync), shared by every session of the process. Until the device is enrolled
the shell shows only the enrol screen. Sync status reaches the screens from
the sync thread through `page.run_task` (see `AppShell._status_from_thread`).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import flet as ft

from field_app import i18n, theme
from field_app.app_state import Device, VisitDraft, acquire_device, release_device
from field_app.i18n import t
from field_app.net.sync import SyncStatus
from field_app.screen import Screen

__all__ = [
    "ASSETS_DIR",
    "AppShell",
    "ROLES",
    "Screen",
    "TABS",
    "Tab",
    "WIDE_BREAKPOINT",
    "build_app",
    "main",
    "serve_web",
    "web_asgi_app",
    "parse_args",
]

log = logging.getLogger(__name__)

#: The repo's assets/ (fonts, translations), served as the Flet assets dir.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

ROLES = ("volunteer", "leader", "officer", "admin")

#: At or above this page width the shell shows a side NavigationRail
#: (laptops at the commune station); below it, a bottom NavigationBar.
WIDE_BREAKPOINT = 600

ENROL_ROUTE = "/enrol"


@dataclass(frozen=True)
class Tab:
    """A top-level destination in the navigation bar."""

    route: str
    label_key: str
    icon: Any
    selected_icon: Any
    roles: frozenset[str]  # roles that see it as a tab (others may still open it)

    @property
    def label(self) -> str:
        return t(self.label_key)


_ALL = frozenset(ROLES)

#: Material 3 wants 3-5 tabs; each role sees at most five. A role's first tab is
#: where it lands ("/" opens it): officers and admins watch the campaign rather
#: than record visits, so the dashboard comes first for them and they have no Home.
TABS: tuple[Tab, ...] = (
    Tab(
        "/totals",
        "nav.totals",
        ft.Icons.BAR_CHART_OUTLINED,
        ft.Icons.BAR_CHART,
        frozenset({"officer", "admin"}),
    ),
    Tab("/", "nav.home", ft.Icons.HOME_OUTLINED, ft.Icons.HOME, frozenset({"volunteer", "leader"})),
    Tab(
        "/households",
        "nav.households",
        ft.Icons.HOLIDAY_VILLAGE_OUTLINED,
        ft.Icons.HOLIDAY_VILLAGE,
        frozenset({"volunteer", "leader", "officer"}),
    ),
    Tab("/sync", "nav.sync", ft.Icons.SYNC, ft.Icons.SYNC, frozenset({"volunteer"})),
    Tab(
        "/review",
        "nav.review",
        ft.Icons.FACT_CHECK_OUTLINED,
        ft.Icons.FACT_CHECK,
        frozenset({"leader"}),
    ),
    Tab(
        "/totals",
        "nav.totals",
        ft.Icons.BAR_CHART_OUTLINED,
        ft.Icons.BAR_CHART,
        frozenset({"leader"}),
    ),
    Tab("/settings", "nav.settings", ft.Icons.SETTINGS_OUTLINED, ft.Icons.SETTINGS, _ALL),
)


ScreenBuilder = Callable[["AppShell"], Union[list[ft.Control], Screen]]
"""Builds the body of a tab: `builder(shell) -> [controls] | Screen`."""

DetailBuilder = Callable[["AppShell", dict[str, str]], ft.View]
"""Builds a pushed view: `builder(shell, params) -> ft.View` (with an AppBar,
so the user gets a Back arrow). `params` holds the route's `:name` segments."""

LiveCallback = Callable[[SyncStatus, bool], None]
"""`callback(status, data_changed)`: a screen's reaction to the background
sync, run on the session's loop. `data_changed`: a sync just brought events."""


def _compile_route(pattern: str) -> re.Pattern[str]:
    parts = []
    for seg in pattern.strip("/").split("/"):
        parts.append(f"(?P<{seg[1:]}>[^/]+)" if seg.startswith(":") else re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "/?$")


class AppShell:
    """The app around the screens: title, theme, language, navigation, data.

    One per Flet session (page). Screens get it as their first argument and
    use `shell.page`, `shell.go(route)`, `shell.store`, `shell.device`,
    `shell.role`, `shell.changed()` after recording, `shell.snack(text)`,
    `shell.live(callback)` for sync updates, and `shell.render()` after
    changing something shell-wide.
    """

    def __init__(
        self,
        page: ft.Page,
        *,
        data_dir: Optional[Path] = None,
        server_url: Optional[str] = None,
        role: Optional[str] = None,
        device: Optional[Device] = None,
    ):
        if role is not None and role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.page = page
        self.data_dir = data_dir
        self.server_url = server_url
        self.device = device
        #: an explicit role (tests, previews) shows that role's tabs even
        #: before enrolment; otherwise the enrolled device's role decides
        self.forced_role = role
        self.screens: dict[str, ScreenBuilder] = {
            "/": _home_placeholder,
            "/households": _coming_soon,
            "/sync": _coming_soon,
            "/review": _coming_soon,
            "/totals": _coming_soon,
            "/settings": _settings_placeholder,
        }
        self.enrol_screen: Optional[Callable[[AppShell], ft.View]] = None
        self._details: list[tuple[re.Pattern[str], DetailBuilder]] = []
        self._wide: Optional[bool] = None
        #: per household, the help chosen before an outcome is tapped
        self.drafts: dict[str, VisitDraft] = {}
        #: screen state that survives a re-render (hamlet, search, filter …)
        self.ui: dict[str, Any] = {}
        self._live: list[LiveCallback] = []
        self._badges: list[ft.IconButton] = []
        self._going_to: Optional[str] = None  # where go() is taking us (snacks belong there)
        self._last_report: Any = None
        self._closed = False
        self._showing_app = False  # the last render showed the app, not the enrol screen
        #: the app lock (field_app/views/lock.py `LockGuard`), set by build_app
        self.lock: Any = None

    # -- public API -------------------------------------------------------

    @property
    def store(self) -> Any:
        """The device's `field_app.store.Store` (None without a data dir)."""
        return self.device.store if self.device is not None else None

    @property
    def role(self) -> str:
        if self.forced_role is not None:
            return self.forced_role
        role = self.store.role if self.store is not None else None
        return role if role in ROLES else "volunteer"

    @role.setter
    def role(self, role: str) -> None:
        self.forced_role = role

    @property
    def signed_in(self) -> bool:
        return self.store is not None and self.store.signed_in

    @property
    def needs_enrolment(self) -> bool:
        return self.forced_role is None and not self.signed_in

    @property
    def tabs(self) -> list[Tab]:
        """The navigation tabs this role sees, in order."""
        return [tab for tab in TABS if self.role in tab.roles]

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
        self._details.insert(0, (_compile_route(pattern), builder))

    def set_language(self, lang: str) -> None:
        """Switch this session's language (remembered on the device) and redraw."""
        i18n.set_language(lang, self.page)
        if self.store is not None:
            self.store.set_setting("language", lang)
        self.page.title = t("app.name")
        _apply_locale(self.page, lang)
        self.render()

    def set_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.forced_role = role
        self.render()

    def render(self) -> None:
        """Rebuild `page.views` for the current route and send the update."""
        if self.lock is not None and self.lock.intercept():
            return  # the lock screen (or the required PIN setup) covers the app instead
        self._live = []
        self._badges = []
        route = self.page.route or "/"
        if self._going_to == route:
            self._going_to = None
        # the app gave way to the enrol screen (a purge, a sign-out in another tab): its dialogs
        # go with it, or a dialog about a household could stay over the enrol screen
        leaving_app = self.needs_enrolment and self._showing_app
        self._showing_app = not self.needs_enrolment
        for dialog in list(self.page._dialogs.controls):
            # a message about another screen goes when that screen does
            # (Flet removes it from the page when the client reports it dismissed)
            if not dialog.open:
                continue
            if leaving_app or (isinstance(dialog, ft.SnackBar) and dialog.data not in (route, self._going_to)):
                dialog.open = False
        self.page.views[:] = self._views_for(route)
        self.page.update()

    def live(self, callback: LiveCallback) -> None:
        """Call `callback(status, data_changed)` on each background sync change
        while the current screen is shown (cleared by the next render)."""
        self._live.append(callback)

    def changed(self) -> None:
        """A screen recorded something: sync it when the network allows."""
        if self.device is not None:
            self.device.changed()

    def draft(self, household_id: str) -> VisitDraft:
        return self.drafts.setdefault(household_id, VisitDraft())

    def snack(self, text: str, *, error: bool = False) -> None:
        """A short message at the bottom of the screen. It belongs to the
        screen it is about (the one `go()` is opening, else the current one)
        and closes when the person moves to another."""
        if self.lock is not None and self.lock.locked:
            return  # a late answer of a hidden screen: it may name a person; nothing shows over the lock
        bar = ft.SnackBar(
            ft.Row(
                [
                    ft.Icon(
                        ft.Icons.REPORT_PROBLEM if error else ft.Icons.CHECK_CIRCLE,
                        color=theme.COLORS.on_primary,
                    ),
                    ft.Text(text, color=theme.COLORS.on_primary, size=15, expand=True),
                ],
                spacing=10,
            ),
            bgcolor=theme.STATUSES["problem"].strong if error else theme.COLORS.on_surface,
            behavior=ft.SnackBarBehavior.FLOATING,
            duration=ft.Duration(milliseconds=3000),
            # with a screen reader on, Flutter keeps snack bars until closed
            show_close_icon=True,
            close_icon_color=theme.COLORS.on_primary,
            data=self._going_to or self.page.route,
        )
        self.page.show_dialog(bar)

    async def blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call (network, sign-out) off the session's loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def sync_button(self) -> ft.Control:
        """The AppBar's sync status: its icon shape tells the state (done,
        waiting, syncing, failed), a badge the number of unsent events; a tap
        opens the sync screen."""
        button = ft.IconButton(
            ft.Icons.SYNC,
            tooltip=t("nav.sync"),
            key="appbar.sync",
            on_click=lambda e: self.go("/sync"),
            width=theme.TOUCH_TARGET,
            height=theme.TOUCH_TARGET,
        )
        self._badges.append(button)
        self._paint_badge(button, self.device.status if self.device is not None else None)
        # room for the badge, which sits over the icon's top-right corner
        return ft.Container(button, padding=ft.Padding.only(right=10, top=4))

    def _paint_badge(self, button: ft.IconButton, status: Optional[SyncStatus]) -> None:
        pending = self.store.pending_count() if self.signed_in else 0
        state = status.state if status is not None else "idle"
        if state == "syncing":
            button.icon = ft.Icons.SYNC
        elif state == "error":
            button.icon = ft.Icons.CLOUD_OFF
        elif pending:
            button.icon = ft.Icons.CLOUD_UPLOAD_OUTLINED
        else:
            button.icon = ft.Icons.CLOUD_DONE_OUTLINED
        button.badge = (
            ft.Badge(
                label=str(pending) if pending < 1000 else "999+",
                bgcolor=theme.STATUSES["revisit"].strong,
                text_color=theme.COLORS.on_primary,
            )
            if pending
            else None
        )

    # -- views ------------------------------------------------------------

    def _views_for(self, route: str) -> list[ft.View]:
        path = route.split("?", 1)[0] or "/"
        if path != "/":
            path = path.rstrip("/")
        if self.needs_enrolment:
            return [self._enrol_view()]
        if path == ENROL_ROUTE:
            path = "/"
        tabs = self.tabs
        tab_routes = [tab.route for tab in tabs]
        if path == "/":  # the landing screen: the role's first tab
            path = tab_routes[0]
        if path in tab_routes:
            return [self._tab_view(path)]
        # the tab this route lives under (its first path segment), else the landing tab
        base = "/" + path.strip("/").split("/", 1)[0]
        base = base if base in tab_routes else tab_routes[0]
        stack = [self._tab_view(base)]
        # detail routes whose own parents are details too are stacked on them
        segments = path.strip("/").split("/")
        for n in range(2, len(segments)):
            parent = "/" + "/".join(segments[:n])
            view = self._match_detail(parent)
            if view is not None:
                stack.append(view)
        top = self._detail_view(path)
        if top is not None:
            stack.append(top)
        return stack

    def _enrol_view(self) -> ft.View:
        if self.enrol_screen is not None:
            return self.enrol_screen(self)
        return ft.View(route=ENROL_ROUTE, controls=[_message(ft.Icons.LOCK, t("screen.coming_soon"))])

    def _match_detail(self, path: str) -> Optional[ft.View]:
        for pattern, builder in self._details:
            m = pattern.match(path)
            if m:
                return builder(self, m.groupdict())
        return None

    def _detail_view(self, path: str) -> Optional[ft.View]:
        view = self._match_detail(path)
        if view is not None:
            return view
        # a tab route this role has no tab for (e.g. a leader's "/sync"):
        # the same screen, pushed with a Back arrow
        if path in self.screens:
            tab = next((tb for tb in TABS if tb.route == path), None)
            title = tab.label if tab else t("app.name")
            built = self.screens[path](self)
            screen = built if isinstance(built, Screen) else Screen(list(built))
            return self.pushed_view(
                path,
                title,
                screen.controls,
                scroll=screen.scroll,
                bottom=screen.bottom,
                fab=screen.fab,
                actions=screen.actions,
            )
        return self.pushed_view(
            path,
            t("app.name"),
            [_message(ft.Icons.ERROR_OUTLINE, t("screen.not_found", route=path))],
        )

    def pushed_view(
        self,
        route: str,
        title: str,
        controls: list[ft.Control],
        *,
        scroll: bool = True,
        bottom: Optional[ft.Control] = None,
        fab: Optional[ft.FloatingActionButton] = None,
        actions: Optional[list[ft.Control]] = None,
    ) -> ft.View:
        """A view pushed over a tab: AppBar with Back arrow, no navigation bar.
        `bottom` stays pinned under the (scrolling) body."""
        appbar_actions = list(actions or [])
        if self.signed_in and route != "/sync":
            appbar_actions.append(self.sync_button())
        body: list[ft.Control] = controls
        padding = ft.Padding.all(16)
        if bottom is not None:
            body = [
                ft.Column(
                    controls,
                    expand=True,
                    scroll=ft.ScrollMode.AUTO if scroll else None,
                    spacing=12,
                ),
                bottom,
            ]
            scroll = False
        return ft.View(
            route=route,
            appbar=ft.AppBar(
                title=ft.Text(title, max_lines=1, overflow=ft.TextOverflow.ELLIPSIS),
                actions=appbar_actions or None,
            ),
            controls=body,
            scroll=ft.ScrollMode.AUTO if scroll else None,
            floating_action_button=fab,
            padding=padding,
            spacing=12,
        )

    def _tab_view(self, route: str) -> ft.View:
        tabs = self.tabs
        index = next(i for i, tab in enumerate(tabs) if tab.route == route)
        tab = tabs[index]
        title = t("app.name") if route == "/" else tab.label
        built = self.screens.get(route, _coming_soon)(self)
        screen = built if isinstance(built, Screen) else Screen(list(built))
        body = screen.controls
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
        appbar = ft.AppBar(title=ft.Text(title), actions=actions or None)
        if screen.bottom is not None:
            body = [
                ft.Column(
                    body,
                    expand=True,
                    spacing=16,
                    scroll=ft.ScrollMode.AUTO if screen.scroll else None,
                ),
                screen.bottom,
            ]
        scrolls = screen.scroll and screen.bottom is None
        self._wide = self.wide
        if self._wide:
            rail = ft.NavigationRail(
                selected_index=index,
                label_type=ft.NavigationRailLabelType.ALL,
                min_width=88,
                destinations=[
                    ft.NavigationRailDestination(
                        icon=tb.icon, selected_icon=tb.selected_icon, label=tb.label
                    )
                    for tb in tabs
                ],
                on_change=self._on_nav_change,
            )
            content = ft.Column(
                body,
                expand=True,
                scroll=ft.ScrollMode.AUTO if scrolls else None,
                spacing=16,
            )
            return ft.View(
                route=route,
                appbar=appbar,
                padding=ft.Padding.all(0),
                floating_action_button=screen.fab,
                controls=[
                    ft.Row(
                        [
                            rail,
                            ft.VerticalDivider(width=1),
                            ft.Container(content, expand=True, padding=ft.Padding.all(24)),
                        ],
                        expand=True,
                        spacing=0,
                        vertical_alignment=ft.CrossAxisAlignment.STRETCH,
                    )
                ],
            )
        narrow = (self.page.width or 390) < 360
        nav = ft.NavigationBar(
            selected_index=index,
            # below 360 px five labels no longer fit: show only the current one
            label_behavior=(
                ft.NavigationBarLabelBehavior.ONLY_SHOW_SELECTED
                if narrow and len(tabs) > 4
                else ft.NavigationBarLabelBehavior.ALWAYS_SHOW
            ),
            destinations=[
                ft.NavigationBarDestination(
                    icon=tb.icon, selected_icon=tb.selected_icon, label=tb.label
                )
                for tb in tabs
            ],
            on_change=self._on_nav_change,
        )
        return ft.View(
            route=route,
            appbar=appbar,
            navigation_bar=nav,
            floating_action_button=screen.fab,
            controls=body,
            scroll=ft.ScrollMode.AUTO if scrolls else None,
            spacing=16,
            padding=ft.Padding.all(16),
        )

    # -- sync status, from the sync thread ----------------------------------

    def _status_from_thread(self, status: SyncStatus) -> None:
        """BackgroundSync's on_change (any thread): hop onto the session's loop.
        `page.run_task` is Flet 1.0's thread-safe way in
        (`asyncio.run_coroutine_threadsafe` on the session's loop)."""
        if self._closed:
            return
        try:
            self.page.run_task(self._apply_status, status)
        except Exception:  # the session is gone: nothing to show it on
            log.debug("sync status not delivered", exc_info=True)

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

    def _on_nav_change(self, e: ft.ControlEvent) -> None:
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

    def _on_resize(self, e: Any) -> None:
        if self._wide is not None and self.wide != self._wide:
            self.render()

    def close(self) -> None:
        """The session ended: stop listening; the last session releases the device."""
        if self._closed:
            return
        self._closed = True
        if self.device is not None:
            self.device.unsubscribe(self._status_from_thread)
            if getattr(self, "_owns_device", False):
                release_device(self.device)
        tmp = getattr(self, "_tmp_dir", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def build_app(
    page: ft.Page,
    *,
    data_dir: Union[str, Path, None] = None,
    server_url: Optional[str] = None,
    language: Optional[str] = None,
    role: Optional[str] = None,
    device: Optional[Device] = None,
    own_device: bool = False,
    key: Any = None,
    http: Any = None,
    sync_interval: float = 60.0,
    autosync: bool = True,
    lock_clock: Any = None,
) -> AppShell:
    """Make `page` the Gõ Cửa app: title, bundled font, theme, language,
    navigation, the device's data, and the view for the current route.
    Returns the shell.

    data_dir: the device's data dir (one `Device` per dir and process); None
        makes a throwaway one (tests, previews), deleted with the session.
    server_url: pre-fills the enrol screen (a scanned link overrides it).
    role: force a role's tabs even before enrolment (tests, previews); by
        default the enrolled device's role, and the enrol screen until then.
    device: use this Device instead of acquiring the process's one for
        data_dir; `own_device=True` releases it when the session ends (main()
        acquires it off the event loop, because a phone's keystore answers
        through the session).
    key: the store's data key or `field_app.keys` provider; default: the key
        file next to the database (desktop, web mode, tests).
    http: an `httpx.Client` for enrolment and sync (tests hand in FastAPI's
        TestClient); sync_interval, autosync: BackgroundSync's settings.
    lock_clock: the app lock's clock (`field_app.lock.ManualClock` in tests).
    """
    tmp_dir = None
    owns = device is None or own_device
    if device is None:
        if data_dir is None:
            tmp_dir = tempfile.mkdtemp(prefix="gocua-session-")
            data_dir = tmp_dir
        device = acquire_device(
            Path(data_dir), key=key, http=http, sync_interval=sync_interval, autosync=autosync
        )
    shell = AppShell(
        page,
        data_dir=Path(data_dir) if data_dir is not None else device.data_dir,
        server_url=server_url,
        role=role,
        device=device,
    )
    shell._owns_device = owns  # type: ignore[attr-defined]
    shell._tmp_dir = tmp_dir  # type: ignore[attr-defined]
    if language is None:
        remembered = device.store.setting("language")
        if remembered in i18n.LANGUAGES:
            language = remembered
    if language is not None:
        i18n.set_language(language, page)
    elif i18n.get_language(page) not in i18n.LANGUAGES:
        i18n.set_language(i18n.DEFAULT_LANGUAGE, page)
    lang = i18n.get_language(page)
    page.title = t("app.name", lang=lang)
    theme.apply(page)
    _apply_locale(page, lang)
    page.on_route_change = shell._on_route_change
    page.on_view_pop = shell._on_view_pop
    page.on_resize = shell._on_resize
    page.on_close = lambda e: shell.close()
    page.data = shell  # reachable from any control: e.control.page.data

    from field_app import views

    views.register(shell)
    from field_app.views.lock import install as install_lock  # the PIN lock (SECURITY.md "App lock")

    install_lock(shell, clock=lock_clock)
    device.subscribe(shell._status_from_thread)
    shell.render()
    return shell


def _apply_locale(page: ft.Page, lang: str) -> None:
    """Flutter's own texts (date pickers, tooltips) in the same language."""
    locales = {"vi": ft.Locale("vi", "VN"), "en": ft.Locale("en", "US")}
    page.locale_configuration = ft.LocaleConfiguration(
        supported_locales=list(locales.values()), current_locale=locales[lang]
    )


# ---------------------------------------------------------------------------
# Placeholder screens (for routes no view module has claimed yet)
# ---------------------------------------------------------------------------


def _message(icon: Any, text: str) -> ft.Control:
    return ft.Row(
        [
            ft.Icon(icon, color=theme.COLORS.on_surface_variant),
            ft.Text(text, theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True),
        ],
        vertical_alignment=ft.CrossAxisAlignment.START,
    )


def _coming_soon(shell: AppShell) -> list[ft.Control]:
    return [_message(ft.Icons.CONSTRUCTION, t("screen.coming_soon"))]


def _home_placeholder(shell: AppShell) -> list[ft.Control]:
    return [
        ft.Text(t("home.greeting"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL),
        ft.Text(t("app.tagline"), theme_style=ft.TextThemeStyle.BODY_LARGE),
    ]


def _settings_placeholder(shell: AppShell) -> list[ft.Control]:
    return _coming_soon(shell)



# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="gocua-app",
        description="Gõ Cửa field app (desktop window, or web mode for leaders and officers).",
    )
    p.add_argument("--web", action="store_true", help="serve the app to browsers (no CDN)")
    p.add_argument("--host", default="127.0.0.1", help="web mode: address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8550, help="web mode: port (default 8550)")
    p.add_argument("--data", metavar="DIR", help="local data directory (default: per-user app data)")
    p.add_argument(
        "--server",
        metavar="URL",
        help="sync server base URL, e.g. http://192.168.1.10:8000 (pre-fills the enrol screen)",
    )
    p.add_argument(
        "--enrol",
        metavar="CODE",
        help="enrol the data dir with this one-time code at --server before starting, unless "
        "it is already enrolled and its server still knows it (the demo uses this)",
    )
    return p.parse_args(argv)


def enrol_at_start(data_dir: Path, server_url: Optional[str], code: str, *, wait: float = 30.0) -> str:
    """`--enrol CODE`: make the data dir an enrolled device before serving.

    Returns "kept" when it is already enrolled and the server still knows it,
    "enrolled" after spending the code. An identity the server no longer knows
    (a new demo database) is purged first — its unsent events could never be
    delivered anyway — and the count of any lost events is printed. The server
    may still be starting: an unreachable one is retried for `wait` seconds."""
    import time

    from field_app.app_state import EnrolFailed, default_key, enrol
    from field_app.net.errors import NotEnrolled, Purged, SyncError
    from field_app.net.sync import SyncClient
    from field_app.signout import sign_out
    from field_app.store import Store

    if not server_url:
        raise SystemExit("gocua-app: --enrol needs --server URL")
    store = Store(data_dir, key=default_key(data_dir))  # --enrol is for desktop and web mode
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                if store.signed_in:
                    client = SyncClient(store, timeout=10)
                    try:
                        client.check_receipt()
                        return "kept"
                    except NotEnrolled:
                        lost = store.pending_count()
                        if lost:
                            print(f"gocua-app: the server no longer knows this device; "
                                  f"{lost} unsent events are dropped", file=sys.stderr)
                        sign_out(store, None, force=True)  # nothing can be sent: the server refuses it
                    except Purged as exc:  # the campaign's retention is over: the client already purged
                        print(f"gocua-app: {exc}", file=sys.stderr)
                    finally:
                        client.close()
                enrol(store, server_url, code)
                return "enrolled"
            except (EnrolFailed, SyncError) as exc:
                offline = getattr(exc, "kind", None) == "offline" or getattr(exc, "retryable", False)
                if not offline or time.monotonic() > deadline:
                    raise SystemExit(f"gocua-app: enrolment failed: {exc}") from exc
                time.sleep(0.5)
    finally:
        store.close()


def _desktop_client_available() -> bool:
    from flet.utils import is_embedded, is_linux_server

    if is_embedded():  # a `flet build` app: the client is the app itself
        return True
    return find_spec("flet_desktop") is not None and not is_linux_server()


#: Sent with every web-mode response. The browser may load scripts, fonts,
#: images and data only from this server (plus blob:/data: URLs the Flutter
#: engine makes itself) and talk only to its websocket: no CDN, no third
#: party, whatever a bundled Flutter plugin tries. (flet-web 1.0.5 has one
#: that does: rive_native's loader fetches a script from cdn.jsdelivr.net.)
WEB_CSP = (
    "default-src 'self' blob: data:; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss: blob: data:; "
    "frame-ancestors 'none'"
)


def web_asgi_app(app: Callable[[ft.Page], Any]) -> Any:
    """The web-mode ASGI app: the flet-web client (bundled in the flet-web
    package, CanvasKit and fallback fonts included: `no_cdn`), our assets,
    and the `WEB_CSP` header on every HTTP response."""
    # no_cdn makes the client load CanvasKit and fallback fonts from this
    # server; without it the client waits forever on its splash screen when
    # there is no internet. The env var covers code paths that read it.
    os.environ["FLET_WEB_NO_CDN"] = "1"
    inner = ft.run(app, export_asgi_app=True, assets_dir=str(ASSETS_DIR), no_cdn=True)
    csp = WEB_CSP.encode()

    async def with_csp(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return

        async def send_with_csp(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", csp))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await inner(scope, receive, send_with_csp)

    return with_csp


def serve_web(app: Callable[[ft.Page], Any], *, host: str, port: int) -> None:
    """Serve the app to browsers on host:port until interrupted."""
    import uvicorn  # comes with flet-web

    asgi = web_asgi_app(app)
    print(f"Gõ Cửa web: http://{host}:{port}/", flush=True)
    uvicorn.run(asgi, host=host, port=port, log_level="warning", ws="auto")


def _show_locked(page: ft.Page, exc: Exception) -> None:
    """The data cannot be opened (keystore error, wrong key): say so; never guess."""
    lang = i18n.get_language(page)
    theme.apply(page)
    page.title = t("app.name", lang=lang)
    page.add(
        ft.SafeArea(
            ft.Column(
                [
                    ft.Icon(ft.Icons.LOCK, size=48, color=theme.STATUSES["problem"].strong),
                    ft.Text(t("app.locked", lang=lang), theme_style=ft.TextThemeStyle.TITLE_LARGE),
                    ft.Text(str(exc), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
                ],
                spacing=12,
            ),
            minimum_padding=16,
        )
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point `gocua-app`."""
    from field_app.datadir import data_dir as resolve_data_dir

    args = parse_args(argv)
    # FLET_APP_STORAGE_DATA (a phone's app-private storage) wins, then --data
    data_dir = resolve_data_dir(args.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.enrol:
        print(f"gocua-app: {enrol_at_start(data_dir, args.server, args.enrol)} ({data_dir})", flush=True)

    async def app(page: ft.Page) -> None:
        # The store opens in a worker thread: on a phone its key comes from the
        # platform keystore, which answers through this session's event loop.
        from field_app import keys
        from field_app.store import StoreError

        try:
            device = await asyncio.to_thread(
                acquire_device, data_dir, key=keys.provider_for(page, data_dir)
            )
        except (StoreError, keys.KeyUnavailable) as exc:
            _show_locked(page, exc)
            return
        build_app(page, device=device, own_device=True, server_url=args.server)

    web = args.web
    if not web and not _desktop_client_available():
        print(
            "gocua-app: no desktop client here (flet-desktop is not installed, or "
            "there is no display); starting web mode instead.",
            file=sys.stderr,
        )
        web = True

    if web:
        serve_web(app, host=args.host, port=args.port)
    else:
        ft.run(app, assets_dir=str(ASSETS_DIR), no_cdn=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
