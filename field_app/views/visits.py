"""A household's visits before: each one opens (what was recorded, the
leader's review) and can be taken back (`visit.voided`, after a confirm).

The undo bar after an outcome tap (household.py) takes back the visit just
recorded and puts back the VNeID statuses its help changed. Taking back an
older visit here leaves the people's statuses as they are (someone may have
changed them since): the confirm says so, and the person screen fixes them.
A visit taken back counts nowhere and leaves the list.
"""
from __future__ import annotations

from datetime import date

import flet as ft

from campaign import vocabulary as v
from campaign.events import MAX_NOTE, InvalidEvent
from campaign.roles import may_void
from field_app import theme
from field_app.i18n import t, vocab_label
from field_app.store import VisitRow

from .come_back import today_of
from .common import C, outcome_icon, pill, reason_text, relative_time
from .models.come_back import come_back_text
from .shell import Shell

__all__ = ["may_take_back", "visit_row"]


def may_take_back(shell: Shell, visit: VisitRow) -> bool:
    """This device may take the visit back: its own, or any for a leader (campaign.roles)."""
    return may_void(shell.role, own=visit.device_id == shell.store.device_id)


def visit_row(shell: Shell, visit: VisitRow, names: dict[str, str]) -> ft.Control:
    """One visit in the household's list; a tap opens it."""
    lines: list[ft.Control] = [
        ft.Text(t("household.visit_line", when=relative_time(visit.at),
                  outcome=vocab_label(v.OUTCOME, visit.outcome))
                + (f" · {come_back_text(visit.come_back, today_of(shell))}" if visit.come_back else ""),
                font_family=theme.FONT_MEDIUM, size=15),
    ]
    if visit.actions:
        lines.append(ft.Text(", ".join(vocab_label(v.ACTIONS, a) for a in visit.actions),
                             size=14, color=C.on_surface_variant))
    if visit.review == "returned":
        lines.append(pill("problem", t("household.review_returned", comment=visit.review_comment or ""),
                          icon=ft.Icons.UNDO, small=True))
    elif visit.review == "approved":
        lines.append(pill("done", t("household.review_approved"), small=True))
    return ft.Container(
        ft.Row(
            [ft.Icon(outcome_icon(visit.outcome), color=C.on_surface_variant),
             ft.Column(lines, spacing=2, expand=True, tight=True),
             ft.Icon(ft.Icons.CHEVRON_RIGHT, color=C.on_surface_variant)],
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
        on_click=lambda e: open_visit(shell, visit, names),
        ink=True,
        padding=ft.Padding.symmetric(vertical=6),
        key=f"visit.{visit.id}",
    )


def _details(visit: VisitRow, names: dict[str, str], today: date) -> list[ft.Control]:
    out: list[ft.Control] = [ft.Text(t("visit.when", when=relative_time(visit.at)), size=15),
                             ft.Text(t("visit.outcome", outcome=vocab_label(v.OUTCOME, visit.outcome)), size=15)]
    if visit.come_back:
        out.append(ft.Text(t("visit.come_back", when=come_back_text(visit.come_back, today)), size=15,
                           key="visit.come_back"))
    if visit.actions:
        out.append(ft.Text(t("visit.actions", actions=", ".join(vocab_label(v.ACTIONS, a) for a in visit.actions)),
                           size=15))
    if visit.people_helped:
        out.append(ft.Text(t("visit.people", names=", ".join(names.get(p, "?") for p in visit.people_helped)),
                           size=15))
    if visit.note:
        out.append(ft.Text(t("visit.note", note=visit.note), size=15))
    if visit.review == "returned":
        out.append(ft.Text(t("household.review_returned", comment=visit.review_comment or ""), size=15))
    elif visit.review == "approved":
        out.append(ft.Text(t("household.review_approved"), size=15))
    return out


def open_visit(shell: Shell, visit: VisitRow, names: dict[str, str]) -> None:
    """The visit in a dialog: what was recorded; "Rút lại lượt thăm" when this device may."""
    page = shell.page
    actions: list[ft.Control] = [ft.TextButton(t("common.close"), on_click=lambda e: page.pop_dialog(),
                                               key="visit.close")]
    if may_take_back(shell, visit):
        def ask(e: object) -> None:
            page.pop_dialog()
            confirm_take_back(shell, visit)
        actions.insert(0, ft.TextButton(t("visit.take_back"), icon=ft.Icons.UNDO, on_click=ask,
                                        key="visit.take_back",
                                        style=ft.ButtonStyle(color=theme.STATUSES["problem"].strong)))
    page.show_dialog(ft.AlertDialog(
        title=ft.Text(t("visit.title")),
        content=ft.Column(_details(visit, names, today_of(shell)), tight=True, spacing=6),
        actions=actions,
    ))


def confirm_take_back(shell: Shell, visit: VisitRow) -> None:
    """Ask once, with an optional reason; then `visit.voided`."""
    page = shell.page
    reason = ft.TextField(label=t("visit.reason"), max_length=MAX_NOTE, multiline=True, min_lines=1,
                          max_lines=3, key="visit.reason")

    def confirm(e: object) -> None:
        page.pop_dialog()
        try:
            shell.store.void_visit(visit.id, (reason.value or "").strip())
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.render()
        shell.snack(t("visit.taken_back", outcome=vocab_label(v.OUTCOME, visit.outcome)))

    page.show_dialog(ft.AlertDialog(
        modal=True,
        title=ft.Text(t("visit.take_back_title")),
        content=ft.Column(
            [ft.Text(t("visit.take_back_body", when=relative_time(visit.at),
                       outcome=vocab_label(v.OUTCOME, visit.outcome))),
             *([ft.Text(t("visit.take_back_statuses"), size=14, color=C.on_surface_variant)]
               if visit.people_helped else []),
             reason],
            tight=True, spacing=10,
        ),
        actions=[
            ft.TextButton(t("common.cancel"), on_click=lambda e: page.pop_dialog(), key="visit.take_back_cancel"),
            ft.FilledButton(t("visit.take_back_confirm"), on_click=confirm, key="visit.take_back_confirm",
                            style=ft.ButtonStyle(bgcolor=theme.STATUSES["problem"].strong)),
        ],
    ))
