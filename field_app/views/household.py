"""One household: consent first, its people with one-tap help chips, the
visit outcome, and the visits before (with a leader's returned comment).

Designed for the standard visit at 360×640: after opening the household,
[Hộ đồng ý] (only while consent is not asked yet) → [Kích hoạt] on the
person helped → [Đã gặp] records `person.updated` (the VNeID status the help
leaves them in) and `visit.recorded` (outcome, actions, people helped).

- Consent unknown: the people are counted, not named, until the household
  answers. Declined: `Store.update_household(consent="declined")` renames
  everyone "Người 1", "Người 2" … first; the screen then shows those labels.
- The help chosen (here or on the person screen) is a `VisitDraft` kept in the
  session until an outcome is tapped; "Không có nhà" and "Đã chuyển đi"
  carry no help (the server would quarantine it).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import flet as ft

from campaign import vocabulary as v
from campaign.events import InvalidEvent
from campaign.followup import follow_up
from field_app import theme
from field_app.app_state import household_status
from field_app.i18n import plural, t, vocab_label
from field_app.store import HouseholdRow, PersonRow
from field_app.visit_record import (
    QUICK_ACTIONS,
    RecordedVisit,
    implied_vneid,
    quick_actions_for,
    record_outcome,
    undo_visit,
)

from .children import children_panel
from .come_back import ask_come_back
from .common import (
    C,
    age_text,
    card,
    card_pill,
    chip,
    heading,
    household_pill,
    note,
    outcome_icon,
    pill,
    reason_text,
    vneid_pill,
)
from .shell import Shell
from .visits import visit_row

OUTCOMES = ("met", "not_home", "refused", "moved")

#: two buttons side by side on a 360 px phone: less padding than the theme's
_TIGHT = ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=8, vertical=10),
                        text_style=ft.TextStyle(font_family=theme.FONT_SEMIBOLD, size=16))


def _outcome_button(label: str, outcome: str, on_click: Any, *, filled: bool, disabled: bool) -> ft.Control:
    cls = ft.FilledButton if filled else ft.OutlinedButton
    return cls(
        content=label,
        icon=outcome_icon(outcome),
        on_click=on_click,
        key=f"outcome.{outcome}",
        height=theme.TOUCH_TARGET + 4,
        expand=1,
        disabled=disabled,
        style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=10, vertical=10),
                             text_style=ft.TextStyle(font_family=theme.FONT_SEMIBOLD, size=15.5)),
    )


def _preview_vneid(person: PersonRow, actions: list[str]) -> str:
    vneid = person.vneid or "unknown"
    for action in actions:
        vneid = implied_vneid(action, vneid) or vneid
    return vneid


def _person_card(shell: Shell, household: HouseholdRow, person: PersonRow) -> ft.Control:
    hid = household.id
    pid = person.id
    draft = shell.draft(hid)
    living = person.presence in v.LIVING_HERE
    status_row = ft.Row(spacing=6, run_spacing=6, wrap=True)
    other_help = ft.Text("", size=14, color=C.on_surface_variant, visible=False, key=f"person.{pid}.other_help")

    def paint() -> None:
        chosen = draft.actions_of(pid)
        vneid = _preview_vneid(person, chosen)
        pills: list[ft.Control] = [card_pill(person.card or "unknown"), vneid_pill(vneid)]
        if not living:
            pills.insert(0, pill("todo", vocab_label(v.PRESENCE, person.presence),
                                 icon=ft.Icons.NO_ACCOUNTS_OUTLINED, small=True))
        # the follow-up as it will be once the chosen help is recorded
        previewed = {**person.as_data(), "vneid": vneid}
        for reason in follow_up(previewed, datetime.now().astimezone().year):
            pills.append(pill("problem", t(f"follow_up.{reason}"), small=True))
        status_row.controls = pills
        others = [a for a in chosen if a not in QUICK_ACTIONS]
        other_help.value = t("household.other_help", actions=", ".join(vocab_label(v.ACTIONS, a) for a in others))
        other_help.visible = bool(others)

    def toggle(action: str) -> Callable[[ft.Event[ft.Chip]], None]:
        def handler(e: ft.Event[ft.Chip]) -> None:
            chosen = draft.toggle(pid, action)
            e.control.selected = chosen
            paint()
            _refresh_draft_hint(shell, hid)
        return handler

    paint()
    # only the help that is still worth offering (none for someone already done), plus any chosen
    offered = [a for a in QUICK_ACTIONS if a in quick_actions_for(person.vneid) or a in draft.actions_of(pid)]
    quick = ft.Row(
        [chip(t(f"household.quick.{a}"), selected=a in draft.actions_of(pid), on_select=toggle(a),
              key=f"person.{pid}.help.{a}")
         for a in offered],
        wrap=True, spacing=8, run_spacing=6, visible=living and household.consent != "unknown" and bool(offered),
    )
    title = ft.Container(
        ft.Row(
            [
                ft.Column(
                    [ft.Text(person.label, size=17, font_family=theme.FONT_SEMIBOLD, key=f"person.{pid}.label"),
                     ft.Text(age_text(person.birth_year), size=14, color=C.on_surface_variant)],
                    spacing=0, expand=True, tight=True,
                ),
                ft.Icon(ft.Icons.CHEVRON_RIGHT, color=C.on_surface_variant),
            ],
            spacing=8,
        ),
        on_click=lambda e: shell.go(f"/households/{hid}/people/{pid}"),
        ink=True,
        key=f"person.{pid}.open",
        padding=ft.Padding.symmetric(vertical=4),
        height=theme.TOUCH_TARGET + 8,
    )
    return card([title, status_row, quick, other_help], key=f"person.{pid}", padding=12, spacing=8)


def _refresh_draft_hint(shell: Shell, hid: str) -> None:
    hint = shell.ui.get(f"household.{hid}.hint")
    if hint is None:
        return
    draft = shell.draft(hid)
    helped = len(draft.people())
    hint.visible = not draft.empty
    hint.content.controls[1].value = t("household.draft", count=helped,
                                       actions=", ".join(vocab_label(v.ACTIONS, a) for a in draft.actions()))


def household_view(shell: Shell, params: dict[str, str]) -> ft.View:
    hid = params["id"]
    route = f"/households/{hid}"
    store = shell.store
    h = store.household(hid)
    if h is None:
        return shell.pushed_view(route, t("household.title"),
                                 [note(ft.Icons.ERROR_OUTLINE, t("household.not_found"))])
    people = store.people(hid)
    visits = store.visits(hid)
    consent = h.consent
    draft = shell.draft(hid)
    hamlet = next((x for x in store.hamlets() if x.id == h.hamlet_id), None)

    def set_consent(value: str) -> None:
        try:
            store.update_household(hid, consent=value)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.ui.pop(f"household.{hid}.consent_edit", None)
        shell.changed()
        shell.render()

    def ask_decline(e: ft.Event[ft.OutlinedButton]) -> None:
        named = [p for p in people if not p.label.startswith("Người ")]
        if not named:
            set_consent("declined")
            return

        def confirm(ev: ft.Event[ft.Button]) -> None:
            shell.page.pop_dialog()
            set_consent("declined")  # the shell redraws once the dialog is gone (field_app/shell.py)

        shell.page.show_dialog(ft.AlertDialog(
            modal=True,
            title=ft.Text(t("household.decline_title")),
            content=ft.Text(t("household.decline_body", count=len(people))),
            actions=[
                ft.TextButton(t("common.cancel"), on_click=lambda ev: shell.page.pop_dialog(),
                              key="decline.cancel"),
                ft.FilledButton(t("household.decline_confirm"), on_click=confirm, key="decline.confirm"),
            ],
        ))

    def record(outcome: str, come_back: dict[str, Any] | None = None
               ) -> Callable[[ft.Event[ft.Button] | ft.Event[ft.OutlinedButton]], None]:
        def handler(e: ft.Event[ft.Button] | ft.Event[ft.OutlinedButton]) -> None:
            # answering a returned visit replaces it: the old one is taken back, the fix counts once
            replaces = returned.id if h.returned and returned is not None else None
            try:
                recorded = record_outcome(store, hid, outcome, draft, replaces=replaces, come_back=come_back)
            except InvalidEvent as bad:
                shell.snack(reason_text(bad.code), error=True)
                return
            shell.drafts.pop(hid, None)
            shell.changed()
            shell.render()
            said = "household.recorded_fix" if replaces else "household.recorded"
            shell.snack(t(said, outcome=vocab_label(v.OUTCOME, outcome)), undo=lambda: undo(recorded, outcome))
        return handler

    def not_home(e: ft.Event[ft.Button] | ft.Event[ft.OutlinedButton]) -> None:
        """"Không có nhà": when to come back (views/come_back.py), then the visit is recorded."""
        ask_come_back(shell, lambda come_back: record("not_home", come_back)(e))

    def undo(recorded: RecordedVisit, outcome: str) -> None:
        """The undo bar: the visit goes, the statuses its help set go back, the help chosen
        comes back as the draft (so the right outcome is one tap away)."""
        try:
            undo_visit(store, recorded)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        current = shell.drafts.get(hid)
        if not draft.empty and (current is None or current.empty):
            shell.drafts[hid] = draft
        shell.changed()
        shell.render()
        shell.snack(t("household.undone", outcome=vocab_label(v.OUTCOME, outcome)))

    # -- header -------------------------------------------------------------
    status = household_status(h)
    where = hamlet.name if hamlet else ""
    controls: list[ft.Control] = [
        ft.Text(h.address, theme_style=ft.TextThemeStyle.TITLE_LARGE, key="household.address"),
        ft.Row([household_pill(status, key="household.status"),
                ft.Text(" · ".join(x for x in (where, plural("households.people", len(people))) if x),
                        size=14.5, color=C.on_surface_variant)],
               spacing=8, wrap=True),
    ]

    # -- a leader's returned comment ---------------------------------------------
    returned = next((x for x in visits if x.review == "returned"), None)
    if h.returned and returned is not None:
        s = theme.STATUSES["problem"]
        controls.append(card(
            [note(ft.Icons.UNDO, t("household.returned", comment=returned.review_comment or ""),
                  color=s.strong, key="household.returned")],
            bgcolor=s.container, border=s.strong, padding=12,
        ))

    # -- consent first ---------------------------------------------------------------
    editing = shell.ui.get(f"household.{hid}.consent_edit")
    if consent == "unknown" or editing:
        s = theme.STATUSES["revisit"]
        controls.append(card(
            [
                heading(t("household.consent_title")),
                ft.Text(t("household.consent_question"), theme_style=ft.TextThemeStyle.BODY_LARGE),
                ft.Row([
                    ft.FilledButton(t("household.consent_given"), key="consent.given",
                                    on_click=lambda e: set_consent("given"), height=theme.TOUCH_TARGET + 4,
                                    expand=1, style=_TIGHT),
                    ft.OutlinedButton(t("household.consent_declined"), key="consent.declined",
                                      on_click=ask_decline, height=theme.TOUCH_TARGET + 4, expand=1,
                                      style=_TIGHT),
                ], spacing=10),
            ],
            bgcolor=s.container, border=s.strong, key="household.consent",
        ))
    else:
        text = t("household.consent_is_given") if consent == "given" else t("household.consent_is_declined")
        icon = ft.Icons.VERIFIED_OUTLINED if consent == "given" else ft.Icons.BLOCK

        def edit(e: ft.Event[ft.TextButton]) -> None:
            shell.ui[f"household.{hid}.consent_edit"] = True
            shell.render()

        controls.append(ft.Row(
            [ft.Icon(icon, color=C.primary),
             ft.Text(text, theme_style=ft.TextThemeStyle.BODY_MEDIUM, expand=True, key="household.consent_state"),
             ft.TextButton(t("household.consent_change"), on_click=edit, key="consent.change",
                           height=theme.TOUCH_TARGET)],
            spacing=8,
        ))

    # -- people ----------------------------------------------------------------------
    controls.append(ft.Row(
        [ft.Container(heading(t("household.people_title", count=len(people))), expand=True),
         ft.TextButton(t("household.add_person"), icon=ft.Icons.PERSON_ADD_ALT, key="household.add_person",
                       on_click=lambda e: shell.go(f"/households/{hid}/people/new"), height=theme.TOUCH_TARGET,
                       style=_TIGHT)],
        spacing=4,
    ))
    if consent == "unknown":
        controls.append(note(ft.Icons.VISIBILITY_OFF_OUTLINED,
                             t("household.names_after_consent", count=len(people)), key="household.hidden"))
    elif not people:
        controls.append(note(ft.Icons.PERSON_OUTLINE, t("household.no_people"), key="household.no_people"))
    else:
        if consent == "declined":
            controls.append(note(ft.Icons.INFO_OUTLINE, t("household.declined_counts")))
        controls += [_person_card(shell, h, p) for p in people]
        kids = children_panel(people)
        if kids is not None:
            controls.append(kids)

    hint = ft.Container(
        ft.Row([ft.Icon(ft.Icons.PENDING_ACTIONS, color=theme.STATUSES["revisit"].strong),
                ft.Text("", size=14.5, expand=True, key="household.draft")], spacing=8),
        visible=False,
        key="household.draft_box",
    )
    shell.ui[f"household.{hid}.hint"] = hint
    controls.append(hint)
    _refresh_draft_hint(shell, hid)

    # -- visits before (each opens, and can be taken back) ---------------------------------
    if visits:
        controls.append(heading(t("household.visits_title", count=len(visits))))
        names = {p.id: p.label for p in people}
        controls += [visit_row(shell, visit, names) for visit in visits[:10]]

    # -- outcome buttons, pinned -----------------------------------------------------------
    met_disabled = consent == "unknown"
    bottom = ft.Container(
        ft.Column(
            [
                ft.Row([
                    _outcome_button(vocab_label(v.OUTCOME, "met"), "met", record("met"), filled=True,
                                    disabled=met_disabled),
                    _outcome_button(vocab_label(v.OUTCOME, "not_home"), "not_home", not_home,
                                    filled=False, disabled=False),
                ], spacing=8),
                ft.Row([
                    _outcome_button(vocab_label(v.OUTCOME, "refused"), "refused", record("refused"),
                                    filled=False, disabled=False),
                    _outcome_button(vocab_label(v.OUTCOME, "moved"), "moved", record("moved"),
                                    filled=False, disabled=False),
                ], spacing=8),
            ],
            spacing=8,
            tight=True,
        ),
        padding=ft.Padding.only(top=8),
        border=ft.Border.only(top=ft.BorderSide(1, C.outline_variant)),
        key="household.outcomes",
    )
    return shell.pushed_view(route, t("household.title"), controls, bottom=bottom)
