"""Home: today's work and what is left, at a glance; the sync state always shown.

Figures come from `Store.counts()` (all the device's hamlets); each tile opens
the household list with the matching filter. Today's visits are this phone's
("Lượt thăm hôm nay của tôi", `today_mine`) with the whole team's beside them
("Cả tổ", `today`): a volunteer who did nothing today reads 0.
"""
from __future__ import annotations

from typing import Any

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.net.sync import SyncStatus

from .common import C, card, heading, note, number, relative_time, role_label
from .models.come_back import todays_come_backs
from .models.words import changes_text, work_text
from .shell import Shell

# tile: (count key, label key, status style, icon, household filter)
TILES = (
    ("today", "home.tile.today", "done", ft.Icons.TODAY, None),
    ("left", "home.tile.left", "todo", ft.Icons.RADIO_BUTTON_UNCHECKED, "not_visited"),
    ("revisit", "home.tile.revisit", "revisit", ft.Icons.EVENT_REPEAT, "revisit"),
    ("follow_up", "home.tile.follow_up", "problem", ft.Icons.REPORT_PROBLEM, "follow_up"),
)


def _tile(shell: Shell, key: str, label: str, style: str, icon: Any, value: int,
          filter_: str | None, extra: str | None = None) -> ft.Container:
    s = theme.STATUSES[style]
    return ft.Container(
        content=ft.Column(
            [
                # the team's figure beside this phone's, on the number's line: the tiles stay one height
                ft.Row([ft.Icon(icon, color=s.strong, size=22),
                        ft.Text(number(value), size=28, font_family=theme.FONT_SEMIBOLD,
                                key=f"home.{key}"),
                        *([ft.Text(extra, size=14.5, color=C.on_surface_variant, key=f"home.{key}_team")]
                          if extra else [])],
                       spacing=8, wrap=True, run_spacing=0, vertical_alignment=ft.CrossAxisAlignment.CENTER),
                ft.Text(label, size=14.5, font_family=theme.FONT_MEDIUM, color=C.on_surface,
                        key=f"home.{key}_label"),
            ],
            spacing=2,
            tight=True,
        ),
        bgcolor=s.container,
        border=ft.Border.all(1.2, s.strong),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.symmetric(horizontal=14, vertical=10),
        expand=1,
        on_click=(lambda e: shell.go(f"/households?filter={filter_}")) if filter_ else
        (lambda e: shell.go("/households")),
        ink=True,
        key=f"home.tile.{key}",
    )


COME_BACKS_SHOWN = 5  # the home's come-backs of today; the rest are on the revisit list


def _come_backs(shell: Shell) -> ft.Control | None:
    """Today's come-backs (campaign.come_back: due today, in the day's order), each opening its
    household; None when there are none today."""
    now = shell.store.clock()
    rows = todays_come_backs(shell.store.revisits(), now if now.tzinfo is not None else now.astimezone())
    if not rows:
        return None
    s = theme.STATUSES["revisit"]
    lines: list[ft.Control] = [heading(t("home.come_backs"))]
    for row in rows[:COME_BACKS_SHOWN]:
        lines.append(ft.Container(
            ft.Row([ft.Icon(ft.Icons.EVENT_REPEAT, color=s.strong, size=22),
                    ft.Column([ft.Text(row.address, font_family=theme.FONT_MEDIUM, size=15.5),
                               ft.Text(row.when, size=14, color=C.on_surface_variant)],
                              spacing=0, expand=True, tight=True),
                    ft.Icon(ft.Icons.CHEVRON_RIGHT, color=C.on_surface_variant)],
                   spacing=10),
            on_click=lambda e, hid=row.household_id: shell.go(f"/households/{hid}"),
            ink=True, padding=ft.Padding.symmetric(vertical=6), key=f"home.come_back.{row.household_id}"))
    if len(rows) > COME_BACKS_SHOWN:
        lines.append(ft.TextButton(t("home.come_backs.more", n=number(len(rows))), key="home.come_backs.more",
                                   on_click=lambda e: shell.go("/households?filter=revisit")))
    return card(lines, key="home.come_backs")


def home_screen(shell: Shell) -> list[ft.Control]:
    store = shell.store
    counts = store.counts()
    hamlets = store.hamlets()

    # today: this phone's visits ("của tôi") big, the whole team's beside them, never mixed up
    tiles: list[ft.Control] = [
        _tile(shell, key, t(label), style, icon, counts.today_mine, f,
              t("home.today_team", count=number(counts.today))) if key == "today" else
        _tile(shell, key, t(label), style, icon, getattr(counts, key), f)
        for key, label, style, icon, f in TILES]
    grid = ft.Column(
        [ft.Row(tiles[0:2], spacing=10), ft.Row(tiles[2:4], spacing=10)],
        spacing=10,
    )

    pending = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="home.pending")
    last = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="home.last_sync")
    state_icon = ft.Icon(ft.Icons.CLOUD_DONE_OUTLINED, color=C.primary, size=26)
    progress = ft.ProgressBar(visible=False, key="home.progress")

    def paint(status: SyncStatus | None) -> None:
        work = store.work()
        n = work.total
        pending.value = t("home.pending_sync", work=work_text(work)) if n else t("home.all_sent")
        last.value = t("home.last_sync", when=relative_time(store.last_sync_ok))
        syncing = status is not None and status.state == "syncing"
        failing = status is not None and status.state == "error"
        state_icon.icon = ft.Icons.SYNC if syncing else ft.Icons.CLOUD_OFF if failing else \
            ft.Icons.CLOUD_UPLOAD_OUTLINED if n else ft.Icons.CLOUD_DONE_OUTLINED
        progress.visible = syncing
        progress.value = status.progress if status is not None and syncing and status.progress else None

    paint(shell.device.status)

    quarantined = counts.quarantined
    sync_card = card(
        [
            ft.Row([state_icon, ft.Column([pending, last], spacing=0, expand=True)], spacing=12),
            progress,
            *(
                [ft.Container(
                    note(ft.Icons.REPORT_PROBLEM, t("home.quarantined", changes=changes_text(quarantined)),
                         color=theme.STATUSES["problem"].strong, key="home.quarantined"),
                    on_click=lambda e: shell.go("/sync"),
                    ink=True,
                    padding=ft.Padding.symmetric(vertical=8),
                )]
                if quarantined
                else []
            ),
            theme.big_button(t("home.open_sync"), icon=ft.Icons.SYNC, filled=False,
                             on_click=lambda e: shell.go("/sync"), key="home.open_sync"),
        ],
        key="home.sync",
    )

    def on_sync(status: SyncStatus, data_changed: bool) -> None:
        if data_changed:
            shell.render()
            return
        paint(status)

    shell.live(on_sync)

    controls: list[ft.Control] = []
    role_line = role_label(shell.role, store.scope)
    if hamlets:
        names = ", ".join(h.name for h in hamlets[:3]) + ("…" if len(hamlets) > 3 else "")
        role_line = f"{role_line} · {names}"
    controls += [
        ft.Text(t("home.greeting"), theme_style=ft.TextThemeStyle.HEADLINE_SMALL),
        ft.Text(role_line, theme_style=ft.TextThemeStyle.BODY_MEDIUM, color=C.on_surface_variant,
                key="home.role"),
    ]
    if not hamlets and counts.households == 0:
        controls.append(note(ft.Icons.HOURGLASS_EMPTY, t("home.no_data"), key="home.no_data"))
    come_backs = _come_backs(shell) if counts.revisit else None
    if come_backs is not None:  # first: the households that said to come back today
        controls.append(come_backs)
    controls += [
        heading(t("home.today_and_left", visited=number(counts.visited),
                  households=number(counts.households))),
        grid,
    ]
    if counts.returned:
        controls.append(ft.Container(
            note(ft.Icons.UNDO, t("home.returned", count=number(counts.returned)),
                 color=theme.STATUSES["problem"].strong, key="home.returned"),
            on_click=lambda e: shell.go("/households?filter=returned"),
            ink=True,
            padding=ft.Padding.symmetric(vertical=10),
        ))
    controls += [
        theme.big_button(t("home.open_list"), icon=ft.Icons.HOLIDAY_VILLAGE,
                         on_click=lambda e: shell.go("/households"), key="home.open_list"),
        sync_card,
        card(
            [note(ft.Icons.LOCK_OUTLINE, t("privacy.never_otp")),
             note(ft.Icons.VERIFIED_USER_OUTLINED, t("privacy.fake_apps"))],
            bgcolor=C.surface_container,
        ),
    ]
    return controls
