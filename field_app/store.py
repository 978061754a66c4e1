"""The device's local store: an outbox of its own events, an inbox of the
server's, and the state both project to.

One SQLite file (WAL, synchronous=FULL) in app-private storage. Every change is
an event written in the same transaction as the state it produces; the state is
always a projection of events (campaign.projection), recomputed per household
when the server's order arrives. See docs/device.md for the tables and rules.

The store is used from the UI and from the background sync thread: one
connection, and every public method holds one re-entrant lock.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import sqlite_utils

from campaign import vocabulary as v
from campaign.events import (ENVELOPE, KINDS, SCHEMA, InvalidEvent, canonical, check_event, digest,
                             generic_label, normalize, parse_at)
from campaign.ids import uuid7
from campaign.projection import Entity, apply
from campaign.text import fold
from campaign.totals import VIETNAM, local_day

DB_NAME = "gocua.db"
IDENTITY = ("device_id", "token", "role", "scope")
SETTING = "setting:"  # meta keys that survive a purge: language, theme …
KEPT_ON_PURGE = ("server_url",)
CHUNK = 200  # ids per IN (...) query


class StoreError(RuntimeError):
    """The store cannot do what was asked (not an invalid event: see InvalidEvent)."""


class NotSignedIn(StoreError):
    """Recording needs a device identity: enrol first."""


# ---- schema and migrations --------------------------------------------------------

def _v1(db: sqlite_utils.Database) -> None:
    for sql in (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            entity TEXT NOT NULL,
            related TEXT,
            base INTEGER,
            at TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'acked', 'quarantined')),
            reason TEXT,
            pulled INTEGER NOT NULL DEFAULT 0,
            problem TEXT)""",
        "CREATE INDEX outbox_entity ON outbox(entity)",
        "CREATE INDEX outbox_related ON outbox(related)",
        """CREATE TABLE inbox (
            cursor INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            device_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            entity TEXT NOT NULL,
            related TEXT,
            body TEXT NOT NULL,
            problem TEXT)""",
        "CREATE UNIQUE INDEX inbox_device_seq ON inbox(device_id, seq)",
        "CREATE INDEX inbox_entity ON inbox(entity)",
        "CREATE INDEX inbox_related ON inbox(related)",
        """CREATE TABLE entities (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            hamlet_id TEXT,
            parent_id TEXT,
            fold TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL)""",
        "CREATE INDEX entities_type_hamlet ON entities(type, hamlet_id)",
        "CREATE INDEX entities_parent ON entities(parent_id)",
    ):
        db.execute(sql)


# Applied in order on open; the file's PRAGMA user_version says how many ran.
# A new version is one more function appended here, never an edit of an old one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1]


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the file up to len(MIGRATIONS); each step commits with its version."""
    steps = MIGRATIONS
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(steps):
        raise StoreError(f"this data was written by a newer app (schema {current}; this app knows {len(steps)})")
    for number in range(current + 1, len(steps) + 1):
        with db.atomic():
            steps[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(steps)


# ---- follow-up: one definition, used by the lists and the docs -------------------

FOLLOW_UP = ("card_capture", "l2", "activation")
NEEDS_CARD = frozenset({"none", "cmnd_only"})
# Blockers that stop level-1 self-registration on a phone: level 2 at the police is the way.
SELF_SERVICE_BLOCKERS = frozenset({"no_smartphone", "sim_not_own", "number_taken", "no_otp", "old_device",
                                   "no_nfc", "data_mismatch"})
NOT_L2_CANDIDATE = v.ACTIVE_VNEID | {"l2_pending", "l2_approved", "not_eligible"}
APPROVED_NOT_ACTIVE = frozenset({"l1_approved", "l2_approved"})


def follow_up(person: dict[str, Any], year: int) -> list[str]:
    """What someone living here still needs from the team in a second contact.

    - card_capture: 14 or older (or age unknown) with no valid card (none, old CMND only):
      a card capture at the police or booked at home.
    - l2: 6 or older (or age unknown), no active account and none on its way at level 2,
      and a blocker that stops level-1 self-registration on a phone: refer for level 2.
    - activation: an account approved but not activated (level 1 or 2).
    Moved and deceased people need nothing.
    """
    if person.get("presence") not in v.LIVING_HERE:
        return []
    birth_year = person.get("birth_year")
    age = None if birth_year is None else year - birth_year
    out = []
    if person.get("card") in NEEDS_CARD and (age is None or age >= v.CARD_COMPULSORY_AGE):
        out.append("card_capture")
    if (person.get("vneid") not in NOT_L2_CANDIDATE and (age is None or age >= v.VNEID_L2_MIN_AGE)
            and SELF_SERVICE_BLOCKERS.intersection(person.get("blockers") or [])):
        out.append("l2")
    if person.get("vneid") in APPROVED_NOT_ACTIVE:
        out.append("activation")
    return out


FILTERS = ("not_visited", "revisit", "follow_up", "returned")


# ---- helpers ----------------------------------------------------------------------

def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fold_key(entity: Entity) -> str:
    field = {"household": "address", "person": "label", "hamlet": "name", "visit": "note"}.get(entity.type)
    value = entity.data.get(field) if field else None
    return fold(value) if isinstance(value, str) else ""


# ---- the store --------------------------------------------------------------------

class Store:
    """The local store. `path` is a directory (the file is gocua.db inside) or a file."""

    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], datetime] | None = None) -> None:
        path = Path(path)
        if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            self.path = path
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.path = path / DB_NAME
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._lock = threading.RLock()
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        self.db = sqlite_utils.Database(conn)
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous = FULL")  # an acknowledged seq must survive a power cut
        self.schema_version = migrate(self.db)

    @staticmethod
    def default_dir(data: str | os.PathLike[str] | None = None) -> Path:
        """$FLET_APP_STORAGE_DATA (app-private storage on a phone), else `data` (--data), else ~/.local/share/gocua."""
        env = os.environ.get("FLET_APP_STORAGE_DATA")
        if env:
            return Path(env)
        if data:
            return Path(data)
        return Path.home() / ".local" / "share" / "gocua"

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- meta -------------------------------------------------------------------

    def _get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [key, json.dumps(value, ensure_ascii=False)])

    @_locked
    def setting(self, name: str, default: Any = None) -> Any:
        """A preference (language …): kept across sign-out."""
        return self._get(SETTING + name, default)

    @_locked
    def set_setting(self, name: str, value: Any) -> None:
        self._set(SETTING + name, value)

    # ---- identity ---------------------------------------------------------------

    @_locked
    def enrol(self, server_url: str, device_id: str, token: str, role: str, scope: Any) -> None:
        """Keep what POST /api/v1/enroll answered. A new device id needs an empty outbox."""
        if not device_id or not token:
            raise StoreError("enrolment needs a device id and a token")
        own = self.db.execute("SELECT DISTINCT json_extract(body, '$.device_id') FROM outbox").fetchall()
        if any(row[0] != device_id for row in own):
            raise StoreError("this phone still holds another device's events: sign out (send, then purge) first")
        with self.db.atomic():
            for key, value in (("server_url", server_url.rstrip("/")), ("device_id", device_id),
                               ("token", token), ("role", role), ("scope", scope)):
                self._set(key, value)

    @property
    def server_url(self) -> str | None:
        with self._lock:
            return self._get("server_url")

    @property
    def device_id(self) -> str | None:
        with self._lock:
            return self._get("device_id")

    @property
    def token(self) -> str | None:
        with self._lock:
            return self._get("token")

    @property
    def role(self) -> str | None:
        with self._lock:
            return self._get("role")

    @property
    def scope(self) -> Any:
        with self._lock:
            return self._get("scope")

    @property
    def signed_in(self) -> bool:
        with self._lock:
            return bool(self._get("device_id") and self._get("token") and self._get("server_url"))

    # ---- sync bookkeeping ---------------------------------------------------------

    @property
    def pull_cursor(self) -> int:
        with self._lock:
            return int(self._get("pull_cursor", 0))

    @property
    def acked_seq(self) -> int:
        with self._lock:
            return int(self._get("acked_seq", 0))

    @property
    def last_seq(self) -> int:
        with self._lock:
            return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0])

    @property
    def last_sync_ok(self) -> str | None:
        with self._lock:
            return self._get("last_sync_ok")

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return self._get("last_error")

    @property
    def last_error_at(self) -> str | None:
        with self._lock:
            return self._get("last_error_at")

    @_locked
    def record_sync_success(self, at: str | None = None) -> None:
        with self.db.atomic():
            self._set("last_sync_ok", at or self._now())
            self._set("last_error", None)
            self._set("last_error_at", None)

    @_locked
    def record_sync_error(self, text: str) -> None:
        with self.db.atomic():
            self._set("last_error", str(text))
            self._set("last_error_at", self._now())

    # ---- writing: one event per change, in the change's transaction ---------------

    def _now(self) -> str:
        now = self._clock()
        if now.tzinfo is None:
            now = now.astimezone()
        return now.isoformat(timespec="seconds")

    def _load(self, entity_id: Any) -> Entity | None:
        if not isinstance(entity_id, str):
            return None
        row = self.db.execute("SELECT type, hamlet_id, parent_id, body FROM entities WHERE id = ?",
                              [entity_id]).fetchone()
        if row is None:
            return None
        return Entity.from_json(entity_id, row[0], row[1], row[2], json.loads(row[3]))

    def _put(self, entity: Entity) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entities (id, type, hamlet_id, parent_id, fold, body) VALUES (?, ?, ?, ?, ?, ?)",
            [entity.id, entity.type, entity.hamlet_id, entity.parent_id, _fold_key(entity),
             json.dumps(entity.to_json(), ensure_ascii=False, sort_keys=True)])

    def _carry(self, household_id: str, hamlet_id: str) -> None:
        """A household's move between hamlets takes its people and visits along."""
        self.db.execute("UPDATE entities SET hamlet_id = ? WHERE parent_id = ?", [hamlet_id, household_id])

    @_locked
    def record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        """Validate, apply and log one change; InvalidEvent leaves the store untouched."""
        with self.db.atomic():
            return self._record(kind, entity, data)

    def _record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        device_id = self._get("device_id")
        if not device_id:
            raise NotSignedIn("enrol this device before recording")
        try:
            data = json.loads(json.dumps(data))  # tuples to lists; only JSON goes on the wire
        except (TypeError, ValueError):
            raise InvalidEvent("bad_type", "data must be JSON: text, numbers, lists, objects") from None
        current = self._load(entity)
        seq = self.last_seq + 1
        event = normalize({"id": uuid7(), "device_id": device_id, "seq": seq, "kind": kind,
                           "entity": entity, "base": current.version if current is not None else None,
                           "at": self._now(), "data": data, "schema": SCHEMA})
        check_event(event)
        outcome = apply(event, None, self._load)  # raises before anything is written
        body = canonical(event)
        self.db.execute(
            "INSERT INTO outbox (seq, id, kind, entity, related, base, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [seq, event["id"], kind, entity, self._related(event, {}), event["base"], event["at"], body])
        for changed in outcome.changed.values():
            self._put(changed)
        if outcome.moved is not None:
            self._carry(outcome.moved[0], outcome.moved[2])
        return json.loads(body)

    def _related(self, event: dict[str, Any], page: dict[str, str]) -> str | None:
        """The household an event about a person or a visit belongs to (None for others).

        person.added and visit.recorded name it; later events about the same person
        or visit inherit it, so one household's events are found by one index.
        """
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if event.get("kind") in ("person.added", "visit.recorded"):
            household = data.get("household_id")
            return household if isinstance(household, str) else None
        if event.get("kind") not in ("person.updated", "review.decided", "conflict.resolved"):
            return None
        entity = event.get("entity")
        if entity in page:
            return page[entity]
        row = self.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity]).fetchone()
        if row is not None:
            return row[1] if row[0] in ("person", "visit") else None
        for table in ("inbox", "outbox"):
            row = self.db.execute(f"SELECT related FROM {table} WHERE entity = ? AND related IS NOT NULL LIMIT 1",
                                  [entity]).fetchone()
            if row is not None:
                return row[0]
        return None

    # ---- the screens' writes ---------------------------------------------------------

    @_locked
    def add_hamlet(self, commune: str, name: str, kind: str = "thon", valid_from: str | None = None,
                   valid_to: str | None = None) -> str:
        hamlet_id = uuid7()
        valid_from = valid_from or self._clock().date().isoformat()
        self.record("hamlet.created", hamlet_id, {"commune": commune, "name": name, "kind": kind,
                                                  "valid_from": valid_from, "valid_to": valid_to})
        return hamlet_id

    @_locked
    def add_household(self, hamlet_id: str, address: str, consent: str = "unknown") -> str:
        household_id = uuid7()
        self.record("household.created", household_id,
                    {"hamlet_id": hamlet_id, "address": address, "consent": consent})
        return household_id

    @_locked
    def update_household(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change address, consent or hamlet_id; unchanged fields are dropped.

        Consent becoming `declined` first renames the household's people "Người 1",
        "Người 2" … (person.updated events), all in one transaction.
        """
        with self.db.atomic():
            current = self._load(id)
            if current is None or current.type != "household":
                raise InvalidEvent("unknown_household", f"household {id} is not known here")
            changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
            if not changes:
                return None
            if changes.get("consent") == "declined":
                self._anonymise(id)
            return self._record("household.updated", id, changes)

    def _anonymise(self, household_id: str) -> None:
        """Before a household is recorded as declined, its people become "Người 1", "Người 2" …"""
        for n, person in enumerate(self._people_of(household_id), start=1):
            if person.data.get("label") != generic_label(n):
                self._record("person.updated", person.id, {"label": generic_label(n)})

    def _people_of(self, household_id: str) -> list[Entity]:
        rows = self.db.execute("SELECT id FROM entities WHERE parent_id = ? AND type = 'person' ORDER BY id",
                               [household_id]).fetchall()
        return [e for e in (self._load(r[0]) for r in rows) if e is not None]

    @_locked
    def add_person(self, household_id: str, label: str | None = None, birth_year: int | None = None,
                   presence: str = "home", card: str = "unknown", vneid: str = "unknown") -> str:
        """A person; no label (or a declined household) gets the next "Người n"."""
        person_id = uuid7()
        if label is None or not label.strip():
            label = generic_label(len(self._people_of(household_id)) + 1)
        self.record("person.added", person_id, {"household_id": household_id, "label": label,
                                                "birth_year": birth_year, "presence": presence,
                                                "card": card, "vneid": vneid})
        return person_id

    @_locked
    def update_person(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change label, birth_year, presence, card, vneid or blockers; unchanged fields are dropped."""
        current = self._load(id)
        if current is None or current.type != "person":
            raise InvalidEvent("unknown_person", f"person {id} is not known here")
        changes = {k: list(val) if isinstance(val, (tuple, set, frozenset)) else val
                   for k, val in changes.items()}
        changes = {k: val for k, val in changes.items() if current.data.get(k) != val}
        if not changes:
            return None
        return self.record("person.updated", id, changes)

    @_locked
    def record_visit(self, household_id: str, outcome: str, actions: Iterable[str] = (),
                     people_helped: Iterable[str] = (), note: str = "") -> str:
        visit_id = uuid7()
        self.record("visit.recorded", visit_id, {"household_id": household_id, "outcome": outcome,
                                                 "actions": list(actions), "people_helped": list(people_helped),
                                                 "note": note})
        return visit_id

    @_locked
    def decide_review(self, visit_id: str, decision: str, comment: str = "") -> dict[str, Any]:
        return self.record("review.decided", visit_id, {"decision": decision, "comment": comment})

    @_locked
    def assign(self, household_id: str, device_id: str | None) -> dict[str, Any]:
        return self.record("assignment.set", household_id, {"device_id": device_id})

    @_locked
    def resolve_conflict(self, entity: str, field: str, value: Any) -> dict[str, Any]:
        """Settle a field (a leader's choice); settling consent to declined anonymises first."""
        with self.db.atomic():
            current = self._load(entity)
            if current is not None and current.type == "household" and field == "consent" \
                    and value == "declined" and current.data.get("consent") != "declined":
                self._anonymise(entity)
            return self._record("conflict.resolved", entity, {"field": field, "value": value})

    # ---- state: server order, then this device's own on top -----------------------

    def _units(self, ids: Iterable[str]) -> set[str]:
        """The household (or hamlet) whose events decide each entity's state."""
        units = set()
        for entity_id in ids:
            row = self.db.execute("SELECT type, parent_id FROM entities WHERE id = ?", [entity_id]).fetchone()
            if row is not None:
                units.add(row[1] if row[0] in ("person", "visit") and row[1] else entity_id)
                continue
            related = None
            for table in ("inbox", "outbox"):
                found = self.db.execute(f"SELECT related FROM {table} WHERE entity = ? AND related IS NOT NULL "
                                        "LIMIT 1", [entity_id]).fetchone()
                if found is not None:
                    related = found[0]
                    break
            units.add(related or entity_id)
        return units

    def _with_dependants(self, units: set[str]) -> set[str]:
        """A hamlet's change may invalidate this device's pending events in its households."""
        hamlets = [u for u in units if self.db.execute(
            "SELECT 1 FROM entities WHERE id = ? AND type = 'hamlet'", [u]).fetchone()]
        extra: set[str] = set()
        for chunk in _chunks(hamlets):
            rows = self.db.execute(
                "SELECT DISTINCT coalesce(o.related, o.entity) FROM outbox o "
                "WHERE o.pulled = 0 AND o.status != 'quarantined' AND coalesce(o.related, o.entity) IN "
                f"(SELECT id FROM entities WHERE type = 'household' AND hamlet_id IN ({_marks(chunk)}))",
                chunk).fetchall()
            extra.update(r[0] for r in rows)
        return units | extra

    def _events_of(self, ids: list[str], with_related: bool) -> list[tuple[tuple[int, int], str, int, dict]]:
        """Events concerning ids: the server's by cursor, then the device's own (unseen, not quarantined) by seq."""
        out = []
        for chunk in _chunks(ids):
            marks = _marks(chunk)
            where = f"(entity IN ({marks})" + (f" OR related IN ({marks}))" if with_related else ")")
            params = chunk * (2 if with_related else 1)
            for cursor, body in self.db.execute(f"SELECT cursor, body FROM inbox WHERE {where}", params):
                out.append(((0, cursor), "inbox", cursor, json.loads(body)))
            for seq, body in self.db.execute(
                    f"SELECT seq, body FROM outbox WHERE {where} AND pulled = 0 AND status != 'quarantined'", params):
                out.append(((1, seq), "outbox", seq, json.loads(body)))
        return out

    def _recompute(self, ids: Iterable[str]) -> None:
        """Rebuild the touched entities from scratch, a household at a time (with its
        people and visits, whose checks read the household as it was at each event)."""
        units = self._with_dependants(self._units(ids))
        ordered = sorted(units)
        for chunk in _chunks(ordered):
            self._replay(set(chunk))

    def _replay(self, units: set[str]) -> None:
        rows = self._events_of(sorted(units), with_related=True)
        family = set(units) | {event["entity"] for _, _, _, event in rows if isinstance(event.get("entity"), str)}
        for chunk in _chunks(sorted(units)):
            family.update(r[0] for r in self.db.execute(
                f"SELECT id FROM entities WHERE parent_id IN ({_marks(chunk)})", chunk))
        # Hamlets a household named are replayed alongside (their closing date matters), not written.
        context = {event["data"]["hamlet_id"] for _, _, _, event in rows
                   if event.get("kind") in ("household.created", "household.updated")
                   and isinstance(event.get("data"), dict) and isinstance(event["data"].get("hamlet_id"), str)}
        context -= family
        context_rows = self._events_of(sorted(context), with_related=False) if context else []
        timeline = sorted([(order, source, key, event, True) for order, source, key, event in rows]
                          + [(order, source, key, event, False) for order, source, key, event in context_rows],
                          key=lambda item: item[0])
        working: dict[str, Entity | None] = {entity_id: None for entity_id in family | context}
        outside: dict[str, Entity | None] = {}

        def lookup(entity_id: str) -> Entity | None:
            if entity_id in working:
                return working[entity_id]
            if entity_id not in outside:
                outside[entity_id] = self._load(entity_id)
            return outside[entity_id]

        problems: dict[tuple[str, int], str | None] = {}
        for _, source, key, event, own in timeline:
            version = key if source == "inbox" else None
            try:
                if event.get("kind") not in KINDS or event.get("schema") != SCHEMA:
                    raise InvalidEvent("unknown_kind", f"{event.get('kind')!r} (schema {event.get('schema')!r}) "
                                       "is not known to this app version")
                outcome = apply(event, version, lookup)
            except (InvalidEvent, KeyError, TypeError, ValueError, AttributeError) as exc:
                if own:
                    problems[(source, key)] = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
                continue
            if own:
                problems[(source, key)] = None
            for entity_id, entity in outcome.changed.items():
                if entity_id in working:
                    working[entity_id] = entity
        for entity in working.values():
            if entity is not None and entity.type in ("person", "visit"):
                parent = working.get(entity.parent_id or "")
                if parent is not None:
                    entity.hamlet_id = parent.hamlet_id
        for entity_id in family:
            entity = working[entity_id]
            if entity is None:
                self.db.execute("DELETE FROM entities WHERE id = ?", [entity_id])
            else:
                self._put(entity)
        for (source, key), problem in problems.items():
            column = "cursor" if source == "inbox" else "seq"
            self.db.execute(f"UPDATE {source} SET problem = ? WHERE {column} = ?", [problem, key])

    @_locked
    def recompute_all(self) -> None:
        """Rebuild every entity from the logs (repair, or after an app update)."""
        with self.db.atomic():
            ids = {r[0] for r in self.db.execute("SELECT entity FROM inbox UNION SELECT entity FROM outbox "
                                                 "UNION SELECT id FROM entities")}
            self._recompute(ids)

    # ---- the sync side -------------------------------------------------------------

    @_locked
    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        """Events the server has not acknowledged, in seq order, exactly as their canonical JSON."""
        rows = self.db.execute("SELECT body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                               [self.acked_seq, limit]).fetchall()
        return [json.loads(r[0]) for r in rows]

    @_locked
    def pending_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE seq > ?", [self.acked_seq]).fetchone()[0])

    @_locked
    def acknowledge(self, acked_seq: int, quarantined: Iterable[dict[str, Any]] = ()) -> None:
        """The server holds every seq up to acked_seq; the quarantined ones leave the state."""
        with self.db.atomic():
            previous = self.acked_seq
            acked = min(int(acked_seq), self.last_seq)
            reasons = {int(q["seq"]): str(q.get("reason") or "") for q in quarantined}
            touched: set[str] = set()
            for seq, status, entity, related in self.db.execute(
                    "SELECT seq, status, entity, related FROM outbox WHERE seq > ? AND seq <= ?",
                    [previous, acked]).fetchall():
                if seq in reasons:
                    if status != "quarantined":
                        touched.add(related or entity)
                    self.db.execute("UPDATE outbox SET status = 'quarantined', reason = ? WHERE seq = ?",
                                    [reasons[seq], seq])
                else:
                    if status == "quarantined":  # resent after a gap and accepted this time
                        touched.add(related or entity)
                    self.db.execute("UPDATE outbox SET status = 'acked', reason = NULL WHERE seq = ?", [seq])
            for seq in reasons:  # reported again for an already acknowledged seq
                if seq <= previous:
                    row = self.db.execute("SELECT status, entity, related FROM outbox WHERE seq = ?", [seq]).fetchone()
                    if row is not None and row[0] != "quarantined":
                        touched.add(row[2] or row[1])
                        self.db.execute("UPDATE outbox SET status = 'quarantined', reason = ? WHERE seq = ?",
                                        [reasons[seq], seq])
            if acked > previous:
                self._set("acked_seq", acked)
            if touched:
                self._recompute(touched)

    @_locked
    def resend_from(self, expected_seq: int) -> None:
        """The server is missing events from expected_seq on (it lost them): send them again."""
        with self.db.atomic():
            acked = max(0, int(expected_seq) - 1)
            if acked < self.acked_seq:
                self._set("acked_seq", acked)
                self.db.execute("UPDATE outbox SET status = 'pending' WHERE seq > ? AND status = 'acked'", [acked])

    @_locked
    def apply_pulled(self, events: list[dict[str, Any]], next_cursor: int) -> None:
        """Store one page of the server's events, advance the cursor, recompute: one transaction."""
        with self.db.atomic():
            me = self._get("device_id")
            page: dict[str, str] = {}
            touched: set[str] = set()
            for raw in events:
                if not isinstance(raw, dict) or isinstance(raw.get("cursor"), bool) \
                        or not isinstance(raw.get("cursor"), int) or not isinstance(raw.get("entity"), str) \
                        or not isinstance(raw.get("device_id"), str) or not isinstance(raw.get("seq"), int) \
                        or not isinstance(raw.get("kind"), str) or not isinstance(raw.get("id"), str):
                    raise StoreError(f"malformed event from the server: {str(raw)[:200]}")
                event = normalize({key: raw[key] for key in ENVELOPE if key in raw})
                related = self._related(event, page)
                if related is not None:
                    page[event["entity"]] = related
                self.db.execute(
                    "INSERT OR IGNORE INTO inbox (cursor, id, device_id, seq, kind, entity, related, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [raw["cursor"], event["id"], event["device_id"], event["seq"], event["kind"],
                     event["entity"], related, canonical(event)])
                if me is not None and event["device_id"] == me:
                    self.db.execute("UPDATE outbox SET pulled = 1 WHERE seq = ? AND id = ?",
                                    [event["seq"], event["id"]])
                touched.add(related or event["entity"])
            if int(next_cursor) > self.pull_cursor:
                self._set("pull_cursor", int(next_cursor))
            if touched:
                self._recompute(touched)

    @_locked
    def local_receipt(self) -> dict[str, Any]:
        """What the server's receipt must say: acknowledged events (quarantined too), in seq order."""
        acked = self.acked_seq
        counts: Counter[str] = Counter()
        lines = []
        for kind, body in self.db.execute("SELECT kind, body FROM outbox WHERE seq <= ? ORDER BY seq", [acked]):
            counts[kind] += 1
            lines.append(body)
        return {"acked_seq": acked, "counts": dict(sorted(counts.items())), "digest": digest(lines)}

    @_locked
    def quarantined(self) -> list[dict[str, Any]]:
        return [{"seq": seq, "kind": kind, "reason": reason, "at": at, "entity": entity}
                for seq, kind, reason, at, entity in self.db.execute(
                    "SELECT seq, kind, reason, at, entity FROM outbox WHERE status = 'quarantined' ORDER BY seq")]

    @_locked
    def problems(self) -> list[dict[str, Any]]:
        """Events the projection skipped at the last recompute (e.g. a pending change a server event made invalid)."""
        out = [{"source": "outbox", "seq": seq, "kind": kind, "entity": entity, "problem": problem}
               for seq, kind, entity, problem in self.db.execute(
                   "SELECT seq, kind, entity, problem FROM outbox WHERE problem IS NOT NULL "
                   "AND status != 'quarantined' AND pulled = 0 ORDER BY seq")]
        out += [{"source": "inbox", "cursor": cursor, "kind": kind, "entity": entity, "problem": problem}
                for cursor, kind, entity, problem in self.db.execute(
                    "SELECT cursor, kind, entity, problem FROM inbox WHERE problem IS NOT NULL ORDER BY cursor")]
        return out

    @_locked
    def purge_personal(self) -> None:
        """Sign-out or revocation: delete every event, state and identity; keep settings and the server address.
        The caller sends pending events first."""
        with self.db.atomic():
            for table in ("outbox", "inbox", "entities"):
                self.db.execute(f"DELETE FROM {table}")
            keep = [SETTING + "%"]
            self.db.execute(f"DELETE FROM meta WHERE key NOT LIKE ? AND key NOT IN ({_marks(KEPT_ON_PURGE)})",
                            keep + list(KEPT_ON_PURGE))
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ---- reads for the screens (plain dicts) ---------------------------------------------

    def _year(self) -> int:
        return self._clock().astimezone(VIETNAM).year

    def _entities(self, sql: str, params: Sequence[Any] = ()) -> list[Entity]:
        return [Entity.from_json(r[0], r[1], r[2], r[3], json.loads(r[4]))
                for r in self.db.execute(f"SELECT id, type, hamlet_id, parent_id, body FROM entities {sql}", params)]

    @staticmethod
    def _plain(entity: Entity) -> dict[str, Any]:
        return {"id": entity.id, **entity.data, "hamlet_id": entity.hamlet_id, "version": entity.version}

    @_locked
    def hamlets(self) -> list[dict[str, Any]]:
        """Hamlets known here, by name, with their household and visited counts."""
        counts = {r[0]: (r[1], r[2]) for r in self.db.execute(
            "SELECT hamlet_id, count(*), sum(json_extract(body, '$.data.visits') > 0) FROM entities "
            "WHERE type = 'household' GROUP BY hamlet_id")}
        out = []
        for h in self._entities("WHERE type = 'hamlet' ORDER BY fold, id"):
            households, visited = counts.get(h.id, (0, 0))
            out.append({**self._plain(h), "households": households, "visited": visited or 0})
        return out

    def _household_rows(self, households: list[Entity]) -> list[dict[str, Any]]:
        year = self._year()
        ids = [h.id for h in households]
        people: dict[str, list[Entity]] = {}
        returned: set[str] = set()
        for chunk in _chunks(ids):
            for p in self._entities(f"WHERE type = 'person' AND parent_id IN ({_marks(chunk)}) ORDER BY id", chunk):
                people.setdefault(p.parent_id or "", []).append(p)
            returned.update(r[0] for r in self.db.execute(
                f"SELECT id FROM entities WHERE type = 'visit' AND parent_id IN ({_marks(chunk)}) "
                "AND json_extract(body, '$.data.review') = 'returned'", chunk))
        rows = []
        for h in households:
            members = people.get(h.id, [])
            needs = sorted({reason for p in members for reason in follow_up(p.data, year)},
                           key=FOLLOW_UP.index)
            rows.append({**self._plain(h), "people": len(members),
                         "people_here": sum(p.data.get("presence") in v.LIVING_HERE for p in members),
                         "follow_up": needs, "returned": h.data.get("last_visit_id") in returned})
        return rows

    @_locked
    def households(self, hamlet_id: str | None = None, search: str = "",
                   filter: str | None = None) -> list[dict[str, Any]]:
        """Households by address. search: every folded word appears in the address or a
        person's label. filter: not_visited, revisit (last outcome not_home), follow_up
        (see follow_up()), returned (the last visit was returned by the leader)."""
        if filter is not None and filter not in FILTERS:
            raise ValueError(f"filter must be one of {', '.join(FILTERS)}")
        where, params = ["h.type = 'household'"], []
        if hamlet_id is not None:
            where.append("h.hamlet_id = ?")
            params.append(hamlet_id)
        for word in fold(search).split():
            where.append("(h.fold LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM entities p WHERE p.parent_id = h.id "
                         "AND p.type = 'person' AND p.fold LIKE ? ESCAPE '\\'))")
            params += [_like(word), _like(word)]
        if filter == "not_visited":
            where.append("json_extract(h.body, '$.data.visits') = 0")
        elif filter == "revisit":
            where.append("json_extract(h.body, '$.data.last_outcome') = 'not_home'")
        households = [Entity.from_json(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in self.db.execute(
            "SELECT h.id, h.type, h.hamlet_id, h.parent_id, h.body FROM entities h "
            f"WHERE {' AND '.join(where)} ORDER BY h.fold, h.id", params)]
        rows = self._household_rows(households)
        if filter == "follow_up":
            rows = [r for r in rows if r["follow_up"]]
        elif filter == "returned":
            rows = [r for r in rows if r["returned"]]
        return rows

    @_locked
    def household(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "household":
            return None
        return self._household_rows([entity])[0]

    @_locked
    def people(self, household_id: str) -> list[dict[str, Any]]:
        """A household's people in the order they were added, with their follow-up needs."""
        year = self._year()
        return [{**self._plain(p), "follow_up": follow_up(p.data, year)}
                for p in self._entities("WHERE type = 'person' AND parent_id = ? ORDER BY id", [household_id])]

    @_locked
    def person(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "person":
            return None
        return {**self._plain(entity), "follow_up": follow_up(entity.data, self._year())}

    @_locked
    def visits(self, household_id: str) -> list[dict[str, Any]]:
        """A household's visits, newest first."""
        rows = [self._plain(e) for e in self._entities("WHERE type = 'visit' AND parent_id = ?", [household_id])]
        return sorted(rows, key=lambda r: (parse_at(r["at"]), r["id"]), reverse=True)

    @_locked
    def visit(self, id: str) -> dict[str, Any] | None:
        entity = self._load(id)
        if entity is None or entity.type != "visit":
            return None
        return self._plain(entity)

    @_locked
    def review_queue(self, hamlet_id: str | None = None) -> list[dict[str, Any]]:
        """Visits with no decision yet, oldest first, with their household's address."""
        sql = "WHERE type = 'visit' AND json_extract(body, '$.data.review') IS NULL"
        params: list[Any] = []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        out = []
        for visit in self._entities(sql, params):
            household = self._load(visit.parent_id)
            out.append({**self._plain(visit),
                        "address": household.data.get("address") if household is not None else None})
        return sorted(out, key=lambda r: (parse_at(r["at"]), r["id"]))

    @_locked
    def counts(self, hamlet_id: str | None = None) -> dict[str, int]:
        """The home screen: households, visited, left, revisits due, follow-up, today's visits, pending events."""
        rows = self.households(hamlet_id)
        today = self._clock().astimezone(VIETNAM).date().isoformat()
        sql, params = "SELECT json_extract(body, '$.data.at') FROM entities WHERE type = 'visit'", []
        if hamlet_id is not None:
            sql += " AND hamlet_id = ?"
            params.append(hamlet_id)
        visited = sum(1 for r in rows if r["visits"])
        return {
            "households": len(rows),
            "visited": visited,
            "left": len(rows) - visited,
            "revisit": sum(1 for r in rows if r["last_outcome"] == "not_home"),
            "follow_up": sum(1 for r in rows if r["follow_up"]),
            "returned": sum(1 for r in rows if r["returned"]),
            "today": sum(1 for (at,) in self.db.execute(sql, params) if at and local_day(at) == today),
            "pending": self.pending_count(),
            "quarantined": int(self.db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'quarantined'").fetchone()[0]),
        }

    @_locked
    def state(self) -> dict[str, dict[str, Any]]:
        """Every entity as {id: {type, hamlet_id, parent_id, data}}: what devices and the server must agree on."""
        return {e.id: {"type": e.type, "hamlet_id": e.hamlet_id, "parent_id": e.parent_id, "data": e.data}
                for e in self._entities("ORDER BY id")}

    @_locked
    def state_digest(self) -> str:
        """A deterministic dump of state(): sorted keys, no spaces, UTF-8 (compare with ==)."""
        return json.dumps(self.state(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

