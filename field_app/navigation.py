"""Where a route goes: the tabs each role sees, and the views a route stacks.

Routing — decision: Flet's *views* model. `page.views` is rebuilt from
`page.route` in `page.on_route_change`; Back is `page.on_view_pop`; code
navigates with `AppShell.go(route)` (= `page.navigate`). We do not use
`ft.Router`: in Flet 1.0 it is a declarative `@ft.component` (hooks, a
deferred update scheduler, `page.render_views`), and our screens are plain
control trees that read the local store and update in place. Views keep one
obvious flow — route → builder → controls — that the UI harness drives
without a browser, and still give the system Back button and browser history.

A route is a tab (a role's top-level destination, `TABS`) or a detail route
registered by a screen ("/households/:id"). A detail route sits on the tab of
its first path segment (else on the landing tab), and a detail route under
another one ("/households/:id/people/:pid") is stacked on its parent, so Back
walks up one level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

import flet as ft

from campaign.roles import ROLES, Capability, roles_with
from field_app.i18n import t

__all__ = [
    "ENROL_ROUTE",
    "ROLES",
    "TABS",
    "WIDE_BREAKPOINT",
    "DetailRoutes",
    "Tab",
    "base_tab",
    "compile_route",
    "parent_paths",
    "path_of",
    "tab_for",
    "tabs_for",
]

#: At or above this page width the shell shows a side NavigationRail
#: (laptops at the commune station); below it, a bottom NavigationBar.
WIDE_BREAKPOINT = 600

ENROL_ROUTE = "/enrol"


@dataclass(frozen=True)
class Tab:
    """A top-level destination in the navigation bar."""

    route: str
    label_key: str
    icon: ft.IconData
    selected_icon: ft.IconData
    roles: frozenset[str]  # roles that see it as a tab (others may still open it)

    @property
    def label(self) -> str:
        return t(self.label_key)


_ALL = frozenset(ROLES)
#: officers and admins watch the whole commune's campaign: the dashboard is their first tab
_WATCHERS = roles_with(Capability.COMMUNE_DASHBOARD)
#: an admin's device holds no hamlets of its own: no household list
_WITH_HAMLETS = _ALL - roles_with(Capability.ANY_COMMUNE)

#: Material 3 wants 3-5 tabs; each role sees at most five. A role's first tab is
#: where it lands ("/" opens it): officers and admins watch the campaign rather
#: than record visits, so the dashboard comes first for them and they have no Home.
TABS: tuple[Tab, ...] = (
    Tab(
        "/totals",
        "nav.totals",
        ft.Icons.BAR_CHART_OUTLINED,
        ft.Icons.BAR_CHART,
        _WATCHERS,
    ),
    Tab("/", "nav.home", ft.Icons.HOME_OUTLINED, ft.Icons.HOME, _ALL - _WATCHERS),
    Tab(
        "/households",
        "nav.households",
        ft.Icons.HOLIDAY_VILLAGE_OUTLINED,
        ft.Icons.HOLIDAY_VILLAGE,
        _WITH_HAMLETS,
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


def tabs_for(role: str) -> list[Tab]:
    """The navigation tabs this role sees, in order."""
    return [tab for tab in TABS if role in tab.roles]


def tab_for(route: str) -> Tab | None:
    """The tab (of any role) whose route this is: a tab route pushed for a role
    that has no such tab (a leader's "/sync") keeps the tab's title."""
    return next((tab for tab in TABS if tab.route == route), None)


def path_of(route: str) -> str:
    """The route without its query and trailing slash ("/households/?filter=x" -> "/households")."""
    path = route.split("?", 1)[0] or "/"
    return path if path == "/" else path.rstrip("/")


def base_tab(path: str, tab_routes: list[str]) -> str:
    """The tab a detail route lives under: its first path segment's, else the landing tab."""
    base = "/" + path.strip("/").split("/", 1)[0]
    return base if base in tab_routes else tab_routes[0]


def parent_paths(path: str) -> list[str]:
    """The paths between a route's first segment and itself, outermost first:
    "/households/H/people/P" -> ["/households/H", "/households/H/people"]."""
    segments = path.strip("/").split("/")
    return ["/" + "/".join(segments[:n]) for n in range(2, len(segments))]


def compile_route(pattern: str) -> re.Pattern[str]:
    """"/households/:id" -> a regex whose named groups are the `:name` segments."""
    parts = []
    for seg in pattern.strip("/").split("/"):
        parts.append(f"(?P<{seg[1:]}>[^/]+)" if seg.startswith(":") else re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "/?$")


B = TypeVar("B")


class DetailRoutes(Generic[B]):
    """Route patterns and their builders; a later registration wins over an
    earlier one that matches the same path."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], B]] = []

    def register(self, pattern: str, builder: B) -> None:
        self._routes.insert(0, (compile_route(pattern), builder))

    def match(self, path: str) -> tuple[B, dict[str, str]] | None:
        """The builder for this path and the path's `:name` segments, or None."""
        for pattern, builder in self._routes:
            m = pattern.match(path)
            if m:
                return builder, m.groupdict()
        return None
