"""Capture sessions on the phone (/totals/sessions): the commune's sessions this device holds,
soonest first; officers (and admins) add one (place, day, hours, capacity: a session.created
that syncs like any change); each opens its roster (/totals/sessions/:id): the people booked in
the order they hold places, those past capacity flagged "Quá chỗ", and for leaders and officers
one tap for attended or no-show (booking.updated). A no-show goes back on the home-capture list."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from campaign import sessions as rules
from campaign import vocabulary as v
from campaign.events import InvalidEvent
from campaign.ids import uuid7
from campaign.roles import Capability, can
from field_app import theme
from field_app.i18n import t, vocab_label

from .booking import STATUS_PILL, when_text
from .common import C, card, heading, note, pill, reason_text
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
    place = ft.TextField(label=t("sessions.place"), key="sessions.new.place", max_length=120, counter="")
    day = ft.TextField(label=t("sessions.day"), hint_text="2026-12-05", key="sessions.new.day", expand=True)
    hours = ft.TextField(label=t("sessions.hours"), hint_text="08:00-11:30", key="sessions.new.hours", expand=True)
    capacity = ft.TextField(label=t("sessions.capacity"), value="30", key="sessions.new.capacity",
                            keyboard_type=ft.KeyboardType.NUMBER, input_filter=ft.NumbersOnlyInputFilter(),
                            expand=True)
    kind = {"value": "mobile_capture"}
    kinds = ft.Row([ft.Chip(label=ft.Text(vocab_label(v.SESSION_KIND, code)), selected=code == kind["value"],
                            key=f"sessions.new.kind.{code}") for code in v.SESSION_KIND.codes], wrap=True)

    def pick(code: str) -> Callable[[Any], None]:
        def handler(e: Any) -> None:
            kind["value"] = code
            for chip in kinds.controls:
                chip.selected = chip.key == f"sessions.new.kind.{code}"  # type: ignore[attr-defined]
            kinds.update()
        return handler

    for chip, code in zip(kinds.controls, v.SESSION_KIND.codes, strict=True):
        chip.on_select = pick(code)  # type: ignore[attr-defined]

    def add(e: Any) -> None:
        commune = _commune(shell)
        start, _, end = (hours.value or "").partition("-")
        data = {"commune": commune, "kind": kind["value"], "place": (place.value or "").strip(),
                "starts_at": f"{(day.value or '').strip()}T{start.strip()}:00+07:00",
                "ends_at": f"{(day.value or '').strip()}T{end.strip()}:00+07:00",
                "capacity": int(capacity.value) if (capacity.value or "").isdigit() else 0}
        try:
            shell.store.record("session.created", uuid7(), data)
        except InvalidEvent as bad:
            shell.snack(reason_text(bad.code), error=True)
            return
        shell.changed()
        shell.render()
        shell.snack(t("sessions.added"))

    return [card([heading(t("sessions.new")), kinds, place, ft.Row([day, hours]), ft.Row([capacity]),
                  theme.big_button(t("sessions.add"), icon=ft.Icons.ADD, on_click=add, key="sessions.new.add")],
                 padding=12, spacing=8)]


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
        rows.append(card(line, padding=12, spacing=4, key=f"roster.{b.id}"))
    if not bookings:
        rows.append(note(ft.Icons.EVENT_AVAILABLE, t("sessions.empty")))
    return shell.pushed_view(route, t("sessions.roster"), rows)


def register(shell: Shell) -> None:
    shell.register_detail(LIST, sessions_view)
    shell.register_detail(LIST + "/:id", roster_view)
