"""The typed rows render/ takes, built by the services: a totals table, the follow-up rows.

The follow-up rows are also what GET /api/v1/followup answers (`wire()`, the field
names of the wire)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TotalsTable:
    """Totals by hamlet (or team, or day): campaign.totals.row()s, and their total row."""
    rows: list[dict[str, Any]]
    total: dict[str, Any]


@dataclass(frozen=True)
class PersonNeed:
    """A person with a need (the wire's field names)."""
    hamlet_id: str
    hamlet: str
    household_id: str
    address: str
    person_id: str
    label: str
    birth_year: int | None
    card: str
    vneid: str
    blockers: list[str]
    needs: list[str]

    def wire(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HouseholdRevisit:
    """A household nobody was home at (the wire's field names)."""
    hamlet_id: str
    hamlet: str
    household_id: str
    address: str
    visits: int
    last_visit_at: str | None
    needs: list[str] = field(default_factory=lambda: ["revisit"])
    come_back: dict[str, Any] | None = None  # {"window", "on"}: when the not-home visit said to come back

    def wire(self) -> dict[str, Any]:
        return asdict(self)


FollowupRow = PersonNeed | HouseholdRevisit


@dataclass(frozen=True)
class CampaignTerms:
    """What the workbook says of a campaign."""
    name: str
    target_kind: str  # people | percent
    target_value: int
    start: str
    deadline: str
    ends: str | None


@dataclass(frozen=True)
class WorkbookAbout:
    """The workbook's "Thông tin" sheet: what it covers, who made it, when."""
    commune: str
    commune_name: str
    province: str
    campaign: CampaignTerms | None
    whole_commune: bool
    made_at: datetime
    device_id: str | None  # None: the command line
    role: str
    name: str | None = None  # who holds that device, when enrolment told it


@dataclass(frozen=True)
class WorkbookMade:
    """What a workbook holds, as its audit row records it (no personal data)."""
    hamlets: int
    followup_people: int
    followup_households: int
    followup: dict[str, int]  # need -> rows, those with any

    def detail(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WalkRow:
    """One household on a walk sheet, worded already (the renderer only lays it out)."""
    code: str  # campaign.ids.short_code
    address: str
    why: str  # "Chưa thăm" or "Đến lại (không có nhà)"
    needs: list[str]  # who still needs what, one line each
    holder: str  # the volunteer assigned, or "" for the pool
    come_back: str = ""  # to revisit: "Hẹn quay lại: Tối, 06/12/2026" when the not-home visit said when


@dataclass(frozen=True)
class WalkSheet:
    hamlet: str
    commune: str  # its full name
    made_at: datetime
    made_by: str
    volunteer: str | None  # the sheet of one volunteer, or None for the whole hamlet
    rows: list[WalkRow]


# ---- a capture session's roster (services/sessions.py, render/roster.py) ----------------

@dataclass(frozen=True)
class SessionSummary:
    id: str
    commune: str
    kind: str
    starts_at: str
    ends_at: str
    place: str
    capacity: int
    cancelled: bool
    booked: int  # bookings holding a place (booked, attended, no_show)
    overbooked: int


@dataclass(frozen=True)
class RosterRow:
    booking: str
    position: int | None  # 1, 2 … in hold order among the bookings holding a place; None if cancelled
    status: str
    overbooked: bool
    person: str  # the person it counts for (a merged duplicate's: the one kept)
    label: str
    birth_year: int | None
    address: str
    hamlet_id: str | None
    hamlet: str


@dataclass(frozen=True)
class Roster:
    session: SessionSummary
    rows: list[RosterRow]
