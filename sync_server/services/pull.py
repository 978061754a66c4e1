"""Pull and receipt: what a device is sent, and what the server holds of it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from campaign import events as ev
from campaign.team_settings import TeamSettings

from ..store import devices as store_devices
from ..store import events as store_events
from ..store import pull as store
from ..store.db import is_sqlite, read_transaction, short_write_transaction
from . import clock, team_settings
from .enrolment import Caller


@dataclass(frozen=True)
class Page:
    events: list[tuple[int, str]]  # (cursor, the stored canonical body)
    next: int  # where the next page resumes
    more: bool
    team: TeamSettings | None = None  # on the last page: the settings the device's team works with


@dataclass(frozen=True)
class Receipt:
    acked_seq: int
    counts: dict[str, int]  # events held, by kind
    digest: str  # campaign.events.digest of the bodies held, in seq order


def pull(engine: Engine, who: Caller, after: int, limit: int, mine: int = 0) -> Page:
    """Events after a cursor, in the caller's scope, page by page. A device that is caught up
    (no more pages) is noted as having pulled (its team leader sees when). The note needs no
    durability (a crash may lose the last fraction of a second of them, never an event): on
    PostgreSQL the page is read in the note's own transaction, which takes no write lock and
    commits without waiting for the disk, so a pull is one connection from the pool, one BEGIN
    and one COMMIT; on SQLite the note is a short write transaction of its own after the read
    (a write there takes the database's one writer, which the read need not wait for).

    `mine` > 0: the device's own events up to that seq are left out (it filed them at the
    cursors its push answers named). The last page then resumes past the log's end as it
    stood before the walk, so events of its own at the end are not walked again next time:
    cursors commit in order, so every event up to that cursor was visible to the walk.

    The last page also carries the team's settings (services/team_settings.py `for_device`),
    read in the transaction that notes the pull: the phone's walk lists and review need them
    offline, and a settings change is no event, so it has no cursor of its own."""
    if is_sqlite(engine):  # a read must not take SQLite's one writer: the note is a write of its own
        with read_transaction(engine) as conn:
            top, rows, more = _read(conn, who, after, limit, mine)
        team = None
        if not more:
            with short_write_transaction(engine, durable=False) as conn:
                team = _note(conn, who, after)
    else:  # PostgreSQL: the page and the note in one transaction, one connection (issue #16)
        with short_write_transaction(engine, durable=False) as conn:  # a note, not data: no disk wait
            top, rows, more = _read(conn, who, after, limit, mine)
            team = None if more else _note(conn, who, after)
    reached = rows[-1][0] if rows else after
    return Page([(cursor, body) for cursor, body in rows], reached if more else max(reached, top), more, team)


def _read(conn: Connection, who: Caller, after: int, limit: int, mine: int) -> tuple[int, list[tuple[int, str]], bool]:
    top = store_events.last_cursor(conn) if mine else after
    rows, more = store.pull(conn, who.scope, after, limit, skip=(who.device.id, mine) if mine else None)
    return top, rows, more


def _note(conn: Connection, who: Caller, after: int) -> TeamSettings:
    store_devices.touch_pull(conn, who.device.id, clock.now_iso(), after)
    return team_settings.for_device(conn, who.device)


def receipt(conn: Connection, who: Caller) -> Receipt:
    """What the server holds of the calling device: its acknowledged seq, counts per kind,
    and a digest the device compares with its own."""
    acked = store_events.acked_seq(conn, who.device.id)
    return Receipt(acked, store_events.kind_counts(conn, who.device.id, acked),
                   ev.digest(store_events.bodies(conn, who.device.id, acked)))
