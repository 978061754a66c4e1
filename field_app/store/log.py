"""The two event tables: `outbox` (this device's events) and `inbox` (the server's, in cursor order).

`related` is the household an event about a person or a visit belongs to, so that one
index query finds every event of a household and of its people and visits.
"""
from __future__ import annotations

import json
from typing import Any, NamedTuple

from .sealed import SealedDatabase
from .sql import chunks, marks

ABOUT_A_CHILD = ("person.updated", "review.decided", "visit.voided", "conflict.resolved", "person.merged")


class Logged(NamedTuple):
    """One event as a replay reads it."""
    order: tuple[int, int]  # the server's by cursor (0, cursor), then this device's own by seq (1, seq)
    source: str  # "inbox" or "outbox"
    key: int  # its cursor or seq
    event: dict[str, Any]  # the canonical JSON, parsed
    problem: bytes | None  # why the last recompute skipped it, still sealed


def last_seq(sealed: SealedDatabase) -> int:
    """The last seq this device made (the outbox is never trimmed: no gaps)."""
    return int(sealed.db.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0])


def related(sealed: SealedDatabase, event: dict[str, Any], page: dict[str, str]) -> str | None:
    """The household an event about a person or a visit belongs to (None for others).

    person.added and visit.recorded name it; later events about the same person or visit
    inherit it (from `page`, this pull page's events so far, or what is stored).
    """
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    if event.get("kind") in ("person.added", "visit.recorded"):
        household = data.get("household_id")
        return household if isinstance(household, str) else None
    if event.get("kind") not in ABOUT_A_CHILD:
        return None
    entity = event.get("entity")
    if isinstance(entity, str) and entity in page:
        return page[entity]
    row = sealed.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity]).fetchone()
    if row is not None:
        return row[1] if row[0] in ("person", "visit") else None
    return filed_under(sealed, entity)


def filed_under(sealed: SealedDatabase, entity: Any) -> str | None:
    """The household a stored event about `entity` was filed under, if any."""
    for table in ("inbox", "outbox"):
        row = sealed.db.execute(f"SELECT related FROM {table} WHERE entity = ? AND related IS NOT NULL LIMIT 1",
                                [entity]).fetchone()
        if row is not None:
            return str(row[0])
    return None


def events_of(sealed: SealedDatabase, ids: list[str], with_related: bool) -> list[Logged]:
    """Events concerning ids: the server's, then this device's own not yet seen back from the
    server and not quarantined (in no particular order: sort by `order`)."""
    out = []
    for chunk in chunks(ids):
        where = f"(entity IN ({marks(chunk)})" + (f" OR related IN ({marks(chunk)}))" if with_related else ")")
        params = chunk * (2 if with_related else 1)
        for cursor, body, problem in sealed.db.execute(f"SELECT cursor, body, problem FROM inbox WHERE {where}",
                                                       params):
            out.append(Logged((0, cursor), "inbox", cursor,
                              json.loads(sealed.unseal("inbox", "body", cursor, body)), problem))
        for seq, body, problem in sealed.db.execute(
                f"SELECT seq, body, problem FROM outbox WHERE {where} AND pulled = 0 AND status != 'quarantined'",
                params):
            out.append(Logged((1, seq), "outbox", seq,
                              json.loads(sealed.unseal("outbox", "body", seq, body)), problem))
    return out
