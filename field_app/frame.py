"""What the shell draws around a screen: the tab view with its navigation bar
(phones) or rail (from `WIDE_BREAKPOINT`), a pushed view with its Back arrow,
the snack bar, and the app bar's sync button. Drawing only: the shell
(field_app/shell.py) decides what to show and wires the events.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.navigation import Tab
from field_app.screen import Screen

__all__ = ["NavEvent", "message", "paint_sync_button", "pushed_view", "snack_bar", "sync_button", "tab_view"]

NavEvent = ft.Event[ft.NavigationBar] | ft.Event[ft.NavigationRail]
NavHandler = Callable[[NavEvent], None]


def message(icon: ft.IconData, text: str) -> ft.Control:
    """An icon and a sentence, as the only content of a view."""
    return ft.Row(
        [
            ft.Icon(icon, color=theme.COLORS.on_surface_variant),
            ft.Text(text, theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True),
        ],
        vertical_alignment=ft.CrossAxisAlignment.START,
    )


#: how long a snack bar with an undo stays: long enough to read it and reach the button
UNDO_MILLISECONDS = 6000


def snack_bar(text: str, *, error: bool, about: str | None,
              undo: Callable[[], Any] | None = None) -> ft.SnackBar:
    """A short message; `about` (its `data`) is the route of the screen it belongs to.
    `undo`: a "Hoàn tác" button that calls it (and the bar stays a little longer)."""
    action = None
    if undo is not None:
        action = ft.SnackBarAction(t("common.undo"), on_click=lambda e: undo(), key="snack.undo",
                                   text_color=theme.COLORS.primary_container)
    return ft.SnackBar(
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
        duration=ft.Duration(milliseconds=3000 if undo is None else UNDO_MILLISECONDS),
        action=action,
        # with a screen reader on, Flutter keeps snack bars until closed
        show_close_icon=True,
        close_icon_color=theme.COLORS.on_primary,
        data=about,
    )


def sync_button(on_click: Callable[[ft.Event[ft.IconButton]], Any]) -> tuple[ft.IconButton, ft.Control]:
    """The AppBar's sync button (to paint with `paint_sync_button`), and what
    holds it in the AppBar."""
    button = ft.IconButton(
        ft.Icons.SYNC,
        tooltip=t("nav.sync"),
        key="appbar.sync",
        on_click=on_click,
        width=theme.TOUCH_TARGET,
        height=theme.TOUCH_TARGET,
    )
    # room for the badge, which sits over the icon's top-right corner
    return button, ft.Container(button, padding=ft.Padding.only(right=10, top=4))


def paint_sync_button(button: ft.IconButton, *, state: str, pending: int) -> None:
    """The icon's shape tells the state (done, waiting, syncing, failed), a
    badge how much is unsent (visits, households, people: Store.work().total)."""
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


def pushed_view(
    route: str,
    title: str,
    controls: list[ft.Control],
    *,
    actions: list[ft.Control],
    scroll: bool = True,
    bottom: ft.Control | None = None,
    fab: ft.FloatingActionButton | None = None,
) -> ft.View:
    """A view pushed over a tab: AppBar with Back arrow, no navigation bar.
    `bottom` stays pinned under the (scrolling) body."""
    body: list[ft.Control] = controls
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
            actions=actions or None,
        ),
        controls=cast(list[ft.BaseControl], body),  # a View takes any control; the list stays the screen's
        scroll=ft.ScrollMode.AUTO if scroll else None,
        floating_action_button=fab,
        padding=ft.Padding.all(16),
        spacing=12,
    )


def tab_view(
    route: str,
    title: str,
    screen: Screen,
    actions: list[ft.Control],
    tabs: list[Tab],
    index: int,
    *,
    wide: bool,
    width: float,
    on_nav_change: NavHandler,
) -> ft.View:
    """A tab's view: its AppBar, the screen, and the role's tabs (a side rail
    when `wide`, else a bottom navigation bar)."""
    appbar = ft.AppBar(title=ft.Text(title), actions=actions or None)
    body = screen.controls
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
    if wide:
        rail = ft.NavigationRail(
            selected_index=index,
            label_type=ft.NavigationRailLabelType.ALL,
            min_width=88,
            destinations=[
                ft.NavigationRailDestination(icon=tb.icon, selected_icon=tb.selected_icon, label=tb.label)
                for tb in tabs
            ],
            on_change=on_nav_change,
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
    narrow = width < 360
    nav = ft.NavigationBar(
        selected_index=index,
        # below 360 px five labels no longer fit: show only the current one
        label_behavior=(
            ft.NavigationBarLabelBehavior.ONLY_SHOW_SELECTED
            if narrow and len(tabs) > 4
            else ft.NavigationBarLabelBehavior.ALWAYS_SHOW
        ),
        destinations=[
            ft.NavigationBarDestination(icon=tb.icon, selected_icon=tb.selected_icon, label=tb.label) for tb in tabs
        ],
        on_change=on_nav_change,
    )
    return ft.View(
        route=route,
        appbar=appbar,
        navigation_bar=nav,
        floating_action_button=screen.fab,
        controls=cast(list[ft.BaseControl], body),  # a View takes any control; the list stays the screen's
        scroll=ft.ScrollMode.AUTO if scrolls else None,
        spacing=16,
        padding=ft.Padding.all(16),
    )
