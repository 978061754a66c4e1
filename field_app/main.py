"""Gõ Cửa field app: the command line and the app shell.

    gocua-app [--web] [--host H] [--port P] [--data DIR] [--server URL]

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
`AppShell.register_detail` (pushed views such as "/households/:id").
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import flet as ft

from field_app import i18n, theme
from field_app.i18n import t

__all__ = [
    "ASSETS_DIR",
    "AppShell",
    "ROLES",
    "TABS",
    "Tab",
    "WIDE_BREAKPOINT",
    "build_app",
    "default_data_dir",
    "main",
    "serve_web",
    "web_asgi_app",
    "parse_args",
]

#: The repo's assets/ (fonts, translations), served as the Flet assets dir.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

ROLES = ("volunteer", "leader", "officer", "admin")

#: At or above this page width the shell shows a side NavigationRail
#: (laptops at the commune station); below it, a bottom NavigationBar.
WIDE_BREAKPOINT = 600


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

#: Material 3 wants 3-5 tabs; each role sees at most five.
TABS: tuple[Tab, ...] = (
    Tab("/", "nav.home", ft.Icons.HOME_OUTLINED, ft.Icons.HOME, _ALL),
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
        frozenset({"leader", "officer", "admin"}),
    ),
    Tab("/settings", "nav.settings", ft.Icons.SETTINGS_OUTLINED, ft.Icons.SETTINGS, _ALL),
)

ScreenBuilder = Callable[["AppShell"], list[ft.Control]]
"""Builds the body of a tab: `builder(shell) -> [controls]`."""

DetailBuilder = Callable[["AppShell", dict[str, str]], ft.View]
"""Builds a pushed view: `builder(shell, params) -> ft.View` (with an AppBar,
so the user gets a Back arrow). `params` holds the route's `:name` segments."""


def _compile_route(pattern: str) -> re.Pattern[str]:
    parts = []
    for seg in pattern.strip("/").split("/"):
        parts.append(f"(?P<{seg[1:]}>[^/]+)" if seg.startswith(":") else re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "/?$")


class AppShell:
    """The app around the screens: title, theme, language, navigation.

    One per Flet session (page). Screens get it as their first argument and
    use `shell.page`, `shell.go(route)`, `shell.data_dir`, `shell.server_url`,
    `shell.role`, and `shell.render()` after changing something shell-wide.
    """

    def __init__(
        self,
        page: ft.Page,
        *,
        data_dir: Optional[Path] = None,
        server_url: Optional[str] = None,
        role: str = "volunteer",
    ):
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.page = page
        self.data_dir = data_dir
        self.server_url = server_url
        self.role = role
        self.screens: dict[str, ScreenBuilder] = {
            "/": _home_placeholder,
            "/households": _coming_soon,
            "/sync": _coming_soon,
            "/review": _coming_soon,
            "/totals": _totals_placeholder,
            "/settings": _settings_placeholder,
        }
        self._details: list[tuple[re.Pattern[str], DetailBuilder]] = []
        self._wide: Optional[bool] = None

    # -- public API -------------------------------------------------------

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
        if route == self.page.route:
            self.render()
        else:
            self.page.navigate(route)

    def register_detail(self, pattern: str, builder: DetailBuilder) -> None:
        """Route a pattern like "/households/:id" to a pushed view builder."""
        self._details.append((_compile_route(pattern), builder))

    def set_language(self, lang: str) -> None:
        """Switch this session's language and redraw everything."""
        i18n.set_language(lang, self.page)
        self.page.title = t("app.name")
        _apply_locale(self.page, lang)
        self.render()

    def set_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.role = role
        self.render()

    def render(self) -> None:
        """Rebuild `page.views` for the current route and send the update."""
        self.page.views[:] = self._views_for(self.page.route or "/")
        self.page.update()

    # -- views ------------------------------------------------------------

    def _views_for(self, route: str) -> list[ft.View]:
        path = route.split("?", 1)[0] or "/"
        if path != "/":
            path = path.rstrip("/")
        tabs = self.tabs
        tab_routes = [tab.route for tab in tabs]
        if path in tab_routes:
            return [self._tab_view(path)]
        # the tab this route lives under (its first path segment), else home
        base = "/" + path.strip("/").split("/", 1)[0]
        base = base if base in tab_routes else "/"
        stack = [self._tab_view(base)]
        top = self._detail_view(path)
        if top is not None:
            stack.append(top)
        return stack

    def _detail_view(self, path: str) -> Optional[ft.View]:
        for pattern, builder in self._details:
            m = pattern.match(path)
            if m:
                return builder(self, m.groupdict())
        # a tab route this role has no tab for (e.g. a leader's "/sync"):
        # the same screen, pushed with a Back arrow
        if path in self.screens:
            tab = next((tb for tb in TABS if tb.route == path), None)
            title = tab.label if tab else t("app.name")
            return self.pushed_view(path, title, self.screens[path](self))
        return self.pushed_view(
            path,
            t("app.name"),
            [_message(ft.Icons.ERROR_OUTLINE, t("screen.not_found", route=path))],
        )

    def pushed_view(self, route: str, title: str, controls: list[ft.Control]) -> ft.View:
        """A view pushed over a tab: AppBar with Back arrow, no navigation bar."""
        return ft.View(
            route=route,
            appbar=ft.AppBar(title=ft.Text(title)),
            controls=controls,
            scroll=ft.ScrollMode.AUTO,
            padding=ft.Padding.all(16),
        )

    def _tab_view(self, route: str) -> ft.View:
        tabs = self.tabs
        index = next(i for i, tab in enumerate(tabs) if tab.route == route)
        tab = tabs[index]
        title = t("app.name") if route == "/" else tab.label
        body = self.screens.get(route, _coming_soon)(self)
        actions = []
        if "/sync" not in [tb.route for tb in tabs]:
            actions.append(
                ft.IconButton(
                    ft.Icons.SYNC,
                    tooltip=t("nav.sync"),
                    on_click=lambda e: self.go("/sync"),
                )
            )
        appbar = ft.AppBar(title=ft.Text(title), actions=actions or None)
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
            content = ft.Column(body, expand=True, scroll=ft.ScrollMode.AUTO, spacing=16)
            return ft.View(
                route=route,
                appbar=appbar,
                padding=ft.Padding.all(0),
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
            controls=body,
            scroll=ft.ScrollMode.AUTO,
            spacing=16,
            padding=ft.Padding.all(16),
        )

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


def build_app(
    page: ft.Page,
    *,
    data_dir: Union[str, Path, None] = None,
    server_url: Optional[str] = None,
    language: Optional[str] = None,
    role: str = "volunteer",
) -> AppShell:
    """Make `page` the Gõ Cửa app: title, bundled font, theme, language,
    navigation, and the view for the current route. Returns the shell."""
    shell = AppShell(
        page,
        data_dir=Path(data_dir) if data_dir is not None else None,
        server_url=server_url,
        role=role,
    )
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
    page.data = shell  # reachable from any control: e.control.page.data
    shell.render()
    return shell


def _apply_locale(page: ft.Page, lang: str) -> None:
    """Flutter's own texts (date pickers, tooltips) in the same language."""
    locales = {"vi": ft.Locale("vi", "VN"), "en": ft.Locale("en", "US")}
    page.locale_configuration = ft.LocaleConfiguration(
        supported_locales=list(locales.values()), current_locale=locales[lang]
    )


# ---------------------------------------------------------------------------
# Placeholder screens (replaced by field_app/views/* as they land)
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
        ft.Row(
            [theme.status_chip(key) for key in theme.STATUSES],
            wrap=True,
            spacing=8,
            run_spacing=8,
        ),
        ft.Container(
            content=ft.Column(
                [
                    _message(ft.Icons.LOCK_OUTLINE, t("privacy.never_otp")),
                    _message(ft.Icons.VERIFIED_USER_OUTLINED, t("privacy.fake_apps")),
                ],
                spacing=12,
            ),
            bgcolor=theme.COLORS.surface_container,
            border_radius=ft.BorderRadius.all(theme.RADIUS),
            padding=ft.Padding.all(16),
        ),
        _message(ft.Icons.CONSTRUCTION, t("screen.coming_soon")),
    ]


def _totals_placeholder(shell: AppShell) -> list[ft.Control]:
    return [
        _message(ft.Icons.INFO_OUTLINE, t("totals.recorded_by_team")),
        *_coming_soon(shell),
    ]


def _settings_placeholder(shell: AppShell) -> list[ft.Control]:
    def on_language(e: ft.ControlEvent) -> None:
        shell.set_language(e.control.value)

    current = i18n.get_language(shell.page)
    return [
        ft.Text(t("settings.language"), theme_style=ft.TextThemeStyle.TITLE_MEDIUM),
        ft.Text(t("settings.language_hint"), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
        ft.RadioGroup(
            key="settings.language",
            value=current,
            on_change=on_language,
            content=ft.Column(
                [
                    # a 48 px row per choice: web/desktop shrink the radio's
                    # own tap target to 40 px
                    ft.Container(
                        ft.Radio(value=lang, label=t(f"language.{lang}")),
                        height=theme.TOUCH_TARGET,
                        alignment=ft.Alignment.CENTER_LEFT,
                    )
                    for lang in i18n.LANGUAGES
                ],
                spacing=4,
            ),
        ),
    ]


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def default_data_dir() -> Path:
    """Where the local store lives unless --data says otherwise: the app's
    private storage on a phone (Flet sets FLET_APP_STORAGE_DATA), else the
    user's data dir (XDG on Linux)."""
    env = os.environ.get("FLET_APP_STORAGE_DATA")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "GoCua"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GoCua"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "gocua"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="gocua-app",
        description="Gõ Cửa field app (desktop window, or web mode for leaders and officers).",
    )
    p.add_argument("--web", action="store_true", help="serve the app to browsers (no CDN)")
    p.add_argument("--host", default="127.0.0.1", help="web mode: address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8550, help="web mode: port (default 8550)")
    p.add_argument("--data", metavar="DIR", help="local data directory (default: per-user app data)")
    p.add_argument("--server", metavar="URL", help="sync server base URL, e.g. http://192.168.1.10:8000")
    return p.parse_args(argv)


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point `gocua-app`."""
    args = parse_args(argv)
    data_dir = Path(args.data) if args.data else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)

    def app(page: ft.Page) -> None:
        build_app(page, data_dir=data_dir, server_url=args.server)

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
