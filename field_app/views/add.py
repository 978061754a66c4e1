"""Add a household (address, hamlet, consent) and add a person (label
optional → "Người n", birth year on a numeric keyboard or an age-band
shortcut, presence, card, VNeID)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from campaign import areas, old_areas
from campaign import vocabulary as v
from campaign.events import MAX_ADDRESS, MAX_LABEL, InvalidEvent, generic_label
from field_app import theme
from field_app.i18n import t
from field_app.store import PersonRow

from .common import C, age_text, chip, choice_group, full_width, heading, note, reason_text, says_when_full
from .person import birth_year_error, birth_year_field, parse_birth_year
from .shell import Shell

#: age-band shortcuts: (label key, age used for the estimated birth year)
AGE_BANDS = (
    ("add.band.under_6", 3),
    ("add.band.6_13", 10),
    ("add.band.14_17", 16),
    ("add.band.18_59", 35),
    ("add.band.60_plus", 68),
)


def add_household_view(shell: Shell, params: dict[str, str]) -> ft.View:
    route = "/households/new"
    store = shell.store
    hamlets = store.hamlets()
    if not hamlets:
        return shell.pushed_view(route, t("add.household_title"),
                                 [note(ft.Icons.HOURGLASS_EMPTY, t("add.no_hamlet"))])
    chosen: dict[str, str] = {"hamlet": shell.ui.get("households.hamlet") or "", "consent": "unknown"}
    if chosen["hamlet"] not in {h.id for h in hamlets}:
        chosen["hamlet"] = hamlets[0].id

    names = {h.id: h.name for h in hamlets}
    same_text = ft.Text("", size=15, key="add.same_address", expand=True,
                        color=theme.STATUSES["revisit"].on_container)
    same_open = ft.TextButton(t("add.same_address_open"), icon=ft.Icons.OPEN_IN_NEW, key="add.same_address_open",
                              height=theme.TOUCH_TARGET)
    same_box = ft.Container(
        ft.Column([ft.Row([ft.Icon(ft.Icons.WARNING_AMBER_ROUNDED, color=theme.STATUSES["revisit"].strong),
                           same_text], spacing=10, vertical_alignment=ft.CrossAxisAlignment.START),
                   same_open], spacing=4, tight=True),
        bgcolor=theme.STATUSES["revisit"].container, border=ft.Border.all(1.2, theme.STATUSES["revisit"].strong),
        border_radius=ft.BorderRadius.all(theme.RADIUS), padding=ft.Padding.all(12), visible=False,
        key="add.same_address_box",
    )

    old_text = ft.Text("", size=14.5, key="add.old_address", expand=True)
    old_box = ft.Row([ft.Icon(ft.Icons.MAP_OUTLINED, color=C.on_surface_variant), old_text], spacing=10,
                     vertical_alignment=ft.CrossAxisAlignment.START, visible=False)

    def check_old(text: str) -> None:
        """An address with pre-merger names is kept as written; the note says what it is now."""
        found = old_areas.explain(text) if text else None
        old_box.visible = found is not None
        if found is None:
            return
        names = ", ".join(areas.commune(c).full_name for c in found.candidates)
        if found.status in (old_areas.RESOLVED, old_areas.CURRENT) and found.code:
            place = areas.commune(found.code)
            old_text.value = t("add.old_address_now", commune=place.full_name, province=place.province)
        elif found.status == old_areas.AMBIGUOUS:
            old_text.value = t("add.old_address_one_of", communes=names)
        else:
            old_text.value = t("add.old_address")

    def check_address() -> None:
        """Warn, never block: the hamlet already has a household at this address (folded)."""
        text = " ".join((address.value or "").split())
        check_old(text)
        same = store.same_address(chosen["hamlet"], text) if text else []
        same_box.visible = bool(same)
        if same:
            same_text.value = t("add.same_address", count=len(same), address=same[0].address,
                                hamlet=names.get(chosen["hamlet"], ""))
            same_open.on_click = lambda e, hid=same[0].id: shell.go(f"/households/{hid}")

    def on_address(e: ft.Event[ft.TextField]) -> None:
        address.error = None
        check_address()
        shell.page.update()  # says_when_full updated the field itself: Flet's auto-update is off

    address = says_when_full(ft.TextField(label=t("add.address"), hint_text=t("add.address_hint"),
                                          max_length=MAX_ADDRESS, counter="", key="add.address", autofocus=True,
                                          text_size=17, on_change=on_address))

    def set_hamlet(e: ft.Event[ft.Dropdown]) -> None:
        if e.control.value is not None:
            chosen["hamlet"] = e.control.value
            check_address()

    def save(e: ft.Event[ft.Button]) -> None:
        text = " ".join((address.value or "").split())
        if not text:
            address.error = t("add.address_missing")
            shell.page.update()
            return
        try:
            hid = store.add_household(chosen["hamlet"], text, consent=chosen["consent"])
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.go(f"/households/{hid}")
        shell.snack(t("add.household_saved"))

    controls: list[ft.Control] = [full_width(address), old_box, same_box]
    if len(hamlets) > 1:
        controls.append(full_width(ft.Dropdown(
            label=t("households.hamlet"),
            value=chosen["hamlet"],
            options=[ft.DropdownOption(key=h.id, text=h.name) for h in hamlets],
            on_select=set_hamlet,
            key="add.hamlet",
        )))
    else:
        controls.append(note(ft.Icons.HOLIDAY_VILLAGE_OUTLINED, hamlets[0].name))
    controls += [
        heading(t("add.consent")),
        choice_group(v.CONSENT, v.CONSENT.codes, "unknown", lambda c: chosen.__setitem__("consent", c),
                     key_prefix="add.consent"),
        note(ft.Icons.LOCK_OUTLINE, t("add.privacy")),
    ]
    bottom = ft.Container(
        theme.big_button(t("common.save"), icon=ft.Icons.SAVE_OUTLINED, on_click=save, key="add.save"),
        padding=ft.Padding.only(top=8),
    )
    return shell.pushed_view(route, t("add.household_title"), controls, bottom=bottom)


def warn_duplicate(shell: Shell, similar: list[PersonRow], add_anyway: Callable[[], None]) -> None:
    """Offline: this household or hamlet already holds someone with the same name and birth year
    (±1). Open that person instead, or add the new one anyway."""
    first = similar[0]
    where = shell.store.household(first.household_id)

    def open_it(e: ft.Event[ft.Button]) -> None:
        shell.page.pop_dialog()
        shell.go(f"/households/{first.household_id}/people/{first.id}")

    def anyway(e: ft.Event[ft.TextButton]) -> None:
        shell.page.pop_dialog()
        add_anyway()

    shell.page.show_dialog(ft.AlertDialog(
        modal=True,
        title=ft.Text(t("add.duplicate_title")),
        content=ft.Text(t("add.duplicate_body", label=first.label, age=age_text(first.birth_year),
                          address=where.address if where else "", more=len(similar) - 1), key="duplicate.body"),
        actions=[
            ft.TextButton(t("add.duplicate_add"), on_click=anyway, key="duplicate.add"),
            ft.FilledButton(t("add.duplicate_open"), on_click=open_it, key="duplicate.open"),
        ],
    ))


def add_person_view(shell: Shell, params: dict[str, str]) -> ft.View:
    hid = params["hid"]
    route = f"/households/{hid}/people/new"
    store = shell.store
    household = store.household(hid)
    if household is None:
        return shell.pushed_view(route, t("add.person_title"),
                                 [note(ft.Icons.ERROR_OUTLINE, t("household.not_found"))])
    declined = household.consent == "declined"
    next_label = generic_label(len(store.people(hid)) + 1)
    values: dict[str, Any] = {"presence": "home", "card": "unknown", "vneid": "unknown"}

    label = says_when_full(ft.TextField(
        label=t("add.label"),
        hint_text=t("add.label_hint", label=next_label),
        max_length=MAX_LABEL,
        counter="",  # no "0/80" under the field: said when it is full
        disabled=declined,
        helper=t("person.label_declined") if declined else None,
        key="add.label",
        text_size=17,
    ))
    this_year = store.this_year()
    year = birth_year_field(None, key="add.birth_year", hint=t("add.year_hint"), this_year=this_year)
    band_chips: list[ft.Chip] = []

    def band(age: int) -> Callable[[ft.Event[ft.Chip]], None]:
        def handler(e: ft.Event[ft.Chip]) -> None:
            for c in band_chips:
                c.selected = c is e.control
            year.value = str(this_year - age)
            year.error = None
        return handler

    band_chips += [chip(t(key), selected=False, on_select=band(age), key=f"add.{key.split('.', 1)[1]}")
                   for key, age in AGE_BANDS]

    def save(e: ft.Event[ft.Button] | ft.Event[ft.OutlinedButton] | None, again: bool = False,
             checked: bool = False) -> None:
        ok, birth_year = parse_birth_year(year.value or "", this_year)
        if not ok:  # said on the field (it stays until fixed) and at once
            year.error = birth_year_error(year.value or "", this_year)
            shell.page.update()
            shell.snack(year.error or "", error=True)
            return
        text = None if declined else (" ".join((label.value or "").split()) or None)
        if text and not checked:
            similar = store.similar_people(hid, household.hamlet_id, text, birth_year)
            if similar:
                warn_duplicate(shell, similar, lambda: save(None, again, checked=True))
                return
        try:
            pid = store.add_person(hid, text, birth_year=birth_year, presence=values["presence"],
                                   card=values["card"], vneid=values["vneid"])
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        saved = store.person(pid)
        shell.go(route if again else f"/households/{hid}")
        shell.snack(t("add.person_saved", label=saved.label if saved else ""))

    controls: list[ft.Control] = [
        full_width(label),
        ft.Row([year]),
        ft.Text(t("add.bands"), size=14, color=C.on_surface_variant),
        ft.Row([*band_chips], wrap=True, spacing=8, run_spacing=6),
        heading(t("person.presence")),
        choice_group(v.PRESENCE, v.PRESENCE.codes, "home", lambda c: values.__setitem__("presence", c),
                     key_prefix="add.presence"),
        heading(t("person.card")),
        choice_group(v.CARD, v.CARD.codes, "unknown", lambda c: values.__setitem__("card", c),
                     key_prefix="add.card"),
        heading(t("person.vneid")),
        choice_group(v.VNEID, v.VNEID.codes, "unknown", lambda c: values.__setitem__("vneid", c),
                     key_prefix="add.vneid"),
    ]
    bottom = ft.Container(
        ft.Row([
            ft.OutlinedButton(t("add.save_and_next"), icon=ft.Icons.PERSON_ADD_ALT, key="add.save_next",
                              on_click=lambda e: save(e, again=True), height=theme.BIG_BUTTON_HEIGHT, expand=1),
            ft.FilledButton(t("common.save"), icon=ft.Icons.SAVE_OUTLINED, key="add.save_person",
                            on_click=save, height=theme.BIG_BUTTON_HEIGHT, expand=1),
        ], spacing=8),
        padding=ft.Padding.only(top=8),
    )
    return shell.pushed_view(route, t("add.person_title"), controls, bottom=bottom)
