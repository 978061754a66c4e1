"""The leader's walk lists (`/review/walk`): who holds which households, a street given to a
volunteer, the hamlet split among the team, and the households whose assignment lapsed.

What holds and what a split gives is models/walk_lists.py (campaign.assignments); each
change is `Store.assign` (one `assignment.set` per household that changes hands),
sent at once through `sync`. The volunteers come from the team list (online: offline,
the screen says so and offers Retry); who holds what is read from the device's store.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import flet as ft

from field_app import theme
from field_app.i18n import t
from field_app.store import HouseholdRow, Store

from .common import number
from .downloads import Downloads
from .leader import LeaderScreens, _panel, _Remote, _text
from .models.walk_lists import holdings, split_among, streets
from .shell import Shell

WALK = "/review/walk"


class WalkLists:
    def __init__(self, screens: LeaderScreens) -> None:
        self.screens = screens
        self.store: Store = screens.store
        self.hamlet: str | None = None
        self.downloads = Downloads(screens.shell)

    def rows(self) -> list[HouseholdRow]:
        if self.hamlet is None:
            return []
        return self.store.households_search(self.hamlet, limit=100_000).rows

    def view(self, shell: Shell, params: dict[str, str], route: str = WALK) -> ft.View:
        hamlets = self.store.hamlets()
        if self.hamlet not in {h.id for h in hamlets}:
            self.hamlet = hamlets[0].id if hamlets else None
        remote = _Remote(shell.page, self.screens.api.team_devices,
                         lambda devices: self._form(devices, remote.column), key="walk:team")
        picker: list[ft.Control] = []
        if len(hamlets) > 1:
            picker.append(ft.Dropdown(
                key="walk:hamlet", label=t("households.hamlet"), value=self.hamlet,
                options=[ft.DropdownOption(key=h.id, text=h.name) for h in hamlets],
                on_select=lambda e: self._pick(e.control.value, remote)))
        return shell.pushed_view(route, t("walk.title"), [
            _text(t("walk.explain"), color=theme.COLORS.on_surface_variant), *picker, remote.start()])

    def _pick(self, hamlet: str | None, remote: _Remote) -> None:
        self.hamlet = hamlet
        remote.start()

    def _form(self, devices: list[dict[str, Any]], column: ft.Column) -> list[ft.Control]:
        model = self.screens.model
        model.members(devices, datetime.now().astimezone())  # learns the team's names
        team = [d["device_id"] for d in devices if d.get("role") == "volunteer" and not d.get("revoked")]
        rows = self.rows()
        held = holdings(rows, datetime.now().astimezone())
        lines: list[ft.Control] = [_text(t("walk.held"), ft.TextThemeStyle.TITLE_MEDIUM)]
        for device, count in held.by_device.items():
            lines.append(_text(t("walk.holds", who=model.device_label(device), count=number(count)),
                               key=f"walk:holds:{device}"))
        lines.append(_text(t("walk.pool", count=number(held.pool)), key="walk:pool"))
        out: list[ft.Control] = [_panel(lines, key="walk:holdings")]
        if held.lapsed:
            out.append(_panel([ft.Row([theme.status_icon("problem"),
                                       _text(t("walk.lapsed", count=number(len(held.lapsed))), expand=True,
                                             key="walk:lapsed")])]))
        hamlet = self.hamlet
        if hamlet is not None:
            out.append(theme.big_button(t("walk.print"), icon=ft.Icons.PRINT, filled=False, key="walk:print",
                                        on_click=self.downloads.handler(
                                            lambda: self.screens.api.walksheet_pdf(hamlet))))
        if not team:
            return [*out, _text(t("walk.no_team"), key="walk:no_team")]
        def refill() -> None:
            self._refill(devices, column)

        who = ft.Dropdown(key="walk:who", label=t("walk.who"), value=team[0], expand=True,
                          options=[ft.DropdownOption(key=d, text=model.device_label(d)) for d in team])
        by_street = streets(rows)
        street = ft.Dropdown(key="walk:street", label=t("walk.street"), expand=True,
                             value=next(iter(by_street), None),
                             options=[ft.DropdownOption(key=k, text=t("walk.street_option", street=words,
                                                                      count=number(len(ids))))
                                      for k, (words, ids) in by_street.items()])

        def give_street(e: ft.Event[Any]) -> None:
            if who.value and street.value in by_street:
                self._assign({who.value: by_street[street.value][1]}, refill)

        def split(e: ft.Event[Any]) -> None:
            self._assign(split_among(rows, team), refill)

        out += [
            _panel([_text(t("walk.give"), ft.TextThemeStyle.TITLE_MEDIUM), who, street,
                    theme.big_button(t("walk.give_street"), icon=ft.Icons.ASSIGNMENT_IND, key="walk:give",
                                     on_click=give_street)]),
            _panel([_text(t("walk.split_explain", count=number(len(team))), key="walk:split_explain"),
                    theme.big_button(t("walk.split"), icon=ft.Icons.CALL_SPLIT, filled=False, key="walk:split",
                                     on_click=split)]),
        ]
        return out

    def _assign(self, plan: dict[str, list[str]], refill: Callable[[], None]) -> None:
        for device, ids in plan.items():
            self.store.assign(ids, device)
        self.screens._sent()
        refill()

    def _refill(self, devices: list[dict[str, Any]], column: ft.Column) -> None:
        column.controls = self._form(devices, column)
        column.update()


def register(shell: Shell, screens: LeaderScreens) -> WalkLists:
    walk = WalkLists(screens)
    for route in (WALK, "/walk"):
        shell.register_detail(route, functools.partial(walk.view, route=route))
    return walk
