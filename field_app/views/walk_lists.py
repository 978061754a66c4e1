"""The leader's walk lists (`/review/walk`): who holds which households, a street, a selection of
households or a run of house numbers given to a volunteer (or back to the pool), the hamlet split
among the team, and the households whose assignment lapsed.

What holds and what a split gives is models/walk_lists.py (campaign.assignments); each
change is `Store.assign` (one `assignment.set` per household that changes hands),
sent at once through `sync`. The volunteers come from the team list (online: offline,
the screen says so and offers Retry); who holds what is read from the device's store.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import flet as ft

from campaign.assignments import BadHouseNumber
from field_app import theme
from field_app.i18n import t
from field_app.store import HouseholdRow, Store

from .common import number
from .downloads import Downloads
from .leader import LeaderScreens, _panel, _Remote, _text
from .models.walk_lists import holdings, in_range, split_among, streets, ways
from .shell import Shell

WALK = "/review/walk"
POOL = "-"  # the "who" picker's choice for nobody: the households go back to the pool


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
        lapse_days = self.store.team_settings().lapse_days  # the team's (server's last pull)
        held = holdings(rows, datetime.now().astimezone(), lapse_days)
        lines: list[ft.Control] = [_text(t("walk.held"), ft.TextThemeStyle.TITLE_MEDIUM)]
        for device, count in held.by_device.items():
            lines.append(_text(t("walk.holds", who=model.device_label(device), count=number(count)),
                               key=f"walk:holds:{device}"))
        lines.append(_text(t("walk.pool", count=number(held.pool)), key="walk:pool"))
        out: list[ft.Control] = [_panel(lines, key="walk:holdings")]
        if held.lapsed:
            out.append(_panel([ft.Row([theme.status_icon("problem"),
                                       _text(t("walk.lapsed", count=number(len(held.lapsed)), days=lapse_days), expand=True,
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
                          options=[*(ft.DropdownOption(key=d, text=model.device_label(d)) for d in team),
                                   ft.DropdownOption(key=POOL, text=t("walk.pool_option"))])

        def to() -> str | None:
            return None if who.value == POOL else who.value

        by_street = streets(rows)
        street = ft.Dropdown(key="walk:street", label=t("walk.street"), expand=True,
                             value=next(iter(by_street), None),
                             options=[ft.DropdownOption(key=k, text=t("walk.street_option", street=words,
                                                                      count=number(len(ids))))
                                      for k, (words, ids) in by_street.items()])
        by_id = {r.id: r for r in rows}
        chosen: set[str] = set()
        picks = ft.Column(spacing=0, key="walk:picks")
        give_chosen = theme.big_button(t("walk.give_selected", count=number(0)), icon=ft.Icons.CHECKLIST,
                                       filled=False, key="walk:give_selected", disabled=True)

        def show_chosen() -> None:
            give_chosen.content = t("walk.give_selected", count=number(len(chosen)))
            give_chosen.disabled = not chosen

        def pick(household: str) -> Callable[[ft.Event[Any]], None]:
            def handler(e: ft.Event[Any]) -> None:
                (chosen.add if e.control.value else chosen.discard)(household)
                show_chosen()
                give_chosen.update()
            return handler

        def fill_picks() -> None:
            ids = by_street[street.value][1] if street.value in by_street else []
            picks.controls = [ft.Checkbox(
                label=t("walk.pick_line", address=by_id[i].address,
                        who=model.device_label(by_id[i].assigned_to) if by_id[i].assigned_to else t("walk.nobody")),
                value=i in chosen, key=f"walk:pick:{i}", on_change=pick(i)) for i in ids]

        def street_picked(e: ft.Event[Any]) -> None:
            chosen.clear()
            fill_picks()
            show_chosen()
            picks.update()
            give_chosen.update()

        street.on_select = street_picked
        fill_picks()

        def give_street(e: ft.Event[Any]) -> None:
            if who.value and street.value in by_street:
                self._assign([(to(), by_street[street.value][1])], refill)

        def give_selected(e: ft.Event[Any]) -> None:
            if who.value and chosen:
                self._assign([(to(), [i for i in by_id if i in chosen])], refill)

        give_chosen.on_click = give_selected

        by_way = ways(rows)
        way = ft.Dropdown(key="walk:way", label=t("walk.way"), expand=True,
                          value="|".join(next(iter(by_way))) if by_way else None,
                          options=[ft.DropdownOption(key="|".join(k), text=t("walk.street_option", street=words,
                                                                              count=number(n)))
                                   for k, (words, n) in by_way.items()])
        low = ft.TextField(label=t("walk.from"), hint_text="12", key="walk:from", expand=True)
        high = ft.TextField(label=t("walk.to"), hint_text="40", key="walk:to", expand=True)
        said = _text("", key="walk:range_said", visible=False)  # shown when a run cannot be given

        def give_range(e: ft.Event[Any]) -> None:
            if not who.value or not way.value:
                return
            try:
                ids = in_range(rows, tuple(way.value.split("|")), low.value or "", high.value or "")
            except BadHouseNumber as bad:
                said.value, said.color, said.visible = t("walk.range_bad", text=bad.text.strip()), theme.COLORS.error, True
                said.update()
                return
            if not ids:
                said.value, said.color, said.visible = t("walk.range_none"), theme.COLORS.error, True
                said.update()
                return
            self._assign([(to(), ids)], refill)

        def split(e: ft.Event[Any]) -> None:
            self._assign(list(split_among(rows, team).items()), refill)

        out += [
            _panel([_text(t("walk.give"), ft.TextThemeStyle.TITLE_MEDIUM), who, street,
                    theme.big_button(t("walk.give_street"), icon=ft.Icons.ASSIGNMENT_IND, key="walk:give",
                                     on_click=give_street),
                    _text(t("walk.pick"), ft.TextThemeStyle.TITLE_SMALL), picks, give_chosen]),
            _panel([_text(t("walk.range"), ft.TextThemeStyle.TITLE_MEDIUM), way, ft.Row([low, high]), said,
                    theme.big_button(t("walk.give_range"), icon=ft.Icons.FORMAT_LIST_NUMBERED, filled=False,
                                     key="walk:give_range", on_click=give_range)], key="walk:range"),
            _panel([_text(t("walk.split_explain", count=number(len(team))), key="walk:split_explain"),
                    theme.big_button(t("walk.split"), icon=ft.Icons.CALL_SPLIT, filled=False, key="walk:split",
                                     on_click=split)]),
        ]
        return out

    def _assign(self, plan: Sequence[tuple[str | None, list[str]]], refill: Callable[[], None]) -> None:
        for device, ids in plan:
            self.store.assign(ids, device)
        self.screens._sent()
        refill()

    def _refill(self, devices: list[dict[str, Any]], column: ft.Column) -> None:
        # Emptied first: a control put where one of its kind stood is reconciled into it and
        # frozen by Flet's diff, and the form's handlers change their own controls.
        column.controls = []
        column.update()
        column.controls = self._form(devices, column)
        column.update()


def register(shell: Shell, screens: LeaderScreens) -> WalkLists:
    walk = WalkLists(screens)
    for route in (WALK, "/walk"):
        shell.register_detail(route, functools.partial(walk.view, route=route))
    return walk
