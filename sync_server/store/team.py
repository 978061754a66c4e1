"""Devices as a team's page shows them: their sync bookkeeping and their quarantined events.

Only the `devices` table and the kind, seq and reason of quarantined events are
read: never an event's body, so no personal data.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select

from . import schema as t


@dataclass(frozen=True)
class DeviceRow:
    id: str
    role: str
    team_id: str | None
    commune: str | None
    hamlets: tuple[str, ...]
    enrolled_at: str
    revoked: bool
    acked_seq: int
    last_push_at: str | None
    last_pull_at: str | None
    name: str | None = None


@dataclass(frozen=True)
class QuarantinedRow:
    seq: int
    kind: str
    reason: str
    received_at: str


def _row(r: Row[Any]) -> DeviceRow:
    return DeviceRow(r.id, r.role, r.team_id, r.commune, tuple(json.loads(r.hamlets or "[]")), r.enrolled_at,
                     r.revoked_at is not None, int(r.acked_seq), r.last_push_at, r.last_pull_at, r.name)


def commune_teams(conn: Connection, commune: str) -> frozenset[str]:
    return frozenset(conn.execute(select(t.teams.c.id).where(t.teams.c.commune == commune)).scalars())


def device_rows(conn: Connection, *, teams: frozenset[str] | None = None,
                commune: str | None = None) -> list[DeviceRow]:
    """Devices oldest enrolment first: every one (no arguments), or those enrolled for one of
    `teams`, for `commune`, or for any hamlets at all (the caller narrows those down)."""
    query = select(t.devices).order_by(t.devices.c.enrolled_at, t.devices.c.id)
    if teams is not None or commune is not None:
        d = t.devices.c
        clauses = [d.hamlets != "[]"]
        if teams:
            clauses.append(d.team_id.in_(sorted(teams)))
        if commune is not None:
            clauses.append(d.commune == commune)
        query = query.where(or_(*clauses))
    return [_row(r) for r in conn.execute(query)]


def device_row(conn: Connection, device_id: str) -> DeviceRow | None:
    row = conn.execute(select(t.devices).where(t.devices.c.id == device_id)).first()
    return _row(row) if row else None


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


def quarantined(conn: Connection, device_id: str) -> list[QuarantinedRow]:
    """A device's quarantined events in seq order: what and why, never the body."""
    e = t.events.c
    return [QuarantinedRow(int(r.seq), r.kind, r.reason or "", r.received_at)
            for r in conn.execute(select(e.seq, e.kind, e.reason, e.received_at).where(
                e.device_id == device_id, e.status == "quarantined").order_by(e.seq))]
