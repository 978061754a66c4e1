"""Capture sessions on the phone (/totals/sessions): the commune's sessions this device holds,
soonest first; officers (and admins) add one (place, day, hours, capacity: a session.created
that syncs like any change); each opens its roster (/totals/sessions/:id): the people booked in
the order they hold places, those past capacity flagged "Quá chỗ", and for leaders and officers
one tap for attended or no-show (booking.updated) and, past capacity or in a cancelled session,
a move to another session. A no-show goes back on the home-capture list. Officers edit the
session there (session.updated with what changed) or cancel it (cancelled: its people go back
on the follow-up lists) and reopen it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from campaign import sessions as rules
from campaign import vocabulary as v
from campaign.entity import Entity
from campaign.events import InvalidEvent
from campaign.ids import uuid7
from campaign.roles import Capability, can
from field_app import theme
from field_app.i18n import t, vocab_label

from .booking import STATUS_PILL, when_text
from .common import C, card, heading, note, pill, reason_text
from .session_form import BadField, session_fields
from .shell import Shell

LIST = "/totals/sessions"


def _commune(shell: Shell) -> str | None:
    communes = sorted({h.commune for h in shell.store.hamlets() if h.commune})
    return communes[0] if communes else None


def sessions_view(shell: Shell, params: dict[str, str]) -> ft.View:
    store = shell.store
    rows: list[ft.Control] = []
    for s in store.sessions():
        d = s.data
        bookings = store.bookings_in(s.id)
        held = sum(1 for b in bookings if b.data.get("status") in rules.HOLDING)
        late = len(rules.overbooked(d["capacity"], bookings))
        line: list[ft.Control] = [ft.Text(d["place"], size=15.5, font_family=theme.FONT_SEMIBOLD),
                ft.Text(f"{vocab_label(v.SESSION_KIND, d['kind'])} · {when_text(d['starts_at'], d['ends_at'])}",
                        size=13.5, color=C.on_surface_variant),
                ft.Row([pill("done" if not late else "problem", t("sessions.places", booked=held,
                                                                    capacity=d["capacity"]), small=True),
                        *([pill("problem", t("sessions.overbooked", count=late), small=True)] if late else []),
                        *([pill("problem", t("sessions.cancelled"), small=True)] if d.get("cancelled") else [])],
                       wrap=True, spacing=6)]
        rows.append(ft.Container(card(line, padding=12, spacing=4), key=f"sessions.{s.id}", ink=True,
                                 on_click=lambda e, sid=s.id: shell.go(f"{LIST}/{sid}")))
    if not rows:
        rows.append(note(ft.Icons.EVENT_BUSY, t("sessions.none"), key="sessions.none"))
    controls: list[ft.Control] = [*rows]
    if can(shell.role, Capability.MANAGE_SESSIONS):
        controls = [*_create_form(shell), heading(t("sessions.title")), *rows]
    return shell.pushed_view(LIST, t("sessions.title"), controls)


def _create_form(shell: Shell) -> list[ft.Control]:
    fields = session_fields("sessions.new")

    def add(e: Any) -> None:
        try:
            data = {"commune": _commune(shell), **fields.data()}
            shell.store.record("session.created", uuid7(), data)
        except BadField as bad:
            shell.snack(t(bad.key), error=True)
            return
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.render()
        shell.snack(t("sessions.added"))

    return [card([heading(t("sessions.new")), *fields.controls(),
                  theme.big_button(t("sessions.add"), icon=ft.Icons.ADD, on_click=add, key="sessions.new.add")],
                 padding=12, spacing=8)]


def _edit_card(shell: Shell, session: Entity) -> ft.Control:
    """The officer's edit of a session (session.updated with what changed) and its cancelling
    (session.updated cancelled: its people go back on the follow-up lists) or reopening."""
    fields = session_fields("session.edit", session.data)
    cancelled = bool(session.data.get("cancelled"))
    form = ft.Column([*fields.controls(), theme.big_button(t("sessions.save"), icon=ft.Icons.SAVE,
                                                            key="session.edit.save", on_click=lambda e: save())],
                     spacing=8, visible=False, key="session.edit.form")
    confirm = ft.Column([ft.Text(t("sessions.cancel_sure"), size=14),
                         theme.big_button(t("sessions.cancel_yes"), icon=ft.Icons.EVENT_BUSY,
                                          key="session.cancel.yes", on_click=lambda e: write({"cancelled": True},
                                                                                             "sessions.cancelled_now"))],
                        spacing=8, visible=False, key="session.cancel.confirm")

    def write(changes: dict[str, Any], said: str) -> None:
        try:
            shell.store.record("session.updated", session.id, changes)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.render()
        shell.snack(t(said))

    def save() -> None:
        try:
            typed = fields.data()
        except BadField as bad:
            shell.snack(t(bad.key), error=True)
            return
        changes = {k: val for k, val in typed.items() if session.data.get(k) != val}
        if not changes:
            shell.snack(t("sessions.unchanged"))
            return
        write(changes, "sessions.saved")

    def toggle(box: ft.Column) -> Callable[[Any], None]:
        def handler(e: Any) -> None:
            box.visible = not box.visible
            box.update()
        return handler

    buttons: list[ft.Control] = [ft.OutlinedButton(t("sessions.edit"), icon=ft.Icons.EDIT, key="session.edit",
                                                   height=theme.TOUCH_TARGET, on_click=toggle(form))]
    if cancelled:
        buttons.append(ft.OutlinedButton(t("sessions.reopen"), icon=ft.Icons.EVENT_AVAILABLE, key="session.reopen",
                                         height=theme.TOUCH_TARGET,
                                         on_click=lambda e: write({"cancelled": False}, "sessions.reopened")))
    else:
        buttons.append(ft.OutlinedButton(t("sessions.cancel"), icon=ft.Icons.EVENT_BUSY, key="session.cancel",
                                         height=theme.TOUCH_TARGET, on_click=toggle(confirm)))
    return card([ft.Row(buttons, wrap=True), confirm, form], padding=12, spacing=8, key="session.manage")


def _move_row(shell: Shell, booking: Entity, targets: list[Entity]) -> ft.Control:
    """Where a booking past capacity (or in a cancelled session) can go: another session that is
    not cancelled, one tap (Store.move_booking: cancelled here, booked there, both or neither)."""
    to = ft.Dropdown(key=f"roster.move_to.{booking.id}", label=t("sessions.move_to"), expand=True,
                     value=targets[0].id, options=[ft.DropdownOption(key=s.id, text=_session_line(shell, s))
                                                   for s in targets])

    def move(e: Any) -> None:
        if not to.value:
            return
        try:
            shell.store.move_booking(booking.id, to.value)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.render()
        shell.snack(t("sessions.moved"))

    return ft.Column([ft.Row([to]), ft.OutlinedButton(t("sessions.move"), icon=ft.Icons.MOVE_UP,
                                                      key=f"roster.move.{booking.id}", height=theme.TOUCH_TARGET,
                                                      on_click=move)], spacing=6)


def _session_line(shell: Shell, session: Entity) -> str:
    d = session.data
    held = sum(1 for b in shell.store.bookings_in(session.id) if b.data.get("status") in rules.HOLDING)
    return t("sessions.target", place=d["place"], when=when_text(d["starts_at"], d["ends_at"]),
             places=t("sessions.places", booked=held, capacity=d["capacity"]))


def roster_view(shell: Shell, params: dict[str, str]) -> ft.View:
    store = shell.store
    sid = params["id"]
    route = f"{LIST}/{sid}"
    session = next((s for s in store.sessions() if s.id == sid), None)
    if session is None:
        return shell.pushed_view(route, t("sessions.roster"), [note(ft.Icons.ERROR_OUTLINE, t("sessions.none"))])
    bookings = store.bookings_in(sid)
    late = rules.overbooked(session.data["capacity"], bookings)
    may_mark = can(shell.role, Capability.RECORD_ATTENDANCE)
    cancelled = bool(session.data.get("cancelled"))
    targets = [s for s in store.sessions() if s.id != sid and not s.data.get("cancelled")]

    def mark(booking_id: str, status: str) -> Callable[[Any], None]:
        def handler(e: Any) -> None:
            try:
                store.record("booking.updated", booking_id, {"status": status})
            except InvalidEvent as bad:
                shell.snack(reason_text(bad.code), error=True)
                return
            shell.changed()
            shell.render()
        return handler

    when = when_text(session.data["starts_at"], session.data["ends_at"])
    rows: list[ft.Control] = [ft.Text(f"{session.data['place']} · {when}", size=14, color=C.on_surface_variant)]
    if cancelled:
        rows.append(note(ft.Icons.EVENT_BUSY, t("sessions.cancelled_note"), key="roster.cancelled"))
    if can(shell.role, Capability.MANAGE_SESSIONS):
        rows.append(_edit_card(shell, session))
    position = 0
    for b in rules.hold_order(bookings):
        status = str(b.data.get("status"))
        position += status in rules.HOLDING
        person = store.person(str(b.data["person_id"]))
        pills: list[ft.Control] = [pill(STATUS_PILL.get(status, "revisit"), vocab_label(v.BOOKING_STATUS, status), small=True,
                      key=f"roster.status.{b.id}")]
        if b.id in late:
            pills.append(pill("problem", t("sessions.late"), small=True, key=f"roster.late.{b.id}"))
        line: list[ft.Control] = [
            ft.Text(f"{position if status in rules.HOLDING else '–'}. {person.label if person else '?'}",
                    size=15.5, font_family=theme.FONT_SEMIBOLD),
            ft.Row(pills, wrap=True, spacing=6)]
        if may_mark and status in ("booked", "no_show", "attended"):
            line.append(ft.Row([
                ft.OutlinedButton(vocab_label(v.BOOKING_STATUS, "attended"), key=f"roster.attended.{b.id}",
                                  height=theme.TOUCH_TARGET, on_click=mark(b.id, "attended")),
                ft.OutlinedButton(vocab_label(v.BOOKING_STATUS, "no_show"), key=f"roster.no_show.{b.id}",
                                  height=theme.TOUCH_TARGET, on_click=mark(b.id, "no_show"))], wrap=True))
        if may_mark and status == "booked" and (b.id in late or cancelled) and targets:
            line.append(_move_row(shell, b, targets))
        rows.append(card(line, padding=12, spacing=4, key=f"roster.{b.id}"))
    if not bookings:
        rows.append(note(ft.Icons.EVENT_AVAILABLE, t("sessions.empty")))
    return shell.pushed_view(route, t("sessions.roster"), rows)


def register(shell: Shell) -> None:
    shell.register_detail(LIST, sessions_view)
    shell.register_detail(LIST + "/:id", roster_view)
