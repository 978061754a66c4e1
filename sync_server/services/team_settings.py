"""A team's settings (GET/PUT /api/v1/team/settings): the review's sample rate ("one in N
visits looked at closely") and the walk lists' lapse days (campaign/team_settings.py).

Who: the team's own leader reads and changes them; an officer of the team's commune
reads and changes them too (they run the commune's teams); an admin any team's.
Volunteers and leaders of other teams: Forbidden (docs/leader.md, "Team settings").
A change is written with its audit row (team.settings). Phones get their team's
settings on their last pull page (`for_device`); the walk sheet uses the settings of
the team that works the hamlet (`for_hamlet`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from campaign.roles import Capability, can
from campaign.team_settings import BadSetting, TeamSettings, checked

from ..store import devices as store_devices
from ..store import team_settings as store
from ..store.devices import Device
from . import audit, clock
from .enrolment import Caller
from .errors import Forbidden, Invalid, NotFound

__all__ = ["Settings", "for_device", "for_hamlet", "put", "show"]


@dataclass(frozen=True)
class Settings:
    """A team's settings as the API answers them."""
    team: str
    sample_every: int
    lapse_days: int


def _check(conn: Connection, who: Caller, team_id: str) -> str:
    """The team's commune, when `who` may read and change its settings."""
    commune = store_devices.team_commune(conn, team_id)
    if commune is None:
        raise NotFound("unknown_team", f"no team {team_id!r}")
    role = who.device.role
    if not can(role, Capability.TEAM_SETTINGS):
        raise Forbidden("forbidden", "this device may not see team settings")
    if role == "leader" and who.device.team_id != team_id:
        raise Forbidden("forbidden", "a leader sees the settings of their own team only")
    if role == "officer" and who.device.commune != commune:
        raise Forbidden("forbidden", f"team {team_id} is outside this officer's commune")
    return commune


def _settings(conn: Connection, team_id: str) -> TeamSettings:
    return store.get(conn, team_id) or TeamSettings()


def show(conn: Connection, who: Caller, team_id: str) -> Settings:
    _check(conn, who, team_id)
    found = _settings(conn, team_id)
    return Settings(team_id, found.sample_every, found.lapse_days)


def put(conn: Connection, who: Caller, team_id: str, body: dict[str, Any]) -> Settings:
    """Change some or all of the team's settings (validated by campaign's rule), with the audit
    row. Call in a write transaction; nothing changes when refused."""
    commune = _check(conn, who, team_id)
    try:
        changed = checked(body, _settings(conn, team_id))
    except BadSetting as exc:  # each code spelled out: tests/server/test_error_codes.py reads them
        if exc.code == "bad_sample_every":
            raise Invalid("bad_sample_every", str(exc)) from exc
        if exc.code == "bad_lapse_days":
            raise Invalid("bad_lapse_days", str(exc)) from exc
        raise Invalid("unknown_field", str(exc)) from exc
    store.put(conn, team_id, changed, clock.now_iso())
    audit.record(conn, who, "team.settings", commune, detail={"team": team_id, **changed.as_wire()})
    return Settings(team_id, changed.sample_every, changed.lapse_days)


def for_device(conn: Connection, device: Device) -> TeamSettings:
    """The settings a phone works with: its team's, else those of the team working its hamlets,
    else the defaults."""
    team_id = device.team_id or store.team_of_hamlets(conn, sorted(device.hamlets))
    return _settings(conn, team_id) if team_id else TeamSettings()


def for_hamlet(conn: Connection, hamlet_id: str) -> TeamSettings:
    """The settings of the team that works the hamlet (the defaults when no team does)."""
    team_id = store.team_of_hamlets(conn, [hamlet_id])
    return _settings(conn, team_id) if team_id else TeamSettings()
