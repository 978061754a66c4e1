"""The entities a push's batch touches: as read, as changed, and what reading them asked.

services/ingest.py applies a batch in memory against this state, then writes it back in
bulk. A batch planned outside the write lock (ingest.plan) keeps every answer the
database gave it (the rows by id, a household's children, its people's bookings), so that
under the lock one look tells whether the state it was computed from is still the
database's (`unchanged`); and its cursors are provisional, from PROVISIONAL up, renumbered
under the lock (`renumber`) once the real last cursor is known.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Connection

from campaign import projection, totals
from campaign.projection import Entity

from ..store import entities as store_entities
from ..store import sessions as store_sessions

# A planned batch's cursors are PROVISIONAL + 1, + 2, …: above every real cursor (a 64-bit
# integer) and every `base` a device may send (campaign.events.MAX_VERSION), so that the
# projection's comparisons of versions with a base come out as they will with the real
# cursors (ingest.py, `_renumbered`), and a provisional number is never mistaken for a real one.
PROVISIONAL = 2**63


class BatchState:
    """The entities a batch touches, as loaded and as changed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.loaded: dict[str, Entity | None] = {}
        self.original: dict[str, Entity | None] = {}
        self.communes: dict[str, str | None] = {}  # hamlet id -> commune
        # what the database answered, to be asked again under the lock (`unchanged`)
        self.asked: set[str] = set()  # every id looked up, found or not
        self.rows: dict[str, store_entities.EntityRow] = {}
        self.stamps: dict[str, object] = {}  # store_entities.stamps of the rows read
        self.children_asked: dict[str, frozenset[str]] = {}
        self.children_found: dict[str, list[str]] = {}  # household id -> its stored children's ids
        self.bookings_asked: dict[tuple[str, frozenset[str]], frozenset[str]] = {}

    def load(self, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if i not in self.loaded]
        found, stamps = store_entities.fetch_stamped(self.conn, wanted)
        self.asked.update(wanted)
        self.rows.update(found)
        self.stamps.update(stamps)
        for i in wanted:
            row = found.get(i)
            self.loaded[i] = store_entities.entity(row) if row is not None else None
            self.original.setdefault(i, self.loaded[i])
        # the entities loaded before had their hamlets' communes found then
        hamlets = {e.hamlet_id for i in wanted if (e := self.loaded[i]) is not None and e.hamlet_id}
        for hamlet_id in hamlets - set(self.communes):
            hamlet = self.loaded.get(hamlet_id) or self.get(hamlet_id)
            self.communes[hamlet_id] = hamlet.data["commune"] if hamlet else None

    def get(self, entity_id: str) -> Entity | None:
        if entity_id not in self.loaded:
            self.load([entity_id])
        return self.loaded[entity_id]

    def children(self, household_id: str) -> list[Entity]:
        if household_id not in self.children_found:
            # The first household asked about brings every stored household the batch loaded
            # with it, in one query: a batch that asks about one (a refusal recorded, a move, a
            # visit taken back) mostly asks about several (issue #16: a query each before).
            # Only those asked are checked again under the lock (`unchanged`).
            households = list(dict.fromkeys([household_id, *(i for i, row in self.rows.items()
                                                             if row.type == "household" and i not in self.children_found)]))
            found = store_entities.child_ids(self.conn, households)
            for i in households:
                self.children_found[i] = found.get(i, [])
        ids = list(self.children_found[household_id])
        self.children_asked[household_id] = frozenset(ids)
        ids += [e.id for e in self.loaded.values() if e is not None and e.parent_id == household_id]
        self.load(ids)
        return [e for i in dict.fromkeys(ids) if (e := self.loaded[i]) is not None]

    def bookings(self, household_id: str) -> list[Entity]:
        """The capture bookings of a household's people (a move carries them: campaign.projection)."""
        people = {e.id for e in self.children(household_id) if e.type == "person"}
        household = self.get(household_id)
        commune = self.commune_of(household.hamlet_id) if household is not None else None
        if not people or commune is None:
            return []
        ids = store_sessions.booking_ids_of(self.conn, commune, people)
        self.bookings_asked[(commune, frozenset(people))] = frozenset(ids)
        ids += [e.id for e in self.loaded.values()
                if e is not None and e.type == "booking" and e.data.get("person_id") in people]
        self.load(ids)
        return [e for i in dict.fromkeys(ids) if (e := self.loaded[i]) is not None]

    def commune_of(self, hamlet_id: str | None) -> str | None:
        if hamlet_id is None:
            return None
        if hamlet_id not in self.communes:
            hamlet = self.get(hamlet_id)
            self.communes[hamlet_id] = hamlet.data["commune"] if hamlet and hamlet.type == "hamlet" else None
        return self.communes[hamlet_id]

    def unchanged(self, conn: Connection) -> bool:
        """Whether the database, read on `conn` (under the write lock), still gives every answer
        this state was computed from: each entity read, not written since (its stamp,
        store/entities.stamps), or still absent; each household's children and each set of
        people's bookings, the same ids. Not versions alone: a household's move carries its
        people to the new hamlet without a new version of theirs, and a purge rewrites a body."""
        if store_entities.stamps(conn, self.asked) != self.stamps:
            return False
        children = store_entities.child_ids(conn, list(self.children_asked)) if self.children_asked else {}
        if any(frozenset(children.get(household_id, ())) != ids for household_id, ids in self.children_asked.items()):
            return False
        return all(frozenset(store_sessions.booking_ids_of(conn, commune, set(people))) == ids
                   for (commune, people), ids in self.bookings_asked.items())

    def record(self, outcome: projection.Outcome) -> None:
        """The outcome's changes (a moved household's people and visits among them: the projection
        carries them) into the batch's state."""
        for entity_id, after in outcome.changed.items():
            self.original.setdefault(entity_id, self.loaded.get(entity_id))
            self.loaded[entity_id] = after

    def changed(self) -> Iterable[tuple[Entity | None, Entity]]:
        """(as loaded, as it ends) of every entity the batch changed."""
        for entity_id, original in self.original.items():
            now = self.loaded[entity_id]
            if now is not None and now is not original:
                yield original, now

    def deltas(self) -> Counter[tuple[str, str, str]]:
        """The batch's totals deltas, summed once per entity it changed: contribution(as it ends)
        - contribution(as it was loaded), the sum of each event's after - before."""
        # a plain dict and no call an entity: run for every entity a push changes (issue #16);
        # Counter's own += costs a Python-level __missing__ for every new key
        out: dict[tuple[str, str, str], int] = {}
        get, counts, loaded = out.get, totals.counts, self.loaded
        for entity_id, original in self.original.items():
            now = loaded[entity_id]
            if now is original:
                continue
            if original is not None:
                hamlet = original.hamlet_id or ""
                for (day, metric), n in counts(original).items():
                    key = (hamlet, day, metric)
                    out[key] = get(key, 0) - n
            if now is not None:
                hamlet = now.hamlet_id or ""
                for (day, metric), n in counts(now).items():
                    key = (hamlet, day, metric)
                    out[key] = get(key, 0) + n
        return Counter(out)

    def renumber(self, shift: int) -> None:
        """Provisional versions (PROVISIONAL and above) of the changed entities moved by `shift`
        to the real cursors. A [version, device, event] list of meta may be shared by several
        copies of one entity in the batch; renumbered once, it is below PROVISIONAL after."""
        for _original, now in self.changed():
            if now.version is not None and now.version >= PROVISIONAL:
                now.version += shift
            for stamp in now.meta.values():
                if stamp[0] is not None and stamp[0] >= PROVISIONAL:
                    stamp[0] += shift

