"""A capture session's fields (kind, place, day, hours, capacity) as the officer types them, for
the new-session form and the edit form of the roster screen (views/sessions.py): the same
boxes, read into a session's data the same way. The event's validation (campaign) says what is
wrong; the screens show it in the user's language (reason_text)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import flet as ft

from campaign import vocabulary as v
from campaign.events import parse_at
from campaign.time import VIETNAM
from field_app.i18n import t, vocab_label

MIN_CAPACITY, MAX_CAPACITY = 1, 500  # the wire's bounds (shared/DESIGN.md: capacity 1–500)
OFFSET = "+07:00"  # sessions are typed in Vietnam's time
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class BadField(ValueError):
    """A box the officer filled so no session can be made of it: `key` names the sentence to show
    (sessions.bad_*), before any event is written (the event's own codes speak of clocks)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class SessionFields:
    kinds: ft.Row
    place: ft.TextField
    day: ft.TextField
    hours: ft.TextField
    capacity: ft.TextField
    kind: str

    def controls(self) -> list[ft.Control]:
        return [self.kinds, self.place, ft.Row([self.day, self.hours]), ft.Row([self.capacity])]

    def data(self) -> dict[str, Any]:
        """The session's data as typed: kind, place, starts_at, ends_at, capacity. Raises BadField."""
        place = (self.place.value or "").strip()
        if not place:
            raise BadField("sessions.bad_place")
        day = (self.day.value or "").strip()
        try:
            date.fromisoformat(day)
        except ValueError:
            raise BadField("sessions.bad_day") from None
        if not _DAY.match(day):
            raise BadField("sessions.bad_day")
        start, _, end = ((self.hours.value or "").replace("–", "-")).partition("-")
        times = [_HOURS.match(x.strip()) for x in (start, end)]
        if not all(times):
            raise BadField("sessions.bad_hours")
        begin, finish = (f"{int(m.group(1)):02d}:{m.group(2)}" for m in times if m)
        if finish <= begin:
            raise BadField("sessions.bad_hours")
        capacity = int(self.capacity.value) if (self.capacity.value or "").isdigit() else 0
        if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            raise BadField("sessions.bad_capacity")
        return {"kind": self.kind, "place": place, "starts_at": f"{day}T{begin}:00{OFFSET}",
                "ends_at": f"{day}T{finish}:00{OFFSET}", "capacity": capacity}


def session_fields(prefix: str, session: dict[str, Any] | None = None) -> SessionFields:
    """The boxes, keyed `<prefix>.place` …, filled from a session's data when given."""
    day = hours = ""
    if session is not None:
        start, end = (parse_at(session[k]).astimezone(VIETNAM) for k in ("starts_at", "ends_at"))
        day, hours = f"{start:%Y-%m-%d}", f"{start:%H:%M}-{end:%H:%M}"
    place = ft.TextField(label=t("sessions.place"), key=f"{prefix}.place", max_length=120, counter="",
                         value=str(session["place"]) if session else "")
    day_box = ft.TextField(label=t("sessions.day"), hint_text="2026-12-05", key=f"{prefix}.day", expand=True,
                           value=day)
    hours_box = ft.TextField(label=t("sessions.hours"), hint_text="08:00-11:30", key=f"{prefix}.hours",
                             expand=True, value=hours)
    capacity = ft.TextField(label=t("sessions.capacity"), value=str(session["capacity"]) if session else "30",
                            key=f"{prefix}.capacity", keyboard_type=ft.KeyboardType.NUMBER,
                            input_filter=ft.NumbersOnlyInputFilter(), expand=True)
    chosen = session["kind"] if session else "mobile_capture"
    kinds = ft.Row([ft.Chip(label=ft.Text(vocab_label(v.SESSION_KIND, code)), selected=code == chosen,
                            key=f"{prefix}.kind.{code}") for code in v.SESSION_KIND.codes], wrap=True)
    fields = SessionFields(kinds, place, day_box, hours_box, capacity, chosen)

    def pick(code: str) -> Callable[[Any], None]:
        def handler(e: Any) -> None:
            fields.kind = code
            for chip in kinds.controls:
                chip.selected = chip.key == f"{prefix}.kind.{code}"  # type: ignore[attr-defined]
            kinds.update()
        return handler

    for chip, code in zip(kinds.controls, v.SESSION_KIND.codes, strict=True):
        chip.on_select = pick(code)  # type: ignore[attr-defined]
    return fields
