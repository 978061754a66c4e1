"""Who is on a team, or in a commune, and how their devices sync.

A device belongs to a team when it was enrolled for that team, or when the
hamlets it was enrolled for include one of the team's. It belongs to a
commune when it was enrolled for that commune, for a team of that commune,
or for hamlets of that commune. Only the `devices` table and counts of
quarantined events are read: never an event's body, so no personal data.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import Connection, func, or_, select

from . import schema as t

# What a member row says; the API answers exactly these.
FIELDS = ("device_id", "role", "team", "enrolled_at", "revoked", "acked_seq", "last_push_at",
          "last_pull_at", "quarantined")


class Membership:
    """Decides which devices a team (or a commune, or everyone) covers.

    Built once per request: the team's hamlets, or the commune's hamlets and
    teams, are read here, then `covers(row)` is pure."""

    def __init__(self, conn: Connection, *, team_id: str | None = None, commune: str | None = None) -> None:
        self.team_id = team_id
        self.commune = commune
        self.hamlets: frozenset[str] = frozenset()
        self.teams: frozenset[str] = frozenset()
        if team_id is not None:
            self.teams = frozenset({team_id})
            self.hamlets = frozenset(conn.execute(
                select(t.team_hamlets.c.hamlet_id).where(t.team_hamlets.c.team_id == team_id)).scalars())
        elif commune is not None:
            self.teams = frozenset(conn.execute(
                select(t.teams.c.id).where(t.teams.c.commune == commune)).scalars())
            self.hamlets = frozenset(conn.execute(select(t.entities.c.id).where(
                t.entities.c.type == "hamlet", t.entities.c.commune == commune)).scalars())

    @property
    def everyone(self) -> bool:
        return self.team_id is None and self.commune is None

    def candidates(self) -> Any:
        """A WHERE clause no narrower than covers(): the SQL does the bulk, covers() the rest."""
        d = t.devices.c
        if self.everyone:
            return None
        clauses = [d.hamlets != "[]"]  # enrolled for hamlets: checked against ours in covers()
        if self.teams:
            clauses.append(d.team_id.in_(sorted(self.teams)))
        if self.commune is not None:
            clauses.append(d.commune == self.commune)
        return or_(*clauses)

    def covers(self, row: Any) -> bool:
        if self.everyone:
            return True
        if row.team_id is not None and row.team_id in self.teams:
            return True
        if self.commune is not None and row.commune == self.commune:
            return True
        return not self.hamlets.isdisjoint(json.loads(row.hamlets or "[]"))


def members(conn: Connection, membership: Membership) -> list[dict[str, Any]]:
    """The devices a team or commune covers (everyone's for None), oldest enrolment first,
    each with its sync bookkeeping and how many of its events were quarantined."""
    query = select(t.devices).order_by(t.devices.c.enrolled_at, t.devices.c.id)
    where = membership.candidates()
    if where is not None:
        query = query.where(where)
    rows = [r for r in conn.execute(query) if membership.covers(r)]
    counts = quarantined_counts(conn, [r.id for r in rows])
    return [{"device_id": r.id, "role": r.role, "team": r.team_id, "enrolled_at": r.enrolled_at,
             "revoked": r.revoked_at is not None, "acked_seq": int(r.acked_seq),
             "last_push_at": r.last_push_at, "last_pull_at": r.last_pull_at,
             "quarantined": counts.get(r.id, 0)} for r in rows]


def quarantined_counts(conn: Connection, device_ids: Iterable[str]) -> dict[str, int]:
    ids = list(device_ids)
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update({device: int(n) for device, n in conn.execute(
            select(t.events.c.device_id, func.count()).where(
                t.events.c.device_id.in_(chunk), t.events.c.status == "quarantined")
            .group_by(t.events.c.device_id))})
    return out


def device_row(conn: Connection, device_id: str) -> Any:
    return conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()


def quarantined(conn: Connection, device_id: str) -> list[dict[str, Any]]:
    """A device's quarantined events in seq order: what and why, never the body."""
    e = t.events.c
    return [{"seq": int(r.seq), "kind": r.kind, "reason": r.reason or "", "received_at": r.received_at}
            for r in conn.execute(select(e.seq, e.kind, e.reason, e.received_at).where(
                e.device_id == device_id, e.status == "quarantined").order_by(e.seq))]
