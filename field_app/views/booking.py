"""The person screen's capture bookings: the commune's sessions this phone holds (pulled from
the server: an officer makes them), each a tap to book this person into, offline. A phone cannot
know a session is full, so a booking is never refused for capacity (campaign.sessions): the
officer's roster flags those past it. A person already booked sees their bookings' status."""
from __future__ import annotations

from collections.abc import Callable

import flet as ft

from campaign import vocabulary as v
from campaign.events import InvalidEvent, parse_at
from campaign.time import VIETNAM
from field_app import theme
from field_app.i18n import t, vocab_label
from field_app.store import Store

from .common import C, card, heading, pill, reason_text

STATUS_PILL = {"booked": "revisit", "attended": "done", "no_show": "problem", "cancelled": "problem"}


def when_text(starts_at: str, ends_at: str) -> str:
    start, end = (parse_at(x).astimezone(VIETNAM) for x in (starts_at, ends_at))
    return f"{start:%d/%m} {start:%H:%M}–{end:%H:%M}"


def booking_panel(store: Store, person_id: str, said: Callable[[str, bool], None]) -> ft.Control | None:
    """None when the phone holds no session that is not cancelled."""
    sessions = [s for s in store.sessions() if not s.data.get("cancelled")]
    if not sessions:
        return None
    box = ft.Column(spacing=8, key="booking.panel")

    def paint() -> None:
        mine = {b.parent_id: b for b in store.bookings_of(person_id) if b.data.get("status") != "cancelled"}
        rows: list[ft.Control] = [heading(t("booking.title"))]
        for s in sessions:
            d = s.data
            line: list[ft.Control] = [ft.Column([
                ft.Text(d["place"], size=15, font_family=theme.FONT_SEMIBOLD),
                ft.Text(f"{vocab_label(v.SESSION_KIND, d['kind'])} · {when_text(d['starts_at'], d['ends_at'])}",
                        size=13.5, color=C.on_surface_variant),
            ], spacing=0, expand=True)]
            held = mine.get(s.id)
            if held is not None:
                status = str(held.data.get("status"))
                line.append(pill(STATUS_PILL.get(status, "revisit"), vocab_label(v.BOOKING_STATUS, status),
                                 small=True, key=f"booking.status.{s.id}"))
            else:
                line.append(ft.OutlinedButton(t("booking.book"), key=f"booking.book.{s.id}",
                                              height=theme.TOUCH_TARGET, on_click=book(s.id)))
            rows.append(ft.Row(line, vertical_alignment=ft.CrossAxisAlignment.CENTER))
        rows.append(ft.Text(t("booking.hint"), size=13.5, color=C.on_surface_variant))
        box.controls = [card(rows, padding=12, spacing=8)]

    def book(session_id: str) -> Callable[[ft.Event[ft.OutlinedButton]], None]:
        def handler(e: ft.Event[ft.OutlinedButton]) -> None:
            try:
                store.book(session_id, person_id)
            except InvalidEvent as bad:
                said(reason_text(bad.code), True)
                return
            paint()
            box.update()
            said(t("booking.done"), False)
        return handler

    paint()
    return box
