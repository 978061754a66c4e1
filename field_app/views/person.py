"""One person: presence, card, VNeID, blockers and the help given, each a tap
on a chip. "Lưu" records one `person.updated` with what changed; the help
joins the household's visit draft (recorded with the outcome on the
household screen). Choosing help that changes the VNeID status (activation,
level-1 registration) moves the VNeID chip too, so what is saved is visible.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from campaign import guides, old_areas
from campaign import vocabulary as v
from campaign.events import MAX_LABEL, MIN_BIRTH_YEAR, InvalidEvent, birth_year_problem
from field_app import theme
from field_app.app_state import age_of
from field_app.i18n import get_language, t, vocab_label
from field_app.visit_record import implied_vneid

from .booking import booking_panel
from .common import (
    C,
    age_text,
    card,
    choice_group,
    filter_group,
    full_width,
    heading,
    note,
    pill,
    reason_text,
    says_when_full,
)
from .shell import Shell

L2 = ("l2_pending", "l2_approved", "l2_active")


def birth_year_field(value: int | None, *, key: str, this_year: int, hint: str | None = None) -> ft.TextField:
    """Four digits on the number keyboard (adding a person and editing one). As wide as the
    screen, so its message is whole (and wraps at 360 px); the message stays until the year is
    right: it is checked again at every keystroke once shown."""
    field = ft.TextField(
        label=t("person.birth_year"),
        value=str(value) if value is not None else "",
        hint_text=hint,
        keyboard_type=ft.KeyboardType.NUMBER,
        input_filter=ft.NumbersOnlyInputFilter(),
        max_length=4,
        counter="",
        key=key,
        error_max_lines=3,
        helper_max_lines=3,
        expand=True,
    )

    def recheck(e: ft.Event[ft.TextField]) -> None:
        if field.error:
            field.error = birth_year_error(field.value or "", this_year)
            field.update()

    field.on_change = recheck
    return field


def birth_year_error(text: str, this_year: int) -> str | None:
    """Why the typed birth year cannot be saved, as a whole sentence; None when it can (empty is
    an unknown year). The range is the shared rule's (campaign.events.birth_year_problem)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) != 4:
        return t("person.birth_year_digits")
    problem = birth_year_problem(int(text), this_year)
    if problem is None:
        return None
    return t(f"person.birth_year_{problem}", year=text, low=MIN_BIRTH_YEAR, high=this_year)


def parse_birth_year(text: str, this_year: int) -> tuple[bool, int | None]:
    """(valid, year): empty is a valid "unknown"."""
    if birth_year_error(text, this_year) is not None:
        return False, None
    text = (text or "").strip()
    return True, int(text) if text else None


def guide_cards(blockers: list[str]) -> list[ft.Control]:
    """The next steps for each blocker ticked (campaign.guides, shipped with the app: offline)."""
    lang = get_language()
    out: list[ft.Control] = []
    for code in blockers:
        steps = guides.steps(code, lang)
        lines: list[ft.Control] = [ft.Text(t("person.guide_title", blocker=vocab_label(v.BLOCKERS, code)),
                                           font_family=theme.FONT_SEMIBOLD, size=15)]
        lines += [ft.Text(f"{n}. {step}", size=14.5, key=f"person.guide.{code}.{n}")
                  for n, step in enumerate(steps, 1)]
        out.append(card(lines, key=f"person.guide.{code}", padding=12, spacing=4))
    return out


REISSUE = "reissue_request"


def reissue_offer(address: str, help_row: ft.Row, chosen: list[str], on_help: Any) -> list[ft.Control]:
    """An address that names a unit gone since the 1 July 2025 merger (campaign.old_areas): the card
    likely shows it too, and may be re-issued free in VNeID; one tap adds that help."""
    if not old_areas.is_pre_merger(address):
        return []

    def add(e: Any) -> None:
        if REISSUE not in chosen:
            on_help([*chosen, REISSUE])
        for chip_ in help_row.controls:
            if getattr(chip_, "key", None) == f"person.help.{REISSUE}":
                chip_.selected = True  # type: ignore[attr-defined]
        button.disabled = True

    button = ft.TextButton(t("person.reissue_add"), icon=ft.Icons.ADD, key="person.reissue_add",
                           disabled=REISSUE in chosen, height=theme.TOUCH_TARGET)
    button.on_click = add
    return [card([note(ft.Icons.HOME_WORK_OUTLINED, t("person.reissue_note"), key="person.reissue_note"), button],
                 key="person.reissue", padding=12, spacing=4)]


def person_view(shell: Shell, params: dict[str, str]) -> ft.View:
    hid, pid = params["hid"], params["pid"]
    route = f"/households/{hid}/people/{pid}"
    store = shell.store
    person = store.person(pid)
    household = store.household(hid)
    if person is None or household is None:
        return shell.pushed_view(route, t("person.title"), [note(ft.Icons.ERROR_OUTLINE, t("person.not_found"))])
    draft = shell.draft(hid)
    declined = household.consent == "declined"
    edits: dict[str, Any] = {
        "presence": person.presence or "home",
        "card": person.card or "unknown",
        "vneid": person.vneid or "unknown",
        "blockers": list(person.blockers),
    }
    help_chosen = draft.actions_of(pid)
    age = age_of(person.birth_year)

    def set_field(name: str) -> Callable[[str], None]:
        def handler(code: str) -> None:
            edits[name] = code
        return handler

    vneid_box = ft.Column(spacing=0)

    def paint_vneid() -> None:
        vneid_box.controls = [choice_group(v.VNEID, v.VNEID.codes, edits["vneid"], set_field("vneid"),
                                           key_prefix="person.vneid",
                                           disabled=L2 if age is not None and age < v.VNEID_L2_MIN_AGE else ())]

    def on_help(actions: list[str]) -> None:
        added = [a for a in actions if a not in help_chosen]
        help_chosen[:] = actions
        for action in added:
            implied = implied_vneid(action, edits["vneid"])
            if implied:
                edits["vneid"] = implied
                paint_vneid()

    guide_box = ft.Column(spacing=8, key="person.guides")

    def paint_guides() -> None:
        guide_box.controls = guide_cards(edits["blockers"])

    def on_blockers(blockers: list[str]) -> None:
        edits["blockers"] = blockers
        paint_guides()

    paint_vneid()
    paint_guides()
    label_field = says_when_full(ft.TextField(
        label=t("person.label"),
        value=person.label,
        max_length=MAX_LABEL,
        counter="",  # no "0/80" under the field: said when it is full
        disabled=declined,
        helper=t("person.label_declined") if declined else None,
        key="person.label",
    ))
    this_year = store.this_year()
    year_field = birth_year_field(person.birth_year, key="person.birth_year", this_year=this_year)

    def save(e: ft.Event[ft.Button]) -> None:
        ok, year = parse_birth_year(year_field.value or "", this_year)
        if not ok:  # said on the field (it stays until fixed) and at once: the field may be off screen
            year_field.error = birth_year_error(year_field.value or "", this_year)
            shell.page.update()
            shell.snack(year_field.error or "", error=True)
            return
        changes = dict(edits)
        if year != person.birth_year:
            changes["birth_year"] = year
        label = (label_field.value or "").strip()
        if not declined and label and label != person.label:
            changes["label"] = label
        try:
            store.update_person(pid, **changes)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        draft.set_actions(pid, help_chosen)
        shell.changed()
        shell.go(f"/households/{hid}")
        shell.snack(t("person.saved", label=label or person.label))

    header: list[ft.Control] = [
        ft.Text(person.label, theme_style=ft.TextThemeStyle.TITLE_LARGE, key="person.name"),
        ft.Text(age_text(person.birth_year), theme_style=ft.TextThemeStyle.BODY_MEDIUM,
                color=C.on_surface_variant),
    ]
    needs = person.follow_up
    if needs:
        header.append(ft.Row([pill("problem", t(f"follow_up.{r}"), small=True) for r in needs],
                             wrap=True, spacing=6, run_spacing=6))
    help_row = filter_group(v.ACTIONS, v.ACTIONS.codes, help_chosen, on_help, key_prefix="person.help")
    booking = booking_panel(store, pid, lambda text, error: shell.snack(text, error=error))
    controls: list[ft.Control] = [
        *header,
        *([booking] if booking is not None else []),
        *reissue_offer(household.address, help_row, help_chosen, on_help),
        heading(t("person.help")),
        ft.Text(t("person.help_hint"), size=14, color=C.on_surface_variant),
        help_row,
        heading(t("person.vneid")),
        vneid_box,
        heading(t("person.card")),
        choice_group(v.CARD, v.CARD.codes, edits["card"], set_field("card"), key_prefix="person.card"),
        heading(t("person.blockers")),
        filter_group(v.BLOCKERS, v.BLOCKERS.codes, edits["blockers"], on_blockers,
                     key_prefix="person.blockers"),
        guide_box,
        heading(t("person.presence")),
        choice_group(v.PRESENCE, v.PRESENCE.codes, edits["presence"], set_field("presence"),
                     key_prefix="person.presence"),
        heading(t("person.identity")),
        full_width(label_field),
        ft.Row([year_field]),
        note(ft.Icons.LOCK_OUTLINE, t("privacy.never_otp")),
    ]
    bottom = ft.Container(
        theme.big_button(t("common.save"), icon=ft.Icons.SAVE_OUTLINED, on_click=save, key="person.save"),
        padding=ft.Padding.only(top=8),
    )
    return shell.pushed_view(route, person.label, controls, bottom=bottom)
