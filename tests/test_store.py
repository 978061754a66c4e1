"""The device store: events and state in one transaction, state as a projection.

A small reference server below (stores each (device, seq) once, applies in cursor
order, quarantines what the projection refuses) stands in for sync_server so the
store's recompute can be checked against "apply everything in server order".
"""
from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from campaign.events import InvalidEvent, canonical, check_event, digest, generic_label, quarantine_line
from campaign.followup import follow_up
from campaign.ids import uuid7
from campaign.projection import Entity, apply
from field_app.crypto import Cipher
from field_app.datadir import data_dir
from field_app.store import Counts, NotSignedIn, QuarantinedEvent, Receipt, Store, StoreError
from field_app.store import schema as store_schema
from field_app.store.entities import Entities

from .store_support import (
    add_hamlet,
    assign,
    household_list,
    outbox_rows,
    problems_of,
    recompute_all,
    state_digest,
    state_of,
    visit_of,
)
from .support import wire_event

VN = timezone(timedelta(hours=7))
COMMUNE = "10525"  # Phường Hải Dương
KEY = Cipher.new_key()  # the data key of every store here (tests/test_store_encryption.py tests the keys)


class Clock:
    """A device clock that moves a minute each time it is read."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=VN)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def open_store(path: Path, device: str = "dev-a", clock: Clock | None = None) -> Store:
    s = Store(path, clock=clock or Clock(), key=KEY)
    s.enrol("http://127.0.0.1:8000", device, "token-" + device, "volunteer", {"hamlets": []})
    return s


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "a")
    yield s
    s.close()


def outbox(s: Store) -> list[dict]:
    return [{k: r[k] for k in ("seq", "kind", "status", "body")} for r in outbox_rows(s)]


def entity_count(s: Store) -> int:
    return s.db.execute("SELECT count(*) FROM entities").fetchone()[0]


class RefServer:
    """Exactly-once per (device, seq), projection in cursor order, quarantine on refusal."""

    def __init__(self) -> None:
        self.log: list[tuple[int, dict]] = []
        self.held: dict[tuple[str, int], str] = {}
        self.acked: dict[str, int] = {}
        self.state: dict[str, Entity] = {}
        self.quarantined: dict[tuple[str, int], str] = {}

    def push(self, s: Store, limit: int = 500) -> None:
        events = s.pending(limit=limit)
        if not events:
            return
        answer = []
        for event in events:
            key = (event["device_id"], event["seq"])
            if key in self.held:
                assert self.held[key] in (canonical(event), quarantine_line(canonical(event)))
                continue
            assert event["seq"] == self.acked.get(event["device_id"], 0) + 1
            self.held[key] = canonical(event)
            self.acked[event["device_id"]] = event["seq"]
            cursor = len(self.log) + 1
            try:
                check_event(event)
                outcome = apply(event, cursor, self.state.get, children_in(self.state))
            except InvalidEvent as exc:
                self.quarantined[key] = exc.detail
                self.held[key] = quarantine_line(self.held[key])  # what the server keeps (issue #12, M2)
                answer.append({"seq": event["seq"], "reason": exc.detail})
                continue
            self.log.append((cursor, event))
            commit(self.state, outcome)
        s.acknowledge(self.acked[events[0]["device_id"]], answer)

    def pull(self, s: Store, page: int = 7) -> None:
        while True:
            after = s.pull_cursor
            events = [{**e, "cursor": c} for c, e in self.log if c > after][:page]
            nxt = events[-1]["cursor"] if events else after
            s.apply_pulled(events, nxt)
            if len(events) < page:
                return

    def sync(self, s: Store) -> None:
        self.push(s)
        self.pull(s)

    def dump(self) -> dict:
        return dump(self.state)


def children_in(state: dict[str, Entity]) -> Callable[[str], list[Entity]]:
    """A household's people and visits, as the server gives them to the projection."""
    return lambda household: [e for e in state.values() if e.parent_id == household]


def commit(state: dict[str, Entity], outcome) -> None:
    state.update(outcome.changed)  # a move's people and visits included (apply was given children)


def dump(state: dict[str, Entity]) -> dict:
    return {e.id: {"type": e.type, "hamlet_id": e.hamlet_id, "parent_id": e.parent_id, "data": e.data}
            for e in sorted(state.values(), key=lambda e: e.id)}


def replay_in_order(events: list[tuple[int | None, dict]]) -> dict:
    """The definition of a device's state: apply in the given order, skip what is refused."""
    state: dict[str, Entity] = {}
    for version, event in events:
        try:
            outcome = apply(event, version, state.get, children_in(state))
        except InvalidEvent:
            continue
        commit(state, outcome)
    return dump(state)


def expected_device_state(server: RefServer, s: Store) -> dict:
    """Server events the device has pulled, in cursor order, then its own unseen, unquarantined ones by seq."""
    seen = {(e["device_id"], e["seq"]) for c, e in server.log if c <= s.pull_cursor}
    mine = [(None, json.loads(r["body"])) for r in outbox_rows(s) if r["status"] != "quarantined"]
    mine = [(v, e) for v, e in mine if (e["device_id"], e["seq"]) not in seen]
    return replay_in_order([(c, e) for c, e in server.log if c <= s.pull_cursor] + mine)


def seed(s: Store) -> tuple[str, str]:
    hamlet = add_hamlet(s, COMMUNE, "Tổ dân phố 3", "to_dan_pho", "2025-07-01")
    household = s.add_household(hamlet, "Số 12 ngõ 4 Nguyễn Văn A", "given")
    return hamlet, household


# ---- one event per write, in the write's transaction ------------------------------

def test_every_write_is_one_event_with_seq_1_2_3(store):
    hamlet = add_hamlet(store, COMMUNE, "Thôn Đông", "thon", "2025-07-01")
    household = store.add_household(hamlet, "Xóm 1", "unknown")
    person = store.add_person(household, "Lê Thị Hoa", 1990, "home", "none", "no_app")
    store.update_person(person, card="cccd_chip")
    visit = store.record_visit(household, "met", ["explained", "l1_help"], [person], "đã hướng dẫn")
    store.decide_review(visit, "approved")
    assign(store, household, "dev-b")
    rows = outbox(store)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["kind"] for r in rows] == ["hamlet.created", "household.created", "person.added", "person.updated",
                                        "visit.recorded", "review.decided", "assignment.set"]
    pending = store.pending()
    assert [e["seq"] for e in pending] == [1, 2, 3, 4, 5, 6, 7]
    for event, row in zip(pending, rows, strict=True):
        check_event(event)
        assert canonical(event) == row["body"]  # as canonical, byte for byte
        assert event["device_id"] == "dev-a" and event["schema"] == 1
        assert datetime.fromisoformat(event["at"]).utcoffset() == timedelta(hours=7)
    assert store.person(person).card == "cccd_chip"
    assert visit_of(store, visit).review == "approved"
    assert store.household(household).assigned_to == "dev-b"
    assert store.pending(limit=3) == pending[:3]
    # unchanged fields make no event
    assert store.update_person(person, card="cccd_chip") is None
    assert store.last_seq == 7


def test_a_failure_inside_the_transaction_leaves_neither_event_nor_state(store, monkeypatch):
    _hamlet, household = seed(store)
    before = (outbox(store), state_digest(store))

    def boom(self, entity):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Entities, "put", boom)
    with pytest.raises(RuntimeError):
        store.add_person(household, "Trần Văn Bình", 1985)
    with pytest.raises(RuntimeError):
        store.update_household(household, address="Số 14")
    monkeypatch.undo()
    assert (outbox(store), state_digest(store)) == before
    store.add_person(household, "Trần Văn Bình", 1985)
    assert [r["seq"] for r in outbox(store)] == [1, 2, 3]  # no gap where the failures were


def test_a_visit_and_the_statuses_it_changes_are_one_transaction(store, monkeypatch):
    """record_outcome writes each helped person's new VNeID status, then the visit: a failure at
    the visit must not leave the statuses changed (as if helped by a visit that never was)."""
    from field_app.visit_record import VisitDraft, record_outcome

    _hamlet, household = seed(store)
    person = store.add_person(household, "Lê Thị Hoa", 1990, "home", "cccd_chip", "l1_approved")
    before = (outbox(store), state_digest(store))
    draft = VisitDraft()
    draft.toggle(person, "activation_help")
    real = Store.record_visit

    def failing_visit(self, *args, **kwargs):
        raise RuntimeError("the phone died here")

    monkeypatch.setattr(Store, "record_visit", failing_visit)
    with pytest.raises(RuntimeError):
        record_outcome(store, household, "met", draft)
    assert (outbox(store), state_digest(store)) == before
    assert store.person(person).vneid == "l1_approved"
    monkeypatch.setattr(Store, "record_visit", real)
    record_outcome(store, household, "met", draft)
    assert [r["kind"] for r in outbox(store)][-2:] == ["person.updated", "visit.recorded"]
    assert store.person(person).vneid == "l1_active"


@pytest.mark.parametrize("call", [
    lambda s, h, hh: s.add_household(h, "Số 1", "maybe"),  # unknown consent code
    lambda s, h, hh: s.add_household(h, "x" * 121, "given"),  # too long
    lambda s, h, hh: s.add_household(uuid7(), "Số 1", "given"),  # unknown hamlet
    lambda s, h, hh: s.add_person(hh, "An", 1800),  # birth year out of range
    lambda s, h, hh: s.add_person(hh, "Bé Na", 2024, vneid="l2_active"),  # under 6: level 1 only
    lambda s, h, hh: s.record_visit(hh, "not_home", ["explained"]),  # nobody home helps nobody
    lambda s, h, hh: s.record_visit(hh, "met", ["explained", "explained"]),  # duplicates
    lambda s, h, hh: s.record_visit(hh, "met", [], [uuid7()]),  # not a person here
    lambda s, h, hh: s.update_household(hh, address="  "),
    lambda s, h, hh: s.update_person(uuid7(), card="none"),
    lambda s, h, hh: s.writer.record("household.updated", hh, {"colour": "blue"}),
    lambda s, h, hh: s.writer.record("household.exploded", hh, {}),
    lambda s, h, hh: s.writer.record("household.updated", hh, {"address": {1, 2}}),  # not JSON
    lambda s, h, hh: add_hamlet(s, "99999", "Thôn Ma"),  # not an official commune
])
def test_bad_input_raises_invalid_event_and_stores_nothing(store, call):
    hamlet, household = seed(store)
    before = (outbox(store), state_digest(store))
    with pytest.raises(InvalidEvent):
        call(store, hamlet, household)
    assert (outbox(store), state_digest(store)) == before


def test_nfd_input_is_stored_nfc(store):
    hamlet = add_hamlet(store, COMMUNE, unicodedata.normalize("NFD", "Thôn Hoà Bình"))
    household = store.add_household(hamlet, unicodedata.normalize("NFD", "Đường Nguyễn Trãi"), "given")
    person = store.add_person(household, unicodedata.normalize("NFD", "Nguyễn Thị Huệ"), 1970)
    assert store.household(household).address == unicodedata.normalize("NFC", "Đường Nguyễn Trãi")
    assert store.person(person).label == unicodedata.normalize("NFC", "Nguyễn Thị Huệ")
    for body in [r["body"] for r in outbox_rows(store)] + [state_digest(store)]:
        assert unicodedata.is_normalized("NFC", body)


def test_declined_consent_renames_people_first_in_one_transaction(store):
    _hamlet, household = seed(store)
    first = store.add_person(household, "Nguyễn Văn An", 1960)
    second = store.add_person(household, "Nguyễn Thị Bình", 1965)
    store.update_household(household, consent="declined")
    assert {p.label for p in store.people(household)} == {generic_label(1), generic_label(2)}
    kinds = [r["kind"] for r in outbox(store)]
    assert kinds[-3:] == ["person.updated", "person.updated", "household.updated"]
    assert store.household(household).consent == "declined"
    # names are refused from now on; an unnamed person gets the next number
    with pytest.raises(InvalidEvent):
        store.add_person(household, "Trần Văn Cường", 1990)
    with pytest.raises(InvalidEvent):
        store.update_person(first, label="Nguyễn Văn An")
    third = store.add_person(household)
    assert store.person(third).label == generic_label(3)
    assert store.person(second).birth_year == 1965  # counts stay right


def test_settling_consent_to_declined_renames_people_too(store):
    _hamlet, household = seed(store)
    person = store.add_person(household, "Nguyễn Văn An", 1960)
    store.resolve_conflict(household, "consent", "declined")
    assert [r["kind"] for r in outbox(store)][-2:] == ["person.updated", "conflict.resolved"]
    assert store.person(person).label == generic_label(1)
    store.resolve_conflict(person, "card", "cccd_chip")
    assert store.person(person).card == "cccd_chip"
    with pytest.raises(InvalidEvent):
        store.resolve_conflict(household, "colour", "blue")


def test_declined_consent_with_a_bad_change_renames_nobody(store):
    _hamlet, household = seed(store)
    store.add_person(household, "Nguyễn Văn An", 1960)
    before = (outbox(store), state_digest(store))
    with pytest.raises(InvalidEvent):
        store.update_household(household, consent="declined", address="x" * 200)
    assert (outbox(store), state_digest(store)) == before


def test_household_move_carries_people_and_visits(store):
    hamlet, household = seed(store)
    other = add_hamlet(store, COMMUNE, "Tổ dân phố 5", "to_dan_pho", "2025-07-01")
    person = store.add_person(household, "An", 1990)
    visit = store.record_visit(household, "met", ["explained"], [person])
    store.update_household(household, hamlet_id=other)
    assert store.household(household).hamlet_id == other
    assert store.person(person).hamlet_id == other
    assert visit_of(store, visit).hamlet_id == other
    assert [h.id for h in household_list(store, hamlet_id=other)] == [household]
    assert household_list(store, hamlet_id=hamlet) == []


# ---- state = server order + own pending on top -------------------------------------

def test_recompute_with_server_events_interleaved_equals_server_order(tmp_path):
    server = RefServer()
    a, b = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "b", "dev-b")
    _hamlet, household = seed(a)
    person = a.add_person(household, "Phạm Văn Dũng", 1980, card="none", vneid="no_app")
    server.sync(a)
    server.sync(b)
    # both work offline on the same household and person
    a.update_person(person, card="applied_waiting")  # same field as b: a conflict, arrival order wins
    a.record_visit(household, "met", ["booked_home_capture"], [person], "hẹn thứ hai")
    b.update_person(person, card="cccd_chip", vneid="l2_pending")
    assign(b, household, "dev-a")
    b.update_household(household, address="Số 12A ngõ 4")
    server.push(b)
    server.pull(a)  # b's events arrive under a's pending ones
    assert state_of(a) == expected_device_state(server, a)
    assert a.person(person).card == "applied_waiting"  # a's own pending change on top
    assert a.person(person).vneid == "l2_pending"  # b's other field merged
    assert a.household(household).assigned_to == "dev-a"
    assert a.household(household).visits == 1
    # the base of a's next change is the server version it now holds
    assert a.household(household).version == server.state[household].version == len(server.log)
    assert a.update_household(household, address="Số 12B")["base"] == len(server.log)
    server.sync(a)
    server.sync(b)
    assert state_of(a) == state_of(b) == server.dump()
    assert a.person(person).card == "applied_waiting"  # a arrived last
    assert a.pending() == [] and b.pending() == []


def test_a_pending_event_made_invalid_by_the_server_is_skipped_and_flagged(tmp_path):
    server = RefServer()
    a, b = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "b", "dev-b")
    _hamlet, household = seed(a)
    person = a.add_person(household, "Võ Thị E", 1975)
    server.sync(a)
    server.sync(b)
    a.update_person(person, label="Võ Thị Em")  # pending rename ...
    b.update_household(household, consent="declined")  # ... while b records a refusal
    server.push(b)
    server.pull(a)
    assert a.person(person).label == generic_label(1)
    assert a.household(household).consent == "declined"
    problems = problems_of(a)
    assert [(p["source"], p["kind"]) for p in problems] == [("outbox", "person.updated")]
    assert "declined" in problems[0]["problem"]
    assert state_of(a) == expected_device_state(server, a)
    server.sync(a)  # the server quarantines it; it stays out of the state
    assert [q.kind for q in a.quarantined()] == ["person.updated"]
    server.sync(b)
    assert state_of(a) == state_of(b) == server.dump()
    assert problems_of(a) == []


def test_quarantined_events_leave_the_state(store):
    _hamlet, household = seed(store)
    person = store.add_person(household, "Hoàng Văn F", 1988)
    visit = store.record_visit(household, "met", ["explained"], [person])
    store.acknowledge(4, [{"seq": 3, "reason": "not in your hamlets"}])
    assert store.person(person) is None  # its person.added was refused ...
    assert visit_of(store, visit) is None  # ... and so the visit that named it cannot stand
    assert store.household(household).visits == 0
    assert store.quarantined() == [QuarantinedEvent(seq=3, kind="person.added", reason="not in your hamlets",
                                                    at=json.loads(outbox(store)[2]["body"])["at"], entity=person)]
    assert store.pending() == [] and store.acked_seq == 4
    assert [r["status"] for r in outbox(store)] == ["acked", "acked", "quarantined", "acked"]
    assert [p["kind"] for p in problems_of(store)] == ["visit.recorded"]  # flagged: it names a refused person


def test_apply_pulled_twice_is_idempotent_and_marks_own_events(tmp_path):
    server = RefServer()
    a, b = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "b", "dev-b")
    hamlet, household = seed(a)
    a.add_person(household, "Đỗ Văn G", 1999)
    server.push(a)
    server.pull(b)
    b_household = b.add_household(hamlet, "Số 2", "given")
    server.push(b)
    page = [{**e, "cursor": c} for c, e in server.log]
    a.apply_pulled(page, page[-1]["cursor"])
    first = (state_digest(a), list(a.db.execute("SELECT * FROM inbox ORDER BY cursor")), a.pull_cursor)
    a.apply_pulled(page, page[-1]["cursor"])
    a.apply_pulled(page[:2], page[1]["cursor"])  # an old page again must not move the cursor back
    assert (state_digest(a), list(a.db.execute("SELECT * FROM inbox ORDER BY cursor")), a.pull_cursor) == first
    assert [r[0] for r in a.db.execute("SELECT pulled FROM outbox ORDER BY seq")] == [1, 1, 1]
    assert a.household(b_household).address == "Số 2"
    assert state_of(a) == server.dump()


def test_a_hamlet_closed_later_does_not_undo_households_the_server_accepted(store):
    """Recompute replays a household with its hamlet's events in server order, not against today's hamlet."""
    hamlet, admin = uuid7(), "dev-admin"
    household = uuid7()

    def ev(seq, kind, entity, data, at):
        return {**wire_event(admin, seq, kind, entity, data, at=at), "cursor": seq}

    page = [
        ev(1, "hamlet.created", hamlet, {"commune": COMMUNE, "name": "Thôn Cũ", "kind": "thon",
                                         "valid_from": "2025-07-01", "valid_to": None}, "2026-01-01T08:00:00+07:00"),
        ev(2, "household.created", household, {"hamlet_id": hamlet, "address": "Số 9", "consent": "given"},
           "2026-03-05T08:00:00+07:00"),
        ev(3, "hamlet.updated", hamlet, {"valid_to": "2026-03-01"}, "2026-03-10T08:00:00+07:00"),
    ]
    store.apply_pulled(page, 3)
    assert store.household(household).address == "Số 9"
    recompute_all(store)
    assert store.household(household).address == "Số 9"
    assert problems_of(store) == []
    # a device's own new household in the closed hamlet is refused on the spot
    with pytest.raises(InvalidEvent):
        store.add_household(hamlet, "Số 10", "given")


def test_people_stored_by_an_older_app_without_derived_fields_keep_working(tmp_path):
    """An app updated in the field opens rows an older version wrote: a person without
    `vneid_active_at` (campaign/projection.py derives it; older apps did not). Every read the
    screens make, every edit and a sync work on them; the field comes back as soon as the
    household is rebuilt from the log (here: by the pull after the next sync)."""
    server = RefServer()
    s = open_store(tmp_path / "a")
    hamlet, household = seed(s)
    active = s.add_person(household, "Lê Thị Mai", 1980, card="cccd_chip", vneid="l1_active")
    waiting = s.add_person(household, "Lê Văn Nam", 1975, card="none", vneid="l1_approved")
    server.sync(s)
    added_at = s.person(active).vneid_active_at
    assert added_at is not None and s.person(waiting).vneid_active_at is None
    for person in (active, waiting):  # as the older app stored them
        entity = s.entities.load(person)
        del entity.data["vneid_active_at"]
        s.entities.put(entity)
    assert "vneid_active_at" not in state_of(s)[active]["data"] and s.person(active).vneid_active_at is None

    assert {p.id for p in s.people(household)} == {active, waiting}
    assert s.person(waiting).follow_up == ("card_capture", "activation")
    assert [h.id for h in household_list(s, hamlet, search="mai")] == [household]
    assert [h.id for h in household_list(s, hamlet, filter="follow_up")] == [household]
    assert s.household(household).people_here == 2
    assert s.counts(hamlet).follow_up == 1 and s.hamlets()[0].households == 1
    state_digest(s)

    s.update_person(active, card="can_cuoc")  # another field: the old row stays as it was
    assert "vneid_active_at" not in state_of(s)[active]["data"] and s.person(active).vneid_active_at is None
    s.update_person(waiting, vneid="l1_active")  # an activation on an old row is timed
    assert s.person(waiting).vneid_active_at is not None
    s.record_visit(household, "met", ["activation_help"], [waiting])
    server.sync(s)
    assert problems_of(s) == [] and s.pending() == []
    assert state_of(s) == server.dump()  # rebuilt from the log: the field is on every person again
    assert s.person(active).vneid_active_at == added_at
    recompute_all(s)  # the repair an app update may run changes nothing more
    assert state_of(s) == server.dump()


def test_pulled_events_from_a_newer_app_are_kept_and_skipped(store):
    _hamlet, household = seed(store)
    newer = wire_event("dev-new", 1, "household.photographed", household, {"x": 1}, at="2026-03-02T08:00:00+07:00")
    store.apply_pulled([{**newer, "schema": 2, "cursor": 1}], 1)
    assert store.household(household).address.startswith("Số 12")
    assert [p["kind"] for p in problems_of(store)] == ["household.photographed"]


# ---- the sync side's bookkeeping ---------------------------------------------------------

def test_local_receipt_digest_equals_campaign_digest(store):
    _hamlet, household = seed(store)
    store.add_person(household, "An", 1990)
    store.add_person(household, "Bình", 1991)
    assert store.local_receipt().acked_seq == 0
    store.acknowledge(3, [{"seq": 3, "reason": "refused"}])
    bodies = [r["body"] for r in outbox(store)]
    events = [json.loads(b) for b in bodies]
    receipt = store.local_receipt()
    assert receipt == Receipt(acked_seq=3,
                              counts={"hamlet.created": 1, "household.created": 1, "person.added": 1},
                              digest=digest([canonical(events[0]), canonical(events[1]),
                                             quarantine_line(canonical(events[2]))]))  # as the server keeps it
    assert [e["seq"] for e in store.pending()] == [4]


def test_resend_from_rewinds_what_the_server_lost(store):
    _hamlet, household = seed(store)
    store.add_person(household, "An", 1990)
    store.acknowledge(3, [{"seq": 2, "reason": "x"}])
    store.resend_from(2)
    assert store.acked_seq == 1
    assert [e["seq"] for e in store.pending()] == [2, 3]
    store.acknowledge(3, [])  # accepted this time: back in the state
    assert store.household(household) is not None
    assert store.quarantined() == []


def test_acknowledge_never_goes_past_what_was_made(store):
    seed(store)
    store.acknowledge(99, [])
    assert store.acked_seq == 2
    store.add_household(store.hamlets()[0].id, "Số 3")
    assert [e["seq"] for e in store.pending()] == [3]


def test_sync_status_bookkeeping(store):
    assert store.last_sync_ok is None and store.sync.last_error is None
    store.record_sync_error("no connection")
    assert store.sync.last_error == "no connection" and store.sync.last_error_at
    store.record_sync_success("2026-03-02T09:00:00+07:00")
    assert store.last_sync_ok == "2026-03-02T09:00:00+07:00" and store.sync.last_error is None


# ---- reads ---------------------------------------------------------------------------

def test_folded_search_finds_addresses_and_people(store):
    hamlet, household = seed(store)
    other = store.add_household(hamlet, "Đường Hoà Bình", "given")
    third = store.add_household(hamlet, "Xóm Chùa", "given")
    store.add_person(third, "Nguyễn Văn A", 1950)
    assert {h.id for h in household_list(store, search="nguyen van a")} == {household, third}
    assert [h.id for h in household_list(store, search="hòa binh")] == [other]  # Hoà / Hòa
    assert [h.id for h in household_list(store, search="duong")] == [other]  # đ → d
    assert [h.id for h in household_list(store, search="  XOM   chua ")] == [third]
    # words spread over the address and a label find nothing (issue #11: one person, or the address)
    assert household_list(store, search="chua nguyen") == []
    assert household_list(store, search="100%") == []
    assert household_list(store, search="_") == []


def test_filters(store):
    hamlet, met = seed(store)
    not_home = store.add_household(hamlet, "Số 2")
    untouched = store.add_household(hamlet, "Số 3")
    returned = store.add_household(hamlet, "Số 4")
    needs = store.add_household(hamlet, "Số 5")
    store.record_visit(met, "met", ["explained"])
    store.record_visit(not_home, "not_home")
    visit = store.record_visit(returned, "met", ["explained"])
    store.decide_review(visit, "returned", "ghi lại số người")
    store.add_person(needs, "Người già", 1940, card="cmnd_only")

    def ids(f):
        return {h.id for h in household_list(store, hamlet, filter=f)}

    assert ids("not_visited") == {untouched, needs}
    assert ids("revisit") == {not_home}
    assert ids("returned") == {returned}
    assert ids("follow_up") == {needs}
    assert ids(None) == {met, not_home, untouched, returned, needs}
    with pytest.raises(ValueError):
        household_list(store, filter="everything")
    counts = store.counts()
    assert counts == Counts(households=5, visited=3, left=2, revisit=1, follow_up=1, returned=1,
                           today=3, today_mine=3, pending=11, quarantined=0)
    assert [v.visit.id for v in store.review_queue()] == [store.visits(met)[0].id, store.visits(not_home)[0].id]
    assert store.hamlets()[0].households == 5 and store.hamlets()[0].visited == 3


@pytest.mark.parametrize("person, expected", [
    ({"presence": "home", "birth_year": 1980, "card": "none", "vneid": "no_app", "blockers": []}, ["card_capture"]),
    ({"presence": "home", "birth_year": 2015, "card": "none", "vneid": "no_app", "blockers": []}, []),  # under 14
    ({"presence": "home", "birth_year": None, "card": "cmnd_only", "vneid": "unknown", "blockers": []},
     ["card_capture"]),
    ({"presence": "home", "birth_year": 1950, "card": "cccd_chip", "vneid": "no_app",
      "blockers": ["no_smartphone"]}, ["l2"]),
    ({"presence": "home", "birth_year": 1950, "card": "cccd_chip", "vneid": "no_app", "blockers": []}, []),
    ({"presence": "home", "birth_year": 1950, "card": "cccd_chip", "vneid": "l1_active",
      "blockers": ["no_otp"]}, []),  # active is done
    ({"presence": "home", "birth_year": 1990, "card": "can_cuoc", "vneid": "l2_approved", "blockers": []},
     ["activation"]),
    ({"presence": "moved", "birth_year": 1980, "card": "none", "vneid": "l1_approved", "blockers": []}, []),
])
def test_follow_up_definition(person, expected):
    assert follow_up(person, 2026) == expected


def test_state_digest_is_deterministic_and_shared_by_devices(tmp_path):
    server = RefServer()
    a, b = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "b", "dev-b")
    _hamlet, household = seed(a)
    a.add_person(household, "An", 1990)
    server.sync(a)
    server.sync(b)
    assert state_digest(a) == state_digest(b)
    assert json.loads(state_digest(a)) == server.dump()


# ---- file, identity, migrations, purge --------------------------------------------------

def test_path_is_a_directory_or_a_file(tmp_path, monkeypatch):
    assert Store(tmp_path / "dir", key=KEY).path == tmp_path / "dir" / "gocua.db"
    assert Store(tmp_path / "x" / "phone.db", key=KEY).path == tmp_path / "x" / "phone.db"
    s = Store(tmp_path / "wal", key=KEY)
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.delenv("FLET_APP_STORAGE_DATA", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert data_dir(tmp_path) == tmp_path
    assert data_dir() == Path.home() / ".local" / "share" / "gocua"
    monkeypatch.setenv("FLET_APP_STORAGE_DATA", str(tmp_path / "app"))
    assert data_dir(tmp_path) == tmp_path / "app"


def test_identity_and_enrolment(tmp_path):
    s = Store(tmp_path, key=KEY)
    assert not s.signed_in
    with pytest.raises(NotSignedIn):
        add_hamlet(s, COMMUNE, "Thôn A")
    s.enrol("http://srv:8000/", "dev-a", "tok", "leader", {"team": "t1", "hamlets": ["h"]})
    assert (s.server_url, s.device_id, s.token, s.role, s.scope, s.signed_in) == \
        ("http://srv:8000", "dev-a", "tok", "leader", {"team": "t1", "hamlets": ["h"]}, True)
    add_hamlet(s, COMMUNE, "Thôn A")
    s.enrol("http://srv:8000", "dev-a", "tok2", "leader", {})  # a new token for the same device is fine
    with pytest.raises(StoreError):
        s.enrol("http://srv:8000", "dev-other", "tok3", "leader", {})  # its events would be orphaned


def test_migrations_run_in_order_once(tmp_path, monkeypatch):
    s = open_store(tmp_path)
    _hamlet, household = seed(s)
    s.close()
    current = len(store_schema.MIGRATIONS)
    assert sqlite3.connect(tmp_path / "gocua.db").execute("PRAGMA user_version").fetchone()[0] == current
    calls = []

    def next_step(db, cipher):
        calls.append(1)
        db.execute("ALTER TABLE entities ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, next_step])
    s = Store(tmp_path, key=KEY)
    assert s.sealed.schema_version == current + 1
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == current + 1
    assert "pinned" in s.db["entities"].columns_dict
    assert s.household(household).address.startswith("Số 12")
    s.close()
    Store(tmp_path, key=KEY).close()
    assert calls == [1]
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path, key=KEY)  # an older app must not open a newer file


def test_a_failed_migration_leaves_the_file_at_the_old_version(tmp_path, monkeypatch):
    open_store(tmp_path).close()
    current = len(store_schema.MIGRATIONS)

    def broken(db, cipher):
        db.execute("CREATE TABLE extra (x)")
        raise RuntimeError("half way")

    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, broken])
    with pytest.raises(RuntimeError):
        Store(tmp_path, key=KEY)
    conn = sqlite3.connect(tmp_path / "gocua.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0


def test_purge_personal_keeps_only_identity_free_meta(store):
    seed(store)
    store.set_setting("language", "en")
    store.record_sync_success()
    store.purge_personal()
    assert not store.signed_in and store.device_id is None and store.token is None
    assert store.setting("language") == "en" and store.server_url == "http://127.0.0.1:8000"
    for table in ("outbox", "inbox", "entities"):
        assert store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert store.last_sync_ok is None and store.pull_cursor == 0 and store.acked_seq == 0
    for leftover in (Path(store.path), Path(str(store.path) + "-wal")):
        if leftover.exists():  # vacuumed and checkpointed, not just unlinked rows
            assert "Nguyễn Văn A".encode() not in leftover.read_bytes()
    store.enrol("http://127.0.0.1:8000", "dev-new", "t", "volunteer", {})
    add_hamlet(store, COMMUNE, "Thôn Mới")
    assert [e["seq"] for e in store.pending()] == [1]


def test_recording_from_two_threads_keeps_seq_gapless(store):
    _hamlet, household = seed(store)
    errors = []

    def work(n):
        try:
            for i in range(25):
                store.add_person(household, f"Người thứ {n}-{i}", 1990)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r["seq"] for r in outbox(store)] == list(range(1, 78))
    assert len(store.people(household)) == 75


# ---- property: random offline work converges -------------------------------------------

EDITS = ["household", "person", "person", "update_person", "update_person", "update_person", "visit",
         "consent", "consent", "address", "move", "review"]


def random_edit(data, d: Store, hamlets: list[str]) -> None:
    op = data.draw(st.sampled_from(EDITS), label="edit")
    households = [h.id for h in household_list(d)]
    people = [p.id for h in households for p in d.people(h)]
    if op == "household" or not households:
        d.add_household(data.draw(st.sampled_from(hamlets)), data.draw(st.sampled_from(["Số 1", "Xóm Đình"])),
                        data.draw(st.sampled_from(["given", "unknown"])))
    elif op == "person":
        d.add_person(data.draw(st.sampled_from(households)), data.draw(st.sampled_from([None, "Nguyễn An"])),
                     data.draw(st.sampled_from([None, 1950, 2021])))
    elif op == "update_person" and people:
        d.update_person(data.draw(st.sampled_from(people)),
                        **data.draw(st.sampled_from([{"card": "cccd_chip"}, {"card": "none"}, {"vneid": "l1_active"},
                                                     {"label": "Trần Cúc"}, {"label": "Lê Bình"},
                                                     {"presence": "moved"},
                                                     {"vneid": "l2_active"}, {"blockers": ["no_otp"]}])))
    elif op == "visit":
        h = data.draw(st.sampled_from(households))
        helped = [p.id for p in d.people(h)][:1]
        if data.draw(st.booleans()):
            d.record_visit(h, "met", ["explained"], helped)
        else:
            d.record_visit(h, "not_home")
    elif op == "consent":
        d.update_household(data.draw(st.sampled_from(households)),
                           consent=data.draw(st.sampled_from(["declined", "declined", "given"])))
    elif op == "address":
        d.update_household(data.draw(st.sampled_from(households)), address=data.draw(st.sampled_from(["Số 7", "Số 8"])))
    elif op == "move":
        d.update_household(data.draw(st.sampled_from(households)), hamlet_id=data.draw(st.sampled_from(hamlets)))
    elif op == "review":
        visits = [v.visit.id for v in d.review_queue()]
        if visits:
            d.decide_review(data.draw(st.sampled_from(visits)), "approved")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_offline_work_converges_on_the_server(data):
    """Rounds of offline edits on two devices sharing households, then partial pushes and
    pulls in random order: after every step each device's state is "the server's events it
    pulled, in cursor order, then its own unseen ones"; after a full sync all agree."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RefServer()
        devices = [open_store(Path(tmp) / name, name) for name in ("dev-a", "dev-b")]
        hamlets = [add_hamlet(devices[0], COMMUNE, f"Thôn {n}", "thon", "2025-07-01") for n in (1, 2)]
        household = devices[0].add_household(hamlets[0], "Số 1", "given")
        devices[0].add_person(household, "Nguyễn An", 1960)
        devices[0].add_person(household, "Lê Bình", 2019)
        for d in devices:
            server.sync(d)
        for _ in range(data.draw(st.integers(1, 4), label="rounds")):
            for _ in range(data.draw(st.integers(1, 10), label="edits")):
                d = data.draw(st.sampled_from(devices), label="device")
                before = d.last_seq
                try:
                    random_edit(data, d, hamlets)
                except InvalidEvent:
                    assert d.last_seq == before  # refused on the spot: nothing written
                assert state_of(d) == expected_device_state(server, d)
            for _ in range(data.draw(st.integers(0, 6), label="exchanges")):
                d = data.draw(st.sampled_from(devices), label="device")
                if data.draw(st.booleans(), label="push"):
                    server.push(d, limit=data.draw(st.integers(1, 4)))
                else:
                    server.pull(d, page=data.draw(st.integers(1, 4)))
                assert state_of(d) == expected_device_state(server, d)
                if problems_of(d):
                    note("a pending event was made invalid by the server's order")
        note(f"quarantined by the server: {bool(server.quarantined)}")
        for _ in range(2):
            for d in devices:
                while d.pending():
                    server.push(d)
            for d in devices:
                server.pull(d)
        for d in devices:
            assert state_of(d) == server.dump()
            assert problems_of(d) == []
            assert d.local_receipt().digest == digest(
                server.held[(d.device_id, seq)] for seq in range(1, server.acked.get(d.device_id, 0) + 1))
            d.close()


def test_a_declined_household_s_visit_takes_no_note_on_the_phone_either(store):
    """issue #12, L1: the rule lives in campaign, so the phone refuses on the spot what the server would."""
    hamlet, _ = seed(store)
    household = store.add_household(hamlet, "Số 77", "declined")
    before = store.last_seq
    with pytest.raises(InvalidEvent) as refused:
        store.record_visit(household, "refused", note="Bà Tư không cho tên")
    assert refused.value.code == "note_declined" and store.last_seq == before
    store.record_visit(household, "refused")  # without a note: recorded
    assert store.last_seq == before + 1
