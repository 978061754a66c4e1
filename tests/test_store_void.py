"""Taking a visit back on the phone (visit.voided): the undo, its statuses, the lists, replay."""
from __future__ import annotations

import pytest

from campaign.events import InvalidEvent
from field_app.visit_record import VisitDraft, record_outcome, undo_visit

from .store_support import household_list, state_of, visit_of
from .test_store import RefServer, expected_device_state, open_store, outbox, seed


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "a")
    yield s
    s.close()


def _helped(store, household: str, person: str, action: str = "activation_help"):  # type: ignore[no-untyped-def]
    draft = VisitDraft()
    draft.toggle(person, action)
    return record_outcome(store, household, "met", draft)


def test_undo_leaves_the_household_as_it_was_before_the_tap(store):
    hamlet, household = seed(store)
    before = store.household(household)
    recorded = record_outcome(store, household, "not_home", None)
    assert store.household(household).revisit
    undo_visit(store, recorded)
    after = store.household(household)
    assert (after.visits, after.last_outcome, after.revisit, after.first_visit_at) == (0, None, False, None)
    assert after.as_data() == before.as_data()
    assert store.visits(household) == []
    assert [h.id for h in household_list(store, hamlet, filter="not_visited")] == [household]
    assert [r["kind"] for r in outbox(store)][-2:] == ["visit.recorded", "visit.voided"]


def test_undo_puts_back_the_status_the_help_changed(store):
    _hamlet, household = seed(store)
    person = store.add_person(household, "Lê Thị Hoa", 1990, "home", "cccd_chip", "l1_approved")
    recorded = _helped(store, household, person)
    assert store.person(person).vneid == "l1_active"
    assert [(c.field, c.before, c.after) for c in recorded.changes] == [("vneid", "l1_approved", "l1_active")]
    undo_visit(store, recorded)
    assert store.person(person).vneid == "l1_approved"
    assert [r["kind"] for r in outbox(store)][-2:] == ["visit.voided", "person.updated"]
    assert store.counts().today == 0


def test_undo_leaves_alone_a_status_changed_again_since(store):
    _hamlet, household = seed(store)
    person = store.add_person(household, "Lê Thị Hoa", 1990, "home", "cccd_chip", "l1_approved")
    recorded = _helped(store, household, person)
    store.update_person(person, vneid="l2_pending")  # someone looked again and knew better
    undo_visit(store, recorded)
    assert store.person(person).vneid == "l2_pending"
    assert outbox(store)[-1]["kind"] == "visit.voided"


def test_a_voided_visit_leaves_the_review_queue_and_is_voided_once(store):
    _hamlet, household = seed(store)
    recorded = record_outcome(store, household, "refused", None)
    assert [r.visit.id for r in store.review_queue()] == [recorded.visit_id]
    store.void_visit(recorded.visit_id, "Ghi nhầm hộ")
    assert store.review_queue() == []
    assert visit_of(store, recorded.visit_id).void_reason == "Ghi nhầm hộ"
    seq = store.last_seq
    with pytest.raises(InvalidEvent) as refused:
        store.void_visit(recorded.visit_id, "")
    assert refused.value.code == "voided" and store.last_seq == seq


def test_a_volunteer_takes_back_only_its_own_visits(tmp_path):
    server = RefServer()
    a, b = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "b", "dev-b")
    _hamlet, household = seed(a)
    visit = a.record_visit(household, "not_home")
    server.sync(a)
    server.sync(b)
    with pytest.raises(InvalidEvent) as refused:
        b.void_visit(visit, "")
    assert refused.value.code == "forbidden"
    assert b.household(household).visits == 1


def test_a_fix_of_a_returned_visit_never_counts_twice(store):
    _hamlet, household = seed(store)
    returned = record_outcome(store, household, "met", None)
    store.decide_review(returned.visit_id, "returned", "Thiếu người giúp")  # a leader's, here on the same phone
    assert store.household(household).returned
    fixed = record_outcome(store, household, "met", None, replaces=returned.visit_id)
    row = store.household(household)
    assert (row.visits, row.last_visit_id, row.returned) == (1, fixed.visit_id, False)
    assert [v.id for v in store.visits(household)] == [fixed.visit_id]
    assert [r["kind"] for r in outbox(store)][-2:] == ["visit.voided", "visit.recorded"]


def test_a_void_from_the_server_is_replayed_under_pending_work(tmp_path):
    """A leader's void arrives while the volunteer has its own pending events on the household:
    the state is the server's order with the device's own on top, as for any event."""
    server = RefServer()
    a, leader = open_store(tmp_path / "a", "dev-a"), open_store(tmp_path / "l", "dev-l")
    leader.meta.set("role", "leader")
    _hamlet, household = seed(a)
    first = a.record_visit(household, "not_home")
    server.sync(a)
    server.sync(leader)
    leader.void_visit(first, "Không phải hộ này")
    second = a.record_visit(household, "met")  # offline, pending
    server.sync(leader)
    server.pull(a)
    assert state_of(a) == expected_device_state(server, a)
    assert (a.household(household).visits, a.household(household).last_visit_id) == (1, second)
    server.sync(a)
    server.sync(leader)
    assert state_of(a) == state_of(leader) == server.dump()
