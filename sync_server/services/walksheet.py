"""The walk sheet (GET /api/v1/exports/walksheet.pdf): a hamlet's households still to visit
or revisit, on paper, for the whole hamlet or the households one volunteer holds.

Who: a leader of the hamlet's team, an officer of its commune, an admin. People's labels
print only for households whose consent is `given`; for the others the sheet says how
many people need what. Every print is audited (export.walksheet.pdf) before the PDF
leaves the server, with the number of rows and no personal data.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from campaign import areas, assignments
from campaign import followup as rules
from campaign.ids import device_short, short_code
from campaign.order import walking_key
from campaign.roles import Capability, can
from campaign.time import local_year

from ..render.rows import WalkRow, WalkSheet
from ..render.text import come_back_text
from ..store import devices, entities
from ..store import followup as store
from ..store.db import read_transaction
from . import team_settings
from .access import check_commune
from .audit import log_read
from .enrolment import Caller
from .errors import Forbidden, NotFound
from .followup import scheduled_in

NEW, REVISIT = "Chưa thăm", rules.label("revisit")


@dataclass(frozen=True)
class Printed:
    pdf: bytes
    hamlet: str
    rows: int


def device_label(device_id: str, names: dict[str, str] | None = None) -> str:
    """How a sheet names a device: its holder's name when enrolment told it (`names`), else
    "Máy 0190F2" (campaign.ids.device_short, as the app says it)."""
    return (names or {}).get(device_id) or f"Máy {device_short(device_id)}"


def _needs(conn: Connection, hamlet_id: str, year: int) -> dict[str, list[tuple[str, list[str]]]]:
    """{household id: [(label, needs)]} for the people of a hamlet who still need the team."""
    booked: set[str] = set()
    for _i, _p, visit in store.visits_mentioning(conn, hamlet_id, rules.HOME_CAPTURE_ACTION):
        booked.update(rules.booked_people(visit))
    scheduled = scheduled_in(conn, hamlet_id)  # holding a capture booking: taken care of (campaign.followup)
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for person_id, household_id, data in store.people(conn, hamlet_id):
        needs = rules.needs(data, year, person_id in booked, person_id in scheduled)
        if needs and household_id is not None:
            out.setdefault(household_id, []).append((data["label"], needs))
    return out


def _need_lines(people: list[tuple[str, list[str]]], consent: str) -> list[str]:
    if consent == "given":
        return [f"{label}: {', '.join(rules.label(n).lower() for n in needs)}" for label, needs in people]
    counts = Counter(n for _label, needs in people for n in needs)
    return [f"{counts[n]} người: {rules.label(n).lower()}" for n in rules.NEEDS if counts[n]]


def _come_back_line(data: dict[str, Any]) -> str:
    """"Hẹn quay lại: Tối, 06/12/2026" for a household whose not-home visit said when; else ""."""
    when = come_back_text(rules.come_back_of(data))
    return f"Hẹn quay lại: {when}" if when else ""


def _check(who: Caller, hamlet_id: str, commune: str, conn: Connection) -> None:
    check_commune(who, commune, conn)
    if not can(who.device.role, Capability.EXPORT) or not who.scope.allows(hamlet_id, commune):
        raise Forbidden("forbidden", "this hamlet is outside this device's scope")


def walk_sheet(engine: Engine, who: Caller, hamlet_id: str, device_id: str | None, now: datetime,
               lapse_days: int | None = None) -> Printed:
    """The sheet's PDF and what the audit row says of it. `now`: when an assignment lapses;
    `lapse_days` None: the setting of the team working the hamlet (services/team_settings.py)."""
    from ..render import pdf  # fpdf2 costs its import only here

    with read_transaction(engine) as conn:
        hamlet = entities.load(conn, [hamlet_id]).get(hamlet_id)
        if hamlet is None or hamlet.type != "hamlet":
            raise NotFound("unknown_hamlet", f"no hamlet {hamlet_id}")
        commune = hamlet.data["commune"]
        _check(who, hamlet_id, commune, conn)
        if device_id is not None and devices.get(conn, device_id) is None:
            raise NotFound("unknown_device", f"no device {device_id}")
        people = _needs(conn, hamlet_id, local_year(now))
        if lapse_days is None:
            lapse_days = team_settings.for_hamlet(conn, hamlet_id).lapse_days
        kept = []  # (household id, its data, the device holding it)
        for household_id, _p, data in store.households(conn, hamlet_id):
            if data.get("visits") and not rules.needs_revisit(data):
                continue
            holder = assignments.holder(data, now, lapse_days)
            if device_id is None or holder == device_id:
                kept.append((household_id, data, holder))
        # the people on paper are named as the app names them: by who holds the phone
        names = devices.names(conn, [who.device.id, *([device_id] if device_id else []),
                                     *(holder for _h, _d, holder in kept if holder)])
        rows = sorted(((walking_key(data["address"]), WalkRow(
            short_code(household_id), data["address"], REVISIT if data.get("visits") else NEW,
            _need_lines(people.get(household_id, []), data.get("consent", "")),
            device_label(holder, names) if holder else "", _come_back_line(data)))
            for household_id, data, holder in kept), key=lambda r: r[0])
    sheet = WalkSheet(hamlet.data["name"], areas.commune(commune).full_name, now, device_label(who.device.id, names),
                      device_label(device_id, names) if device_id else None, [r for _k, r in rows])
    made = pdf.walk_sheet(sheet)
    log_read(engine, who, "export.walksheet.pdf", commune,
             {"format": "pdf", "hamlet": hamlet_id, "device": device_id, "rows": len(rows), "bytes": len(made)},
             [hamlet_id])
    return Printed(made, hamlet.data["name"], len(rows))
