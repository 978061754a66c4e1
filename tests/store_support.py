"""What the tests read and write in a device store beyond what the app needs, through the
store's public parts (its entities, its connection, its writer): the whole state as devices
and the server must agree on it, the decrypted logs, and the full household list the paged
one is checked against.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from campaign.ids import uuid7
from campaign.order import walking_key
from campaign.search import Query, Rank
from campaign.text import fold
from field_app.store import FILTERS, HouseholdRow, PersonRow, SearchMatch, Store, VisitRow
from field_app.store.rows import visit_row


def state_of(store: Store) -> dict[str, dict[str, Any]]:
    """Every entity as {id: {type, hamlet_id, parent_id, data}}: what devices and the server must agree on."""
    with store.sealed.lock:
        return {e.id: {"type": e.type, "hamlet_id": e.hamlet_id, "parent_id": e.parent_id, "data": e.data}
                for e in store.entities.select("ORDER BY id")}


def state_digest(store: Store) -> str:
    """A deterministic dump of state_of(): sorted keys, no spaces, UTF-8 (compare with ==)."""
    return json.dumps(state_of(store), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    """This device's events in seq order, decrypted: seq, id, kind, entity, status, reason, pulled,
    problem, and body (the canonical JSON text)."""
    sealed = store.sealed
    with sealed.lock:
        return [{"seq": seq, "id": id, "kind": kind, "entity": entity, "status": status,
                 "reason": sealed.unseal_or_null("outbox", "reason", seq, reason), "pulled": bool(pulled),
                 "problem": sealed.unseal_or_null("outbox", "problem", seq, problem),
                 "body": sealed.unseal("outbox", "body", seq, body)}
                for seq, id, kind, entity, status, reason, pulled, problem, body in store.db.execute(
                    "SELECT seq, id, kind, entity, status, reason, pulled, problem, body FROM outbox ORDER BY seq")]


def problems_of(store: Store) -> list[dict[str, Any]]:
    """Events the projection skipped at the last recompute (e.g. a pending change a server event made invalid)."""
    sealed = store.sealed
    with sealed.lock:
        out = [{"source": "outbox", "seq": seq, "kind": kind, "entity": entity,
                "problem": sealed.unseal("outbox", "problem", seq, problem)}
               for seq, kind, entity, problem in store.db.execute(
                   "SELECT seq, kind, entity, problem FROM outbox WHERE problem IS NOT NULL "
                   "AND status != 'quarantined' AND pulled = 0 ORDER BY seq")]
        out += [{"source": "inbox", "cursor": cursor, "kind": kind, "entity": entity,
                 "problem": sealed.unseal("inbox", "problem", cursor, problem)}
                for cursor, kind, entity, problem in store.db.execute(
                    "SELECT cursor, kind, entity, problem FROM inbox WHERE problem IS NOT NULL ORDER BY cursor")]
        return out


def household_list(store: Store, hamlet_id: str | None = None, search: str = "",
                   filter: str | None = None) -> list[HouseholdRow]:
    """The full household list (what the store listed before it paged), built from each household's
    own row and people: in `hamlet_id`, or in every hamlet this device holds; what `search` finds
    (campaign.search: a person's name, the address as a phrase, the hamlet's whole name) with its
    best rank and matching person (the first added among equals); by rank, then folded address's
    natural order, folded address, id; filtered on the rows. The reference `households_page` is
    checked against."""
    if filter is not None and filter not in FILTERS:
        raise ValueError(filter)
    hamlets = {h.id: h for h in store.hamlets()}
    query = Query.of(search)
    rows = []
    for id, entity in state_of(store).items():
        if entity["type"] != "household" or entity["hamlet_id"] not in ({hamlet_id} if hamlet_id else set(hamlets)):
            continue
        row = store.household(id)
        assert row is not None
        if search.strip():
            found: list[tuple[Rank, int, PersonRow | None]] = []
            for n, p in enumerate(store.people(id)):
                rank = query.name(fold(p.label))
                if rank is not None:
                    found.append((rank, n, p))
            if query.phrase(fold(row.address)):
                found.append((Rank.ADDRESS, 0, None))
            if query.whole(fold(hamlets[entity["hamlet_id"]].name)):
                found.append((Rank.HAMLET, 0, None))
            if not found:
                continue
            rank, _, person = min(found, key=lambda f: (f[0], f[1]))
            row = replace(row, match=SearchMatch(rank, person.id if person else None,
                                                 person.label if person else None,
                                                 person.birth_year if person else None))
        rows.append(row)
    rows.sort(key=lambda r: (r.match.rank if r.match else 0, walking_key(r.address), r.id))
    if filter == "not_visited":
        return [r for r in rows if r.visits == 0]
    if filter == "revisit":
        return [r for r in rows if r.last_outcome == "not_home"]
    if filter == "follow_up":
        return [r for r in rows if r.follow_up]
    if filter == "returned":
        return [r for r in rows if r.returned]
    return rows


def visit_of(store: Store, id: str) -> VisitRow | None:
    with store.sealed.lock:
        entity = store.entities.load(id)
    return visit_row(entity) if entity is not None and entity.type == "visit" else None


def add_hamlet(store: Store, commune: str, name: str, kind: str = "thon", valid_from: str | None = None,
               valid_to: str | None = None) -> str:
    """A hamlet made on this device (the server sends them; tests make their own)."""
    hamlet_id = uuid7()
    store.writer.record("hamlet.created", hamlet_id, {"commune": commune, "name": name, "kind": kind,
                                                      "valid_from": valid_from
                                                      or store.writer.clock().date().isoformat(),
                                                      "valid_to": valid_to})
    return hamlet_id


def assign(store: Store, household_id: str, device_id: str | None) -> dict[str, Any]:
    return store.writer.record("assignment.set", household_id, {"device_id": device_id})


def recompute_all(store: Store) -> None:
    """Rebuild every entity from the logs (repair, or after an app update changes the projection)."""
    with store.writer.transaction():
        ids = {r[0] for r in store.db.execute("SELECT entity FROM inbox UNION SELECT entity FROM outbox "
                                              "UNION SELECT id FROM entities")}
        store.replay.recompute(ids)
