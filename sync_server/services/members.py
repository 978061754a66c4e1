"""A new member of a team (POST /api/v1/team/enrolments): the leader types the name of
the person who will hold the phone and gets a one-time enrolment code for a volunteer of
the team, as a code, a link and (in the app) a QR code.

The code is made by `enrolment.create_enrolment`, as `gocua-server enroll --role volunteer
--team T --name N` makes it, and carries the name: the phone that spends it gets that name,
whatever is typed on it (services/enrolment.py `enrol`). A leader adds to their own team;
an officer to a team of their commune; an admin to any team. Each code made is audited
(`device.enrol`), without the name: the audit log holds no personal data.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ..config import ENROL_CODE_TTL_HOURS
from ..store import devices as store_devices
from . import audit, enrolment
from .access import check_commune
from .enrolment import Caller
from .errors import Forbidden, Invalid, NotFound

__all__ = ["NewMember", "enrolment_by_command", "new_member"]


@dataclass(frozen=True)
class NewMember:
    """The answer: what the new member's phone needs, and whom it is for."""
    code: str  # XXXX-XXXX-XXXX
    url: str  # gocua://enrol?server=…&code=…: the QR code's content
    expires_at: str
    team: str
    name: str


def new_member(conn: Connection, who: Caller, name: str | None, public_url: str, team_id: str | None = None,
               ttl_hours: float = ENROL_CODE_TTL_HOURS) -> NewMember:
    """An enrolment code for a volunteer of `team_id` (a leader: their own team, the default)
    held by `name`. Refuses a missing name (Invalid `missing_name`) or a bad one (`bad_name`),
    an officer or admin who names no team (`missing_scope`), an unknown team (NotFound), and a
    team outside the caller's reach (Forbidden)."""
    checked = enrolment.checked_name(name)
    if checked is None:
        raise Invalid("missing_name", "a new member needs the name of the person who will hold the phone")
    if who.device.role == "leader":
        if team_id is not None and team_id != who.device.team_id:
            raise Forbidden("forbidden", "a leader adds members to their own team only")
        team_id = who.device.team_id
    if not team_id:
        raise Invalid("missing_scope", "name the team the new member joins")
    commune = store_devices.team_commune(conn, team_id)
    if commune is None:
        raise NotFound("unknown_team", f"no team {team_id!r}")
    check_commune(who, commune)  # an officer of another commune: Forbidden
    made = enrolment.create_enrolment(conn, "volunteer", team_id=team_id, ttl_hours=ttl_hours, name=checked)
    audit.record(conn, who, "device.enrol", commune,
                 detail={"role": "volunteer", "team": team_id, "named": True})
    return NewMember(made.code, enrolment.enrolment_url(public_url, made.code), made.expires_at, team_id, checked)


def enrolment_by_command(conn: Connection, role: str, team_id: str | None = None, commune: str | None = None,
                         hamlets: list[str] | None = None, ttl_hours: float = ENROL_CODE_TTL_HOURS,
                         name: str | None = None) -> enrolment.EnrolmentCode:
    """`gocua-server enroll`: a code for any role, audited as the app's new-member codes are
    (`device.enrol`, by the command line, without the name), so the audit log shows every
    enrolment code made, whoever made it."""
    made = enrolment.create_enrolment(conn, role, team_id, commune, hamlets, ttl_hours=ttl_hours, name=name)
    if commune is None and team_id is not None:
        commune = store_devices.team_commune(conn, team_id)
    detail: dict[str, object] = {"role": role, "named": name is not None}
    if team_id is not None:
        detail["team"] = team_id
    if hamlets:
        detail["hamlets"] = len(hamlets)
    audit.record(conn, None, "device.enrol", commune, detail=detail)
    return made
