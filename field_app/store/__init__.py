"""The device's local store: an outbox of its own events, an inbox of the server's, and the
state both project to. See docs/device.md for the tables and the rules.

One SQLite file (WAL, synchronous=FULL) in app-private storage, personal columns sealed
(sealed.py). Every change is an event written in the same transaction as the state it
produces (writer.py); the state is always a projection of events (campaign.projection),
recomputed per household when the server's order arrives (replay.py). The parts:

    schema.py     migrations, one function per version
    sealed.py     the connection, its lock, the cipher, the key check, scrub
    meta.py       settings, identity, sync bookkeeping (MetaValue)
    entities.py   the state table and its decrypted search keys
    log.py        the outbox and the inbox
    writer.py     commands → events + state, in one transaction
    replay.py     units, dependants, recompute
    syncstate.py  pending, acknowledge, resend, pulled pages, moves away, receipt, quarantine
    readmodels.py hamlets, households page, search, people, visits, review queue, counts
    summaries.py  the lists' in-memory summaries
    rows.py       the typed rows the reads return
    purge.py      the purge

`Store` composes them; its methods are what the app calls. Every public method runs
under the one re-entrant lock of the connection (the UI and the sync thread share it).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from campaign import sessions as rules
from campaign.entity import Entity
from campaign.events import InvalidEvent
from campaign.ids import CODE_LENGTH, normal_code, short_code, uuid7
from campaign.team_settings import TeamSettings, carried

from ..keys import KeyProvider
from . import purge
from .clock import Clock, system_clock, year
from .entities import Entities
from .errors import NotSignedIn, StoreError, StoreLocked, Tampered, WrongKey
from .meta import Meta, MetaValue
from .readmodels import ReadModels
from .replay import Replay
from .rows import (
    Counts,
    FieldChange,
    HamletRow,
    HouseholdRow,
    HouseholdsPage,
    PersonRow,
    QuarantinedEvent,
    Receipt,
    ReviewItem,
    Revisit,
    SearchMatch,
    VisitRow,
    Work,
)
from .sealed import SealedDatabase, file_for
from .summaries import FILTERS
from .syncstate import SyncState
from .writer import Writer

__all__ = [
    "FILTERS", "Counts", "FieldChange", "HamletRow", "HouseholdRow", "HouseholdsPage", "NotSignedIn", "PersonRow", "QuarantinedEvent", "Receipt",
    "ReviewItem", "Revisit", "SearchMatch", "Store", "StoreError", "StoreLocked", "Tampered", "VisitRow", "Work", "WrongKey", "file_for",
]


class Store:
    """The local store. `path` is a directory (the file is gocua.db inside) or a file.

    `key` is required: the 32-byte data key itself, or a KeyProvider (field_app.keys)
    that keeps it. The app passes `keys.provider_for(page, data_dir)`; a purge then
    destroys the key too. Tests pass raw bytes (`crypto.Cipher.new_key()`), which the
    caller owns: a purge cannot destroy them. There is no clear-text mode.
    Raises StoreLocked (the provider cannot give the key) or WrongKey (the key does
    not open this file) before anything is written.
    """

    def __init__(self, path: str | os.PathLike[str], clock: Clock | None = None, *,
                 key: bytes | KeyProvider) -> None:
        clock = clock or system_clock
        self.clock = clock
        self.sealed = SealedDatabase(path, key)
        self.meta = Meta(self.sealed)
        self.entities = Entities(self.sealed)
        self.replay = Replay(self.sealed, self.entities)
        self.writer = Writer(self.sealed, self.meta, self.entities, clock)
        self.sync = SyncState(self.sealed, self.meta, self.entities, self.replay, clock)
        self.reads = ReadModels(self.sealed, self.entities, clock)

    def this_year(self) -> int:
        """This year in Vietnam by the store's clock (the birth-year rule's upper end)."""
        return year(self.clock)

    @property
    def path(self) -> Path:
        return self.sealed.path

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite_utils connection (diagnostics, tests, the benchmarks)."""
        return self.sealed.db

    def close(self) -> None:
        self.sealed.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- settings and identity (meta.py) -------------------------------------------------

    server_url = MetaValue[str | None]("server_url")
    device_id = MetaValue[str | None]("device_id")
    token = MetaValue[str | None]("token")
    previous_token = MetaValue[str | None]("previous_token")  # signed out unheard: the next enrolment sends it
    role = MetaValue[str | None]("role")
    scope = MetaValue[Any]("scope")
    sign_key = MetaValue[str | None]("sign_key")  # the relay's Ed25519 private key (sealed): field_app/relay.py
    sign_key_registered = MetaValue[bool | None]("sign_key_registered")  # the server holds its public key
    box_key = MetaValue[str | None]("box_key")  # the down road's X25519 private key (sealed): field_app/relay.py
    box_key_registered = MetaValue[bool | None]("box_key_registered")  # the server holds its public key
    server_keys = MetaValue[Any]("server_keys")  # {"seal", "sign"}: GET /api/v1/server-key, public keys
    holder_name = MetaValue[str | None]("holder_name")  # who holds this phone, as enrolment told
    carried_team_settings = MetaValue[Any]("team_settings")  # as the last pull page said: see team_settings()

    def setting(self, name: str, default: Any = None) -> Any:
        """A preference (language …): kept across sign-out."""
        return self.meta.setting(name, default)

    def set_setting(self, name: str, value: Any) -> None:
        self.meta.set_setting(name, value)

    def enrol(self, server_url: str, device_id: str, token: str, role: str, scope: Any,
              name: str | None = None) -> None:
        """Keep what POST /api/v1/enroll answered. A new device id needs an empty outbox."""
        self.meta.enrol(server_url, device_id, token, role, scope, name)

    def keep_sign_key(self, private: str, registered: bool) -> None:
        """The sealed relay's signing key (sealed at rest), and whether the server has its public key."""
        self.meta.keep_sign_key(private, registered)

    def team_settings(self) -> TeamSettings:
        """The team's review sample rate and walk-list lapse days, as the server last sent them
        (the defaults before it did, or from an older server)."""
        return carried(self.carried_team_settings)

    def keep_team_settings(self, settings: Any) -> None:
        """Keep what a pull page carried (the server's `team_settings`), read as campaign reads it."""
        self.meta.keep_team_settings(carried(settings).as_wire())

    def keep_box_key(self, private: str, registered: bool) -> None:
        """The down road's box key (sealed at rest), and whether the server has its public key."""
        self.meta.keep_box_key(private, registered)

    def device_names(self) -> dict[str, str]:
        """Device id -> its holder's name, from the team lists seen (names shown instead of ids)."""
        return self.meta.device_names()

    def remember_device_names(self, names: dict[str, str]) -> None:
        self.meta.remember_device_names(names)

    def keep_previous_token(self, token: str | None) -> None:
        """Keep (sealed) the token of a sign-out the server did not hear, for the next enrolment."""
        self.meta.keep_previous_token(token)

    @property
    def signed_in(self) -> bool:
        return self.meta.signed_in

    # ---- the screens' writes (writer.py) -----------------------------------------------------

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Several writes as one: all of them or none (a visit and the statuses it changed)."""
        return self.writer.transaction()

    def record(self, kind: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        """One change of any kind, validated, applied and logged (the commands below use it)."""
        return self.writer.record(kind, entity, data)

    def add_household(self, hamlet_id: str, address: str, consent: str = "unknown") -> str:
        return self.writer.add_household(hamlet_id, address, consent)

    def update_household(self, id: str, **changes: Any) -> dict[str, Any] | None:
        """Change address, consent or hamlet_id; None when nothing changed (see Writer)."""
        return self.writer.update_household(id, **changes)

    def add_person(self, household_id: str, label: str | None = None, birth_year: int | None = None,
                   presence: str = "home", card: str = "unknown", vneid: str = "unknown") -> str:
        return self.writer.add_person(household_id, label, birth_year, presence, card, vneid)

    def update_person(self, id: str, **changes: Any) -> dict[str, Any] | None:
        return self.writer.update_person(id, **changes)

    def record_visit(self, household_id: str, outcome: str, actions: Iterable[str] = (),
                     people_helped: Iterable[str] = (), note: str = "",
                     come_back: dict[str, Any] | None = None) -> str:
        return self.writer.record_visit(household_id, outcome, actions, people_helped, note, come_back)

    def decide_review(self, visit_id: str, decision: str, comment: str = "") -> dict[str, Any]:
        return self.writer.decide_review(visit_id, decision, comment)

    def assign(self, household_ids: Iterable[str], device_id: str | None) -> int:
        """A leader's walk list: one `assignment.set` per household whose holder changes (device
        None: back to the pool). Returns how many events were written."""
        written = 0
        for household_id in household_ids:
            row = self.reads.household(household_id)
            if row is not None and row.assigned_to == device_id:
                continue
            self.writer.record("assignment.set", household_id, {"device_id": device_id})
            written += 1
        return written

    def void_visit(self, visit_id: str, reason: str = "", restore: Iterable[FieldChange] = ()) -> dict[str, Any]:
        """Take a visit back, with the person fields it changed put back (see Writer.void_visit)."""
        return self.writer.void_visit(visit_id, reason, restore)

    def merge_person(self, duplicate: str, into: str) -> dict[str, Any]:
        """Fold a person recorded twice into one (person.merged: leaders and officers); both
        people must be on this device. InvalidEvent leaves the store untouched."""
        return self.writer.record("person.merged", duplicate, {"into": into})

    def resolve_conflict(self, entity: str, field: str, value: Any) -> dict[str, Any]:
        return self.writer.resolve_conflict(entity, field, value)

    def book(self, session_id: str, person_id: str) -> str:
        """Book a person into a capture session (booking.made), offline: never refused for
        capacity (campaign.sessions). Returns the booking's id."""
        booking = uuid7()
        self.writer.record("booking.made", booking, {"session_id": session_id, "person_id": person_id})
        return booking

    def move_booking(self, booking_id: str, session_id: str) -> str:
        """Move a booking to another session (a leader or officer placing someone past capacity):
        the booking `cancelled` (booking.updated) and the person booked into `session_id`
        (booking.made), both or neither. Returns the new booking's id; InvalidEvent leaves the
        store untouched (a session of another commune, a cancelled booking)."""
        with self.writer.transaction():
            booking = self.entities.load(booking_id)
            if booking is None or booking.type != "booking" or booking.data.get("status") == "cancelled":
                raise InvalidEvent("unknown_entity", f"no booking {booking_id} to move here")
            if booking.parent_id == session_id:
                raise InvalidEvent("bad_booking", "a booking moves to another session")
            person = rules.person_of(booking.data, self.entities.load)  # a duplicate merged since: the one kept
            self.writer._record("booking.updated", booking_id, {"status": "cancelled"})
            moved = uuid7()
            self.writer._record("booking.made", moved, {"session_id": session_id, "person_id": person})
        return moved

    def sessions(self) -> list[Entity]:
        """The capture sessions this phone holds (its commune's, pulled), soonest first."""
        found = self.entities.select("WHERE type = 'session'")
        return sorted(found, key=lambda s: (str(s.data.get("starts_at")), s.id))

    def bookings_in(self, session_id: str) -> list[Entity]:
        """A session's bookings on this phone (campaign.sessions.hold_order sorts them)."""
        return self.entities.select("WHERE type = 'booking' AND parent_id = ?", [session_id])

    def bookings_of(self, person_id: str) -> list[Entity]:
        """A person's capture bookings on this phone."""
        return [b for b in self.entities.select("WHERE type = 'booking'") if b.data.get("person_id") == person_id]

    # ---- reads for the screens (readmodels.py) ---------------------------------------------

    def hamlets(self) -> list[HamletRow]:
        return self.reads.hamlets()

    def households_page(self, hamlet_id: str | None = None, search: str = "", filter: str | None = None,
                        offset: int = 0, limit: int = 100) -> tuple[list[HouseholdRow], int]:
        """(rows, total) of households_search."""
        found = self.reads.households_page(hamlet_id, search, filter, offset, limit)
        return found.rows, found.total

    def households_search(self, hamlet_id: str | None = None, search: str = "", filter: str | None = None,
                          offset: int = 0, limit: int = 100) -> HouseholdsPage:
        """A page of the households screen with what the whole search found (readmodels.py): this
        device's households first ("Của tôi") when nothing is searched."""
        return self.reads.households_page(hamlet_id, search, filter, offset, limit, self.device_id,
                                          self.team_settings().lapse_days)

    def households_by_code(self, typed: str) -> list[HouseholdRow]:
        """The households whose walk-sheet code (campaign.ids.short_code) is what was typed
        ("7km-2q" finds 7KM2Q; O, I and L read as 0, 1, 1): the results on paper keyed back."""
        code = normal_code(typed)
        if len(code) != CODE_LENGTH:
            return []
        with self.sealed.lock:
            ids = [id for (id,) in self.sealed.db.execute("SELECT id FROM entities WHERE type = 'household'")
                   if short_code(id) == code]
        return [row for id in ids if (row := self.household(id)) is not None]

    def household(self, id: str) -> HouseholdRow | None:
        return self.reads.household(id)

    def revisits(self) -> list[Revisit]:
        """Every household here to revisit, with when its latest visit said to come back."""
        return self.reads.revisits()

    def same_address(self, hamlet_id: str, address: str) -> list[HouseholdRow]:
        """The hamlet's households at that address (folded compare): adding one more is warned."""
        return self.reads.same_address(hamlet_id, address)

    def people(self, household_id: str) -> list[PersonRow]:
        return self.reads.people(household_id)

    def person(self, id: str) -> PersonRow | None:
        return self.reads.person(id)

    def similar_people(self, household_id: str, hamlet_id: str | None, label: str,
                       birth_year: int | None) -> list[PersonRow]:
        return self.reads.similar_people(household_id, hamlet_id, label, birth_year)

    def visits(self, household_id: str) -> list[VisitRow]:
        return self.reads.visits(household_id)

    def review_queue(self, hamlet_id: str | None = None) -> list[ReviewItem]:
        return self.reads.review_queue(hamlet_id)

    def counts(self, hamlet_id: str | None = None) -> Counts:
        with self.sealed.lock:
            return self.reads.counts(hamlet_id, self.sync.pending_count(), self.sync.quarantined_count(),
                                     self.device_id)

    # ---- sync bookkeeping (syncstate.py) --------------------------------------------------

    pull_cursor = MetaValue[int]("pull_cursor", int, 0)
    acked_seq = MetaValue[int]("acked_seq", int, 0)
    last_sync_ok = MetaValue[str | None]("last_sync_ok")

    @property
    def last_seq(self) -> int:
        return self.sync.last_seq

    def record_sync_success(self, at: str | None = None) -> None:
        self.sync.record_sync_success(at)

    def record_sync_error(self, text: str) -> None:
        self.sync.record_sync_error(text)

    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        return self.sync.pending(limit)

    def pending_count(self) -> int:
        return self.sync.pending_count()

    def work(self, which: str = "pending") -> Work:
        """This device's `pending`, `sent` or `quarantined` events as visits, reviews, households
        and people (never "events" to a person: see rows.Work)."""
        return self.sync.work(which)

    def work_between(self, first: int, last: int) -> Work:
        """This device's events first..last (a relay bundle's seq range), told as `work` tells them."""
        return self.sync.work_between(first, last)

    def acknowledge(self, acked_seq: int, quarantined: Iterable[Mapping[str, Any]] = (),
                    cursors: Iterable[tuple[int, int]] = ()) -> None:
        self.sync.acknowledge(acked_seq, quarantined, cursors)

    def own_filed_upto(self) -> int:
        return self.sync.own_filed_upto()

    def resend_from(self, expected_seq: int) -> None:
        self.sync.resend_from(expected_seq)

    def apply_pulled(self, events: list[dict[str, Any]], next_cursor: int) -> None:
        self.sync.apply_pulled(events, next_cursor)

    def local_receipt(self) -> Receipt:
        return self.sync.local_receipt()

    def quarantined(self) -> list[QuarantinedEvent]:
        return self.sync.quarantined()

    def event_times(self, event_ids: Iterable[Any]) -> dict[str, str]:
        return self.sync.event_times(event_ids)

    # ---- purge (purge.py) ------------------------------------------------------------------

    def purge_personal(self) -> None:
        """Delete every event, the state and the identity; keep settings and the server address;
        VACUUM, then destroy the data key. The caller sends first: field_app/signout.py."""
        purge.purge_personal(self.sealed, self.meta, (self.entities.forget_decrypted, self.reads.forget_decrypted))
