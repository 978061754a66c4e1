"""Teams, and how each member's device syncs (GET /team/devices, /team/quarantined).

A device belongs to a team when it was enrolled for that team, or when the
hamlets it was enrolled for include one of the team's. It belongs to a
commune when it was enrolled for that commune, for a team of that commune,
or for hamlets of that commune. A leader sees the team's devices, an officer
the commune's, an admin everyone's (or one commune's).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ..store import devices as store_devices
from ..store import entities
from ..store import team as store
from ..store.team import DeviceRow, QuarantinedRow
from .access import check_commune, known_commune
from .enrolment import Caller
from .errors import Forbidden, NotFound


@dataclass(frozen=True)
class Member:
    """A member device as the team page shows it (the wire's field names)."""
    device_id: str
    role: str
    team: str | None
    enrolled_at: str
    revoked: bool
    acked_seq: int
    last_push_at: str | None
    last_pull_at: str | None
    quarantined: int
    name: str | None = None  # who holds it, when enrolment told


@dataclass(frozen=True)
class Quarantined:
    device_id: str
    quarantined: list[QuarantinedRow]


@dataclass(frozen=True)
class Membership:
    """Which devices a team (or a commune, or everyone: neither) covers."""
    team_id: str | None = None
    commune: str | None = None
    teams: frozenset[str] = frozenset()
    hamlets: frozenset[str] = frozenset()

    @property
    def everyone(self) -> bool:
        return self.team_id is None and self.commune is None

    def covers(self, row: DeviceRow) -> bool:
        if self.everyone:
            return True
        if row.team_id is not None and row.team_id in self.teams:
            return True
        if self.commune is not None and row.commune == self.commune:
            return True
        return not self.hamlets.isdisjoint(row.hamlets)


def membership(conn: Connection, *, team_id: str | None = None, commune: str | None = None) -> Membership:
    if team_id is not None:
        return Membership(team_id=team_id, teams=frozenset({team_id}),
                          hamlets=store_devices.team_hamlets(conn, team_id))
    if commune is not None:
        return Membership(commune=commune, teams=store.commune_teams(conn, commune),
                          hamlets=entities.hamlet_ids(conn, commune))
    return Membership()


def _membership_of(conn: Connection, who: Caller, commune: str | None) -> Membership:
    """The devices this caller may see: the leader's team, the officer's commune, or (admin) all or one commune."""
    if commune is not None:
        known_commune(commune)
        check_commune(who, commune)
    device = who.device
    if device.role == "leader":
        return membership(conn, team_id=device.team_id or "")
    if device.role == "officer":
        return membership(conn, commune=device.commune or "")
    return membership(conn, commune=commune)


def members(conn: Connection, who: Caller, commune: str | None = None) -> list[Member]:
    """The devices the caller's team or commune covers (an admin: everyone's, or one commune's),
    oldest enrolment first, each with its sync bookkeeping and its count of quarantined events."""
    covered = _membership_of(conn, who, commune)
    if covered.everyone:
        rows = store.device_rows(conn)
    else:
        rows = [r for r in store.device_rows(conn, teams=covered.teams, commune=covered.commune)
                if covered.covers(r)]
    counts = store.quarantined_counts(conn, [r.id for r in rows])
    return [Member(r.id, r.role, r.team_id, r.enrolled_at, r.revoked, r.acked_seq, r.last_push_at, r.last_pull_at,
                   counts.get(r.id, 0), r.name) for r in rows]


def member(conn: Connection, who: Caller, device_id: str) -> DeviceRow:
    """A device the caller's team or commune covers (NotFound, or Forbidden outside it)."""
    row = store.device_row(conn, device_id)
    covered = _membership_of(conn, who, None)
    if row is None and covered.everyone:
        raise NotFound("unknown_device", f"no device {device_id}")
    # An unknown id and another team's device get the same answer: a leader must not learn
    # which device ids exist outside their own team by asking.
    if row is None or not covered.covers(row):
        raise Forbidden("forbidden", f"device {device_id} is outside this device's scope")
    return row


def quarantined(conn: Connection, who: Caller, device_id: str) -> Quarantined:
    """A member device's quarantined events: seq, kind, the server's reason, when it arrived."""
    member(conn, who, device_id)
    return Quarantined(device_id, store.quarantined(conn, device_id))


def create_team(conn: Connection, team_id: str, name: str, commune: str, hamlets: list[str]) -> None:
    """A team of a commune covering some hamlets (`gocua-server team`)."""
    store_devices.insert_team(conn, team_id, name, commune)
    store_devices.add_team_hamlets(conn, team_id, hamlets)


def add_team_hamlets(conn: Connection, team_id: str, hamlets: list[str]) -> None:
    store_devices.add_team_hamlets(conn, team_id, hamlets)
