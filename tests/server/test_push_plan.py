"""A push worked out outside the write lock (ingest.plan) and written under it (ingest.push with
the plan): written as planned only while the database still answers what the plan read, and then
exactly as the push under the lock would have written it, at the real cursors.

The seam is driven by hand, not by threads and sleeps: a plan is made, another push is written
in full, then the plan is handed to its push, as two requests meet when a second one writes
between the first one's read transaction and its write transaction (api/sync.py `_push`)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from campaign.ids import uuid7
from sync_server.services import enrolment, ingest, recount
from sync_server.services.enrolment import Caller
from sync_server.store import purge
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from ..support import PostgresDatabases, hamlet_data, household_data, person_data, wire_event


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PostgresDatabases) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'plan.db'}" if request.param == "sqlite" else pg_databases.create()
    made = make_engine(url)
    t.metadata.create_all(made)  # what the migrations make (test_migrations proves it)
    yield made
    made.dispose()


@dataclass
class Sender:
    engine: Engine
    caller: Caller
    seq: int = 0

    def events(self, *made: tuple[str, str, dict[str, Any]], base: int | None = None) -> list[dict[str, Any]]:
        out = []
        for kind, entity, data in made:
            self.seq += 1
            out.append(wire_event(self.caller.device.id, self.seq, kind, entity, data, base))
        return out

    def plan(self, events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ingest.Plan]:
        batch = ingest.validate_body({"schema": 1, "events": events}, self.caller.device.id)
        with read_transaction(self.engine) as conn:
            return batch, ingest.plan(conn, self.caller.device, self.caller.scope, batch)

    def write(self, batch: list[dict[str, Any]], planned: ingest.Plan | None = None) -> ingest.PushResult:
        with write_transaction(self.engine) as conn:
            return ingest.push(conn, self.caller.device, self.caller.scope, batch, planned)

    def push(self, *made: tuple[str, str, dict[str, Any]], base: int | None = None) -> ingest.PushResult:
        batch, planned = self.plan(self.events(*made, base=base))
        result = self.write(batch, planned)
        assert planned.written
        return result


SESSION = {"commune": hamlet_data()["commune"], "kind": "mobile_capture", "starts_at": "2026-12-05T08:00:00+07:00",
           "ends_at": "2026-12-05T11:30:00+07:00", "place": "Nhà văn hoá tổ 3", "capacity": 20}


def admin(engine: Engine) -> Sender:
    with write_transaction(engine) as conn:
        device, token = enrolment.enrol(conn, enrolment.create_enrolment(conn, "admin").code)
        return Sender(engine, Caller(device, enrolment.scope_of(conn, device), token))


def as_replayed(engine: Engine) -> None:
    """The stored entities are the log replayed from nothing, versions and meta too; the stored
    totals are its recount; each applied event's cursor is the one its push answered."""
    with read_transaction(engine) as conn:
        replayed = recount.replay(conn)
        stored = {r.id: (r.type, r.hamlet_id, r.parent_id, json.loads(r.body)) for r in conn.execute(select(t.entities))}
        assert stored == {i: (e.type, e.hamlet_id, e.parent_id, json.loads(json.dumps(e.to_json())))
                          for i, e in replayed.items()}
        assert recount.recount(conn) == []


def cursors_of(engine: Engine, device_id: str) -> list[tuple[int, int]]:
    with read_transaction(engine) as conn:
        return [(r.seq, r.cursor) for r in conn.execute(
            select(t.events.c.seq, t.events.c.cursor).where(
                t.events.c.device_id == device_id, t.events.c.status == "applied").order_by(t.events.c.seq))]


def a_household(sender: Sender) -> tuple[str, str]:
    hamlet_id, household_id = str(uuid7()), str(uuid7())
    sender.push(("hamlet.created", hamlet_id, hamlet_data("Tổ 3")),
                ("household.created", household_id, household_data(hamlet_id)))
    return hamlet_id, household_id


def a_card_changed_by_another(engine: Engine) -> tuple[Sender, Sender, str, str]:
    """(one, two, hamlet, person): one adds a person, two changes the person's card after."""
    one, two = admin(engine), admin(engine)
    hamlet_id, household_id = a_household(one)
    person_id = str(uuid7())
    one.push(("person.added", person_id, person_data(household_id)))
    two.push(("person.updated", person_id, {"card": "none"}))
    return one, two, hamlet_id, person_id


def test_a_plan_is_written_as_planned_at_the_real_cursors_when_another_push_wrote_elsewhere(engine: Engine) -> None:
    # two changed the person's card; one, not having seen it (base: before it), changes its vneid
    # and then its card: a conflict whose later side carries a cursor of one's plan
    one, two, hamlet_id, person_id = a_card_changed_by_another(engine)
    batch, planned = one.plan(one.events(("person.updated", person_id, {"vneid": "l1_active"}),
                                         ("person.updated", person_id, {"card": "cmnd_only"}), base=1))
    elsewhere = str(uuid7())
    two.push(("household.created", elsewhere, household_data(hamlet_id, "Số 40")))  # in between
    result = one.write(batch, planned)
    assert planned.written, "a push about other entities in between leaves the plan as it was"
    assert result.quarantined == []
    assert result.cursors == cursors_of(engine, one.caller.device.id)[-2:]
    as_replayed(engine)
    with read_transaction(engine) as conn:
        conflict = conn.execute(select(t.conflicts).order_by(t.conflicts.c.id.desc())).first()
    assert conflict is not None
    assert (conflict.field, conflict.opened_cursor) == ("card", result.cursors[1][1])
    assert json.loads(conflict.later)["version"] == result.cursors[1][1]
    assert json.loads(conflict.earlier)["version"] == cursors_of(engine, two.caller.device.id)[0][1]


def test_the_fields_one_event_sets_share_a_stamp_renumbered_once(engine: Engine) -> None:
    # campaign.entity.stamp gives every field an event sets one [version, device, event] list:
    # moved to the real cursor once, not once per field, when a push in between moves the cursors
    one, two, hamlet_id, person_id = a_card_changed_by_another(engine)
    household_id, added = str(uuid7()), str(uuid7())
    batch, planned = one.plan(one.events(("household.created", household_id, household_data(hamlet_id, "Số 41")),
                                         ("person.added", added, person_data(household_id)),
                                         ("person.updated", person_id, {"card": "cmnd_only", "vneid": "l1_active"})))
    two.push(("household.created", str(uuid7()), household_data(hamlet_id, "Số 42")))  # in between
    result = one.write(batch, planned)
    assert planned.written and result.quarantined == []
    as_replayed(engine)  # every stamp at its event's real cursor, as replaying the log gives
    with read_transaction(engine) as conn:
        body = json.loads(conn.execute(select(t.entities.c.body).where(t.entities.c.id == added)).scalar_one())
    assert {tuple(stamp) for stamp in body["meta"].values()} == {(result.cursors[1][1], one.caller.device.id,
                                                                  batch[1]["id"])}


def test_a_push_in_between_about_the_same_household_has_the_plan_worked_out_again(engine: Engine) -> None:
    one, two = admin(engine), admin(engine)
    _hamlet_id, household_id = a_household(one)
    batch, planned = one.plan(one.events(("visit.recorded", str(uuid7()), {
        "household_id": household_id, "outcome": "not_home", "actions": [], "people_helped": [], "note": ""})))
    # in between: another device's visit to the same household and a new person in it
    two.push(("visit.recorded", str(uuid7()), {
        "household_id": household_id, "outcome": "met", "actions": [], "people_helped": [], "note": ""}),
        ("person.added", str(uuid7()), person_data(household_id)))
    result = one.write(batch, planned)
    assert not planned.written, "the household the plan read has changed: worked out again under the lock"
    assert result.quarantined == [] and result.acked_seq == one.seq
    assert result.cursors == cursors_of(engine, one.caller.device.id)[-1:]
    as_replayed(engine)
    with read_transaction(engine) as conn:
        household = json.loads(conn.execute(select(t.entities.c.body).where(t.entities.c.id == household_id))
                               .scalar_one())
    assert household["data"]["visits"] == 2


def test_a_body_rewritten_in_between_without_a_new_version_has_the_plan_worked_out_again(engine: Engine) -> None:
    # A purge rewrites a body and keeps the version (store/purge.py set_entity_bodies): under the
    # lock the plan sees the row was written since it read it (on PostgreSQL through the row's
    # xmin, without reading the body again) and works the batch out again on what is there now.
    one = admin(engine)
    _hamlet_id, household_id = a_household(one)
    batch, planned = one.plan(one.events(("household.updated", household_id, {"address": "Số 12"})))
    with write_transaction(engine) as conn:
        stored = conn.execute(select(t.entities.c.body).where(t.entities.c.id == household_id)).scalar_one()
        rewritten = json.loads(stored)
        rewritten["data"]["consent"] = "declined"  # a change the plan did not see
        purge.set_entity_bodies(conn, [(household_id, json.dumps(rewritten))])
    result = one.write(batch, planned)
    assert not planned.written, "the household's row was written after the plan read it"
    assert result.quarantined == [] and result.acked_seq == one.seq
    with read_transaction(engine) as conn:
        body = json.loads(conn.execute(select(t.entities.c.body).where(t.entities.c.id == household_id)).scalar_one())
    assert (body["data"]["address"], body["data"]["consent"]) == ("Số 12", "declined")


def test_a_push_in_between_from_the_same_device_has_the_plan_worked_out_again(engine: Engine) -> None:
    one = admin(engine)
    hamlet_id, household_id = a_household(one)
    events = one.events(("person.added", str(uuid7()), person_data(household_id, "Người 1")))
    batch, planned = one.plan(events)
    # in between, the same device's push of that seq: held already when the plan is written
    assert one.write(ingest.validate_body({"schema": 1, "events": events}, one.caller.device.id)).acked_seq == one.seq
    again = one.write(batch, planned)
    assert not planned.written
    assert again.acked_seq == one.seq and again.cursors == cursors_of(engine, one.caller.device.id)[-1:]
    # and one that reuses the seq for another entity (the plan's reads alone would not see it)
    other = one.events(("household.created", str(uuid7()), household_data(hamlet_id, "Số 9")))
    batch, planned = one.plan(other)
    one.seq -= 1
    assert one.write(ingest.validate_body({"schema": 1, "events": one.events(
        ("household.created", str(uuid7()), household_data(hamlet_id, "Số 10")))}, one.caller.device.id)).error is None
    reused = one.write(batch, planned)
    assert not planned.written and reused.error == "seq_reused"
    as_replayed(engine)


def test_a_base_above_every_cursor_is_refused_as_under_the_lock(engine: Engine) -> None:
    one = admin(engine)
    _hamlet_id, household_id = a_household(one)
    person_id = str(uuid7())
    events = one.events(("person.added", person_id, person_data(household_id)))
    events += one.events(("person.updated", person_id, {"card": "none"}), base=10**12)
    batch, planned = one.plan(events)
    result = one.write(batch, planned)
    # at provisional cursors 10**12 is below the person's version; at the real ones it is a
    # version the person never had
    assert not planned.written
    assert [(q.seq, q.reason.split(":")[0]) for q in result.quarantined] == [(one.seq, "bad_base")]
    as_replayed(engine)


def test_a_child_added_in_between_to_any_household_the_plan_asked_about_has_it_worked_out_again(
        engine: Engine) -> None:
    # The plan reads the children of both households in one query (BatchState.children); a named
    # person added in between to the second one, changing no row the plan read, must still be
    # seen under the lock: the second refusal is recorded against a household that has a name.
    one, two = admin(engine), admin(engine)
    hamlet_id, first = a_household(one)
    second = str(uuid7())
    one.push(("household.created", second, household_data(hamlet_id, "Số 14")),
             ("person.added", str(uuid7()), person_data(first, "Người 1")),
             ("person.added", str(uuid7()), person_data(second, "Người 1")))
    batch, planned = one.plan(one.events(("household.updated", first, {"consent": "declined"}),
                                         ("household.updated", second, {"consent": "declined"})))
    assert planned.result.quarantined == []
    two.push(("person.added", str(uuid7()), person_data(second, "Nguyễn Thị Bình")))  # in between
    result = one.write(batch, planned)
    assert not planned.written, "a household the plan asked about has a new child: worked out again"
    assert [(q.seq, q.reason.split(":")[0]) for q in result.quarantined] == [(one.seq, "consent_declined")]
    as_replayed(engine)


def test_a_booking_made_in_between_for_someone_of_a_moving_household_has_the_plan_worked_out_again(
        engine: Engine) -> None:
    # A move carries its people's capture bookings (BatchState.bookings, read by person). One made
    # in between, changing no row the plan read, must be seen under the lock and carried too, not
    # left under the hamlet the household left.
    one, two = admin(engine), admin(engine)
    hamlet_id, household_id = a_household(one)
    joined, person_id, session_id, booking_id = str(uuid7()), str(uuid7()), str(uuid7()), str(uuid7())
    one.push(("hamlet.created", joined, hamlet_data("Tổ 4")),
             ("person.added", person_id, person_data(household_id)),
             ("session.created", session_id, SESSION))
    batch, planned = one.plan(one.events(("household.updated", household_id, {"hamlet_id": joined})))
    two.push(("booking.made", booking_id, {"session_id": session_id, "person_id": person_id}))  # in between
    result = one.write(batch, planned)
    assert not planned.written, "the moving household's people have a new booking: worked out again"
    assert result.quarantined == []
    with read_transaction(engine) as conn:
        filed = dict(conn.execute(select(t.entities.c.id, t.entities.c.hamlet_id).where(
            t.entities.c.id.in_([household_id, person_id, booking_id]))).all())
    assert filed == {household_id: joined, person_id: joined, booking_id: joined} and joined != hamlet_id
    as_replayed(engine)


def test_a_conflict_resolved_twice_in_one_push_is_closed_at_the_first(engine: Engine) -> None:
    # store/events.py resolve_conflicts: the resolutions in push order, one statement for all
    one, two, _hamlet_id, person_id = a_card_changed_by_another(engine)
    one.push(("person.updated", person_id, {"card": "cmnd_only"}), base=1)  # had not seen two's: a conflict
    result = two.push(("conflict.resolved", person_id, {"field": "card", "value": "none"}),
                      ("conflict.resolved", person_id, {"field": "card", "value": "cmnd_only"}))
    assert result.quarantined == []
    with read_transaction(engine) as conn:
        closed = conn.execute(select(t.conflicts.c.field, t.conflicts.c.resolved_cursor)).all()
    assert closed and {tuple(row) for row in closed} == {("card", result.cursors[0][1])}
    as_replayed(engine)
