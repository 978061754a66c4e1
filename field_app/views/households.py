"""The household list of a hamlet: folded search as you type, filter chips,
one clear status per row (icon + words).

Reads `Store.households_search(hamlet_id, search, filter, offset, limit)`: what
the search finds is `campaign.search` (one person's name, the address as a
phrase, the hamlet's whole name; "nguyen van" finds "Nguyễn Văn …", "hoà" finds
"Hòa"), best rank first, then walking order (`campaign.order.walking_key`: street
by street, the outer way before its alleys, then house numbers as numbers). A row
names its hamlet when the list spans several. The households this device holds (a
leader's walk list: campaign.assignments) come first under "Của tôi", then the rest.
A row found by a name shows that person (the name once the household agreed,
the birth year always); the count line says how many were found by name, by
address, by hamlet. Rows go into a
`ListView` that Flutter builds lazily as it scrolls; a long list is read and
sent `PAGE` rows at a time ("Xem thêm"): the store opens only the rows shown,
so opening the screen and typing stay quick on a phone.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlparse

import flet as ft

from campaign.ids import short_code
from field_app import theme
from field_app.app_state import household_status
from field_app.i18n import plural, t
from field_app.screen import Screen
from field_app.store import FILTERS, Counts, HouseholdRow, HouseholdsPage

from .come_back import today_of
from .common import C, chip, household_pill, number
from .models.come_back import come_back_text
from .shell import Shell

# Rows sent a page at a time. Every row is a dozen Flet controls that Flet diffs and encodes
# for the client on each keystroke: 100 rows cost ~3x the time of 40 (devtools/bench/device,
# "a keystroke to the list on screen"), and a phone shows 6-8 rows at once (issue #16, item 4).
PAGE = 40

FILTER_KEYS = {
    "not_visited": ("households.filter.not_visited", "left"),
    "revisit": ("households.filter.revisit", "revisit"),
    "follow_up": ("households.filter.follow_up", "follow_up"),
    "returned": ("households.filter.returned", "returned"),
}

ALL_HAMLETS = "*"


def match_text(h: HouseholdRow) -> str | None:
    """The person a search found in this household, in words: the name only once the household
    agreed (the household screen hides names until then), the birth year always."""
    m = h.match
    if m is None or m.person_id is None:
        return None
    if h.consent == "given" and m.label:
        return (t("households.match.person", label=m.label, year=m.birth_year) if m.birth_year
                else t("households.match.person_no_year", label=m.label))
    return (t("households.match.hidden", year=m.birth_year) if m.birth_year
            else t("households.match.hidden_no_year"))


def summary_text(found: HouseholdsPage, households: int, searching: bool, filtering: bool) -> str:
    """What the count line counts: the households found, and how (by name, address, hamlet)."""
    if searching:
        ways = [t(f"households.found.{way}", count=number(n))
                for way, n in (("by_name", found.by_name), ("by_address", found.by_address),
                               ("by_hamlet", found.by_hamlet)) if n]
        head = t("households.found", count=number(found.total), total=number(households))
        return f"{head}: {', '.join(ways)}" if ways else head
    if filtering:
        return t("households.summary", count=number(found.total), total=number(households))
    return t("households.summary_all", total=number(households))


class _RowSlot:
    """A place in the list, its controls built once and given a household's values on each render:
    a keystroke changes a few values of controls the client already has (Flet sends only those)
    instead of a dozen new controls a row, which Flet must configure, diff and encode whole
    (devtools/bench/device, "a keystroke to the list on screen"). The lines a household may not
    need (who a search found, when to come back, its hamlet) are there, hidden.

    A household: its address, who a search found, its status in words and its people; when to
    come back; its hamlet when the list spans several."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.id = ""
        self.status: str | None = None
        self.title = ft.Text("", max_lines=2, overflow=ft.TextOverflow.ELLIPSIS, font_family=theme.FONT_MEDIUM,
                             size=16.5)
        self.match = ft.Text("", size=14.5, font_family=theme.FONT_MEDIUM, expand=True)
        self.match_line = ft.Row([ft.Icon(ft.Icons.PERSON_SEARCH_OUTLINED, size=16, color=C.primary), self.match],
                                 spacing=6, vertical_alignment=ft.CrossAxisAlignment.START, visible=False)
        self.pill = household_pill("not_visited")
        self.people = ft.Text("", size=14.5, color=C.on_surface_variant)
        self.come_back, self.come_back_line = _fact(ft.Icons.EVENT_REPEAT)
        self.hamlet, self.hamlet_line = _fact(ft.Icons.HOLIDAY_VILLAGE_OUTLINED)
        self.facts = ft.Row([self.pill, self.people, self.come_back_line, self.hamlet_line],
                            spacing=8, wrap=True, run_spacing=4)
        self.tile = ft.ListTile(
            title=self.title,
            subtitle=ft.Column([self.match_line, self.facts], spacing=4, tight=True),
            trailing=ft.Icon(ft.Icons.CHEVRON_RIGHT, color=C.on_surface_variant),
            on_click=self.open,
            content_padding=ft.Padding.symmetric(horizontal=4, vertical=4),
            min_height=theme.TOUCH_TARGET + 16,
        )
        self.divider = ft.Divider(height=1)

    def open(self, e: ft.Event[ft.ListTile]) -> None:
        self.shell.go(f"/households/{self.id}")

    def show(self, h: HouseholdRow, hamlet: str | None, today: date) -> None:
        self.id = h.id
        self.tile.key = f"household.{h.id}"
        self.title.value = h.address
        matched = match_text(h)
        self.match_line.visible = matched is not None
        self.match.value, self.match.key = matched or "", f"household.{h.id}.match" if matched else None
        status = household_status(h)
        if status != self.status:
            self.pill = _restyled(self.facts, self.pill, status)
            self.status = status
        self.people.value = plural("households.people", h.people)
        come_back = h.revisit and h.come_back  # when to come back: the revisit list is ordered by it
        self.come_back_line.visible = bool(come_back)
        self.come_back.value = come_back_text(h.come_back, today) if h.revisit and h.come_back else ""
        self.come_back.key = f"household.{h.id}.come_back" if come_back else None
        self.hamlet_line.visible = bool(hamlet)
        self.hamlet.value, self.hamlet.key = hamlet or "", f"household.{h.id}.hamlet" if hamlet else None


def _section(key: str) -> tuple[ft.Text, ft.Container]:
    """A heading inside the list: "Của tôi" (the households this device holds), then the rest:
    (its words, the heading)."""
    text = ft.Text("", theme_style=ft.TextThemeStyle.TITLE_SMALL, color=C.primary, key=key)
    return text, ft.Container(text, padding=ft.Padding.only(top=10, bottom=2))


def _fact(icon: ft.IconData) -> tuple[ft.Text, ft.Row]:
    """A fact of a row with its icon, hidden until a household has it: (its words, its line)."""
    text = ft.Text("", size=14.5, color=C.on_surface_variant)
    return text, ft.Row([ft.Icon(icon, size=15, color=C.on_surface_variant), text], spacing=3, tight=True,
                        visible=False)


def _restyled(facts: ft.Row, shown: ft.Container, status: str) -> ft.Container:
    """The status pill in the row showing `status`: the pill the client has, its tint, icon and
    words changed (common.pill's shape: a Row of an Icon and a Text); a new pill if that shape
    changed."""
    fresh = household_pill(status)
    old_row, new_row = shown.content, fresh.content
    if (isinstance(old_row, ft.Row) and isinstance(new_row, ft.Row)
            and [type(c) for c in old_row.controls] == [type(c) for c in new_row.controls] == [ft.Icon, ft.Text]):
        shown.bgcolor, shown.border = fresh.bgcolor, fresh.border
        old_icon, old_text = old_row.controls
        new_icon, new_text = new_row.controls
        assert isinstance(old_icon, ft.Icon) and isinstance(new_icon, ft.Icon)
        assert isinstance(old_text, ft.Text) and isinstance(new_text, ft.Text)
        old_icon.icon, old_icon.color = new_icon.icon, new_icon.color
        old_text.value, old_text.color = new_text.value, new_text.color
        return shown
    facts.controls[facts.controls.index(shown)] = fresh
    return fresh


def households_screen(shell: Shell) -> Screen:
    store = shell.store
    ui = shell.ui
    query = parse_qs(urlparse(shell.page.route or "").query)
    if "filter" in query and query["filter"][0] in FILTERS:
        ui["households.filter"] = query["filter"][0]
    hamlets = store.hamlets()
    if ui.get("households.hamlet") not in {h.id for h in hamlets} | {ALL_HAMLETS}:
        ui["households.hamlet"] = hamlets[0].id if len(hamlets) == 1 else ALL_HAMLETS
    names = {h.id: h.name for h in hamlets}
    state: dict[str, Any] = {"shown": PAGE, "rows": [], "found": HouseholdsPage([], 0)}

    def hamlet_id() -> str | None:
        value = ui.get("households.hamlet")
        return None if value in (None, ALL_HAMLETS) else value

    list_view = ft.ListView(expand=True, spacing=0, key="households.list", build_controls_on_demand=True)
    summary = ft.Text("", theme_style=ft.TextThemeStyle.BODY_MEDIUM, color=C.on_surface_variant,
                      key="households.summary")
    chips: dict[str, ft.Chip] = {}

    counted: dict[Any, Counts] = {}  # hamlet -> the filter chips' counts, until the data changes
    # the list's own controls, made once and reused by every render (_RowSlot says why)
    slots: list[_RowSlot] = []
    sections = (_section("households.section.mine"), _section("households.section.rest"))

    def fill(reset_paging: bool = True, data_changed: bool = False) -> None:
        if reset_paging:
            state["shown"] = PAGE
        # the rows shown so far again (after a sync they may have changed), not the whole hamlet
        state["found"] = page(0, state["shown"])
        state["rows"] = state["found"].rows
        # the counts read the whole hamlet's summaries: not on every keystroke, only when the data
        # or the hamlet change (devtools/bench/device measured a keystroke at 130 ms with them)
        if data_changed:
            counted.clear()
        render()

    def page(offset: int, limit: int) -> HouseholdsPage:
        return store.households_search(hamlet_id(), search=ui.get("households.search", ""),
                                     filter=ui.get("households.filter"), offset=offset, limit=limit)

    def render() -> None:
        rows: list[HouseholdRow] = state["rows"]
        found: HouseholdsPage = state["found"]
        total = found.total
        if hamlet_id() not in counted:
            counted[hamlet_id()] = store.counts(hamlet_id())
        counts = counted[hamlet_id()]
        for f, ch in chips.items():
            label_key, count_key = FILTER_KEYS[f]
            words = t(label_key, count=number(getattr(counts, count_key)))
            if isinstance(ch.label, ft.Text):  # the words changed in place: Flet sends only them
                ch.label.value = words
            else:
                ch.label = ft.Text(words, size=15)
            ch.selected = ui.get("households.filter") == f
        items: list[ft.Control] = list(header)
        typed = ui.get("households.search", "").strip()
        if 4 <= len(typed) <= 8:  # a walk sheet's code (campaign.ids.short_code): open that household
            for hit in store.households_by_code(typed):
                items.append(ft.FilledTonalButton(
                    t("households.code_hit", code=short_code(hit.id), address=hit.address),
                    icon=ft.Icons.QR_CODE_2, key=f"households.code.{hit.id}", height=theme.TOUCH_TARGET,
                    on_click=lambda e, hid=hit.id: shell.go(f"/households/{hid}")))
        spans = hamlet_id() is None and len(hamlets) > 1  # rows say their hamlet
        while len(slots) < len(rows):
            slots.append(_RowSlot(shell))
        today = today_of(shell)
        for i, (h, slot) in enumerate(zip(rows, slots[:len(rows)], strict=True)):  # i: the position in the list
            if found.mine and i in (0, found.mine):
                text, heading = sections[0] if i == 0 else sections[1]
                text.value = t("households.mine", count=number(found.mine)) if i == 0 else t("households.rest")
                items.append(heading)
            slot.show(h, names.get(h.hamlet_id or "") if spans else None, today)
            items += (slot.tile, slot.divider)
        for slot in slots[len(rows):]:
            # a slot leaving the list gives up its household's key: Flet pairs two controls of one
            # key in the old and the new list as one control rebuilt, and freezes the one shown
            slot.tile.key = None
        if total > len(rows):
            more_button.content = t("households.more", count=number(total - len(rows)))
            items.append(more_row)
        if not total:
            items.append(nothing)
        list_view.controls = items
        summary.value = summary_text(found, counts.households, bool(ui.get("households.search", "").strip()),
                                     ui.get("households.filter") is not None)

    def more(e: ft.Event[ft.OutlinedButton]) -> None:
        # only the next page is read; a change of the data meanwhile refills from the top (on_sync)
        state["found"] = page(len(state["rows"]), PAGE)
        state["rows"] = state["rows"] + state["found"].rows
        state["shown"] += PAGE
        render()

    more_button = ft.OutlinedButton("", icon=ft.Icons.EXPAND_MORE, on_click=more, key="households.more",
                                    height=theme.TOUCH_TARGET)
    more_row = ft.Container(more_button, padding=ft.Padding.symmetric(vertical=12), alignment=ft.Alignment.CENTER)
    nothing = ft.Container(
        ft.Row([ft.Icon(ft.Icons.SEARCH_OFF, color=C.on_surface_variant),
                ft.Text(t("households.none"), theme_style=ft.TextThemeStyle.BODY_LARGE, expand=True)]),
        padding=ft.Padding.symmetric(vertical=16),
        key="households.none",
    )

    def on_search(e: ft.Event[ft.TextField]) -> None:
        if isinstance(e.data, str) and e.data != (search.value or ""):
            # typed on while the list was read: the box holds a newer keystroke's value, and that
            # keystroke's own change lists it (no work for a list nobody would see)
            return
        ui["households.search"] = search.value or ""
        fill()

    def clear_search(e: ft.Event[ft.IconButton]) -> None:
        search.value = ""
        ui["households.search"] = ""
        fill()

    def on_filter(f: str) -> Callable[[ft.Event[ft.Chip]], None]:
        def handler(e: ft.Event[ft.Chip]) -> None:
            ui["households.filter"] = None if ui.get("households.filter") == f else f
            fill()
        return handler

    def on_hamlet(e: ft.Event[ft.Dropdown]) -> None:
        ui["households.hamlet"] = e.control.value or ALL_HAMLETS
        fill()

    search = ft.TextField(
        value=ui.get("households.search", ""),
        hint_text=t("households.search_hint"),
        prefix_icon=ft.Icons.SEARCH,
        suffix_icon=ft.IconButton(ft.Icons.CLOSE, tooltip=t("households.clear_search"), on_click=clear_search,
                                  key="households.clear"),
        on_change=on_search,
        key="households.search",
        text_size=16,
        dense=True,
        autocorrect=False,
        expand=True,
    )
    for f in FILTERS:
        chips[f] = chip("", selected=False, on_select=on_filter(f), key=f"households.filter.{f}")

    header: list[ft.Control] = []
    picker = None
    if len(hamlets) > 1:
        picker = ft.Dropdown(
            key="households.hamlet",
            label=t("households.hamlet"),
            value=ui["households.hamlet"],
            options=[ft.DropdownOption(key=ALL_HAMLETS, text=t("households.all_hamlets"))]
            + [ft.DropdownOption(key=h.id, text=t("households.hamlet_option", name=h.name,
                                                     count=number(h.households)))
               for h in hamlets],
            on_select=on_hamlet,
            expand=True,
        )
        header.append(ft.Container(ft.Row([picker]), padding=ft.Padding.only(top=6)))
    elif hamlets:
        header.append(ft.Text(hamlets[0].name, theme_style=ft.TextThemeStyle.TITLE_MEDIUM,
                              key="households.hamlet_name"))
    header += [
        ft.Container(ft.Row([search]), padding=ft.Padding.only(top=10)),
        ft.Container(ft.Row(list(chips.values()), wrap=True, spacing=8, run_spacing=6),
                     padding=ft.Padding.only(top=10)),
        ft.Container(summary, padding=ft.Padding.only(top=8, bottom=4)),
    ]
    fill()

    def on_sync(status: Any, data_changed: bool) -> None:
        if data_changed:
            fill(reset_paging=False, data_changed=True)

    shell.live(on_sync)
    fab = ft.FloatingActionButton(
        icon=ft.Icons.ADD_HOME_OUTLINED,
        content=t("households.add"),
        on_click=lambda e: shell.go("/households/new"),
        key="households.add",
        tooltip=t("households.add"),
    )
    # the filters scroll away with the list: on a 640 px phone the rows need the room
    return Screen([list_view], scroll=False, fab=fab)
