"""State as a projection of events: what each kind does, what the state forbids, conflicts."""
import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.events import ID_FIELDS, KINDS, InvalidEvent
from campaign.ids import uuid7
from campaign.projection import Entity, apply, needs

from .conftest import AT, Device, World, event, household_data, person_data, visit_data


def rejected(world: World, e: dict) -> str:
    """The error code the state gives this event; fails the test if it is applied."""
    with pytest.raises(InvalidEvent) as info:
        world.apply(e)
    assert info.value.detail
    return info.value.code


# ---- creating and updating each entity type -----------------------------------------

def test_a_hamlet_is_its_own_scope(world):
    e = world.admin.event("hamlet.created", data={"commune": "10525", "name": "Tổ dân phố 3",
                                                  "kind": "to_dan_pho", "valid_from": "2025-07-01",
                                                  "valid_to": None})
    outcome = world.apply(e)
    hamlet = world[e["entity"]]
    assert outcome.hamlet_id == hamlet.id == hamlet.hamlet_id
    assert (hamlet.type, hamlet.parent_id, hamlet.data["name"]) == ("hamlet", None, "Tổ dân phố 3")
    assert hamlet.version == world.cursor


def test_an_entity_remembers_who_last_set_each_field(world):
    hamlet = world.hamlet()
    e = world.admin.event("hamlet.updated", hamlet, {"name": "Tổ 4"}, base=1)
    world.apply(e)
    assert world[hamlet].meta["name"] == [2, world.admin.id, e["id"]]
    assert world[hamlet].meta["kind"][0] == 1
    assert world[hamlet].version == 2


def test_hamlet_updated_changes_only_the_fields_it_names(world):
    hamlet = world.hamlet(name="Thôn Đông", kind="thon")
    world.apply(world.admin.event("hamlet.updated", hamlet, {"valid_to": "2026-12-31"}))
    assert (world[hamlet].data["name"], world[hamlet].data["kind"], world[hamlet].data["valid_to"]) == \
        ("Thôn Đông", "thon", "2026-12-31")


def test_a_hamlet_cannot_close_before_it_opens(world):
    assert rejected(world, world.admin.event("hamlet.created", data={
        "commune": "10525", "name": "Tổ 1", "kind": "to_dan_pho",
        "valid_from": "2025-07-01", "valid_to": "2025-06-30"})) == "bad_date"
    hamlet = world.hamlet(valid_from="2025-07-01")
    assert rejected(world, world.admin.event("hamlet.updated", hamlet, {"valid_to": "2025-01-01"})) == "bad_date"
    assert world[hamlet].data["valid_to"] is None


def test_a_new_household_is_unvisited_and_unassigned(world):
    hamlet = world.hamlet()
    household = world.household(hamlet, address="Số 7, ngõ 2", consent="unknown")
    h = world[household]
    assert (h.type, h.hamlet_id, h.parent_id) == ("household", hamlet, None)
    assert h.data == {"hamlet_id": hamlet, "address": "Số 7, ngõ 2", "consent": "unknown",
                      "assigned_to": None, "visits": 0, "first_visit_at": None, "last_visit_at": None,
                      "last_outcome": None, "last_visit_id": None}


def test_household_updated_changes_only_the_fields_it_names(world):
    household = world.household(address="Số 7")
    world.apply(world.admin.event("household.updated", household, {"consent": "given"}))
    assert world[household].data["address"] == "Số 7"
    assert world[household].data["consent"] == "given"


def test_a_person_lives_in_the_household_and_its_hamlet(world):
    hamlet = world.hamlet()
    household = world.household(hamlet)
    person = world.person(household, label="Trần Thị Bình", vneid="no_app")
    p = world[person]
    assert (p.type, p.parent_id, p.hamlet_id) == ("person", household, hamlet)
    assert p.data["label"] == "Trần Thị Bình"
    assert p.data["blockers"] == []


def test_person_updated_changes_only_the_fields_it_names(world):
    person = world.person(card="none")
    world.apply(world.admin.event("person.updated", person, {"vneid": "l1_active", "blockers": ["no_otp"]}))
    assert world[person].data["card"] == "none"
    assert (world[person].data["vneid"], world[person].data["blockers"]) == ("l1_active", ["no_otp"])


def test_a_visit_is_kept_with_its_time_and_device_awaiting_review(world, phone_a):
    household = world.household()
    person = world.person(household)
    visit = world.visit(household, device=phone_a, people_helped=[person], actions=["l1_help"])
    v = world[visit]
    assert (v.type, v.parent_id, v.hamlet_id) == ("visit", household, world[household].hamlet_id)
    assert (v.data["at"], v.data["device_id"], v.data["people_helped"]) == (AT, "phone-a", [person])
    assert v.data["review"] is None


def test_a_visit_counts_on_its_household(world):
    household = world.household()
    visit = world.visit(household, outcome="not_home", actions=[])
    h = world[household].data
    assert (h["visits"], h["first_visit_at"], h["last_visit_at"], h["last_outcome"], h["last_visit_id"]) == \
        (1, AT, AT, "not_home", visit)
    assert world[household].version == world.cursor


def test_the_latest_visit_sets_the_last_outcome(world):
    household = world.household()
    world.visit(household, outcome="not_home", actions=[], at="2026-11-27T09:00:00+07:00")
    world.visit(household, outcome="met", at="2026-11-28T16:00:00+07:00")
    h = world[household].data
    assert (h["visits"], h["first_visit_at"], h["last_outcome"]) == (2, "2026-11-27T09:00:00+07:00", "met")


def test_a_leader_reviews_a_visit(world):
    household = world.household()
    visit = world.visit(household)
    leader = Device("leader-1")
    world.apply(leader.event("review.decided", visit, {"decision": "approved", "comment": ""}))
    v = world[visit].data
    assert (v["review"], v["review_comment"], v["reviewed_by"], v["reviewed_at"]) == ("approved", "", "leader-1", AT)


def test_a_household_is_assigned_and_unassigned(world):
    household = world.household()
    world.apply(world.admin.event("assignment.set", household, {"device_id": "phone-a"}))
    assert world[household].data["assigned_to"] == "phone-a"
    world.apply(world.admin.event("assignment.set", household, {"device_id": None}))
    assert world[household].data["assigned_to"] is None


def test_a_pending_event_changes_state_without_a_version(world, phone_a):
    household = world.household()
    version = world[household].version
    e = phone_a.event("household.updated", household, {"address": "Số 9"}, base=version)
    world.apply(e, pending=True)
    assert world[household].data["address"] == "Số 9"
    assert world[household].version == version
    assert world[household].meta["address"] == [None, "phone-a", e["id"]]


def test_needs_names_every_entity_apply_looks_up():
    household, person, visit = uuid7(), uuid7(), uuid7()
    e = event("visit.recorded", visit, visit_data(household, people_helped=[person]))
    assert needs(e) == {visit, household, person}
    assert needs(event("household.updated", household, {"consent": "given"})) == {household}


def _needs_straightforward(event: dict) -> set[str]:
    """needs() as it was before issue #16: every field that may hold an id, asked of every event."""
    data = event["data"]
    ids = {event["entity"]}
    for key in ("hamlet_id", "household_id", "session_id", "person_id", "into"):
        if isinstance(data.get(key), str):
            ids.add(data[key])
    if isinstance(data.get("people_helped"), list):
        ids.update(p for p in data["people_helped"] if isinstance(p, str))
    return ids


@st.composite
def _events_naming_ids(draw: st.DrawFn) -> dict:
    """An event of any kind whose data holds only its kind's fields (an update: any of them), each
    id field an id, each list of ids a list of ids, anything else anything: what validation lets
    through, as far as needs() looks."""
    spec = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    one, many = ID_FIELDS[spec.kind]
    names = list(spec.fields) if spec.creates else draw(st.lists(st.sampled_from(list(spec.fields)), unique=True))
    ids = st.builds(uuid7)
    data = {name: draw(ids if name in one else st.lists(ids, max_size=3) if name in many
                       else st.none() | st.text(max_size=3) | st.integers()) for name in names}
    return {"kind": spec.kind, "entity": uuid7(), "data": data}


@settings(max_examples=400)
@given(_events_naming_ids())
def test_needs_asks_a_kinds_id_fields_only_and_finds_what_asking_every_field_found(event):
    assert needs(event) == _needs_straightforward(event)


def test_an_entity_round_trips_through_json(world):
    person = world.person()
    p = world[person]
    again = Entity.from_json(p.id, p.type, p.hamlet_id, p.parent_id, p.to_json())
    assert again == p


# ---- what the state forbids -----------------------------------------------------------

@pytest.mark.parametrize("kind,data", [
    ("hamlet.updated", {"name": "Tổ 1"}),
    ("household.updated", {"consent": "given"}),
    ("person.updated", {"card": "none"}),
    ("review.decided", {"decision": "approved", "comment": ""}),
    ("assignment.set", {"device_id": "phone-a"}),
    ("conflict.resolved", {"field": "address", "value": "Số 1"}),
    ("visit.voided", {"reason": ""}),
])
def test_an_update_of_an_unknown_entity_is_rejected(world, kind, data):
    assert rejected(world, event(kind, uuid7(), data)) == "unknown_entity"


@pytest.mark.parametrize("kind,data,target", [
    ("person.updated", {"card": "none"}, "household"),
    ("household.updated", {"consent": "given"}, "person"),
    ("hamlet.updated", {"name": "Tổ 1"}, "household"),
    ("review.decided", {"decision": "approved", "comment": ""}, "household"),
    ("assignment.set", {"device_id": "phone-a"}, "person"),
    ("visit.voided", {"reason": ""}, "person"),
])
def test_an_update_of_the_wrong_entity_type_is_rejected(world, kind, data, target):
    person = world.person()
    entity = person if target == "person" else world[person].parent_id
    assert rejected(world, event(kind, entity, data)) == "wrong_entity"


def test_creating_an_existing_id_is_rejected(world):
    hamlet = world.hamlet()
    household = world.household(hamlet)
    person = world.person(household)
    visit = world.visit(household)
    for kind, entity, data in [("hamlet.created", hamlet, {"commune": "10525", "name": "Tổ 2", "kind": "thon",
                                                           "valid_from": "2025-07-01", "valid_to": None}),
                               ("household.created", household, household_data(hamlet)),
                               ("household.created", person, household_data(hamlet)),
                               ("person.added", person, person_data(household)),
                               ("visit.recorded", visit, visit_data(household))]:
        assert rejected(world, event(kind, entity, data)) == "exists"


def test_a_household_needs_a_known_hamlet(world):
    assert rejected(world, event("household.created", data=household_data(uuid7()))) == "unknown_hamlet"
    household = world.household()
    assert rejected(world, event("household.created", data=household_data(household))) == "unknown_hamlet"


def test_a_household_cannot_be_added_to_a_closed_hamlet(world):
    closed = world.hamlet(valid_to="2026-06-30")
    assert rejected(world, event("household.created", data=household_data(closed), at=AT)) == "hamlet_closed"


def test_a_hamlet_is_open_through_its_last_day(world):
    hamlet = world.hamlet(valid_to="2026-11-27")
    world.apply(event("household.created", data=household_data(hamlet), at="2026-11-27T23:30:00+07:00"))
    assert rejected(world, event("household.created", data=household_data(hamlet),
                                 at="2026-11-28T00:10:00+07:00")) == "hamlet_closed"


def test_a_household_cannot_move_into_a_closed_or_unknown_hamlet(world):
    household = world.household()
    closed = world.hamlet(valid_to="2026-06-30")
    assert rejected(world, event("household.updated", household, {"hamlet_id": closed})) == "hamlet_closed"
    assert rejected(world, event("household.updated", household, {"hamlet_id": uuid7()})) == "unknown_hamlet"


def test_a_person_needs_a_known_household(world):
    assert rejected(world, event("person.added", data=person_data(uuid7()))) == "unknown_household"
    assert rejected(world, event("person.added", data=person_data(world.hamlet()))) == "unknown_household"


def test_a_declined_household_has_no_names(world):
    household = world.household(consent="declined")
    assert rejected(world, event("person.added", data=person_data(household, label="Nguyễn Văn An"))) \
        == "consent_declined"
    person = world.person(household, label="Người 1")
    assert rejected(world, event("person.updated", person, {"label": "Lê Thị Hoa"})) == "consent_declined"
    assert rejected(world, event("conflict.resolved", person, {"field": "label", "value": "Lê Thị Hoa"})) \
        == "consent_declined"
    world.apply(event("person.updated", person, {"label": "Người 2"}))
    assert world[person].data["label"] == "Người 2"


@pytest.mark.parametrize("label", ["Người", "Người 1 An", "người 1", "Nguoi 1", "Người 1\n", "Người ١", "Người 1234"])
def test_a_declined_household_person_label_is_exactly_nguoi_n(world, label):
    household = world.household(consent="declined")
    assert rejected(world, event("person.added", data=person_data(household, label=label))) == "consent_declined"


def test_a_named_person_is_fine_once_consent_is_given(world):
    household = world.household(consent="given")
    named = world.person(household, label="Nguyễn Văn An")
    undecided = world.household(consent="unknown")
    asked_later = world.person(undecided, label="Bà Tư")
    assert (world[named].parent_id, world[named].data["label"]) == (household, "Nguyễn Văn An")
    assert (world[asked_later].parent_id, world[asked_later].data["label"]) == (undecided, "Bà Tư")


@pytest.mark.parametrize("vneid", ["l2_pending", "l2_approved", "l2_active"])
def test_under_6_has_no_vneid_level_2(world, vneid):
    household = world.household()
    # at is 2026-11-27: born 2021 is 5 by the year.
    assert rejected(world, event("person.added", data=person_data(household, birth_year=2021, vneid=vneid))) \
        == "too_young"


def test_under_6_may_have_level_1_through_a_parent(world):
    household = world.household()
    toddler = world.person(household, birth_year=2023, vneid="l1_active", card="none")
    six = world.person(household, birth_year=2020, vneid="l2_active")  # 6 by the year
    assert (world[toddler].data["birth_year"], world[toddler].data["vneid"]) == (2023, "l1_active")
    assert (world[six].data["birth_year"], world[six].data["vneid"]) == (2020, "l2_active")


def test_under_6_rule_holds_on_every_update(world):
    child = world.person(birth_year=2022, vneid="l1_pending")
    assert rejected(world, event("person.updated", child, {"vneid": "l2_pending"})) == "too_young"
    adult = world.person(birth_year=1990, vneid="l2_active")
    assert rejected(world, event("person.updated", adult, {"birth_year": 2022})) == "too_young"
    assert rejected(world, event("conflict.resolved", child, {"field": "vneid", "value": "l2_active"})) == "too_young"


def test_a_person_is_not_born_after_the_visit(world):
    assert rejected(world, event("person.added", data=person_data(world.household(), birth_year=2027,
                                                                  vneid="unknown"))) == "out_of_range"


def test_the_birth_year_rule_is_1900_to_this_year_in_vietnam(world):
    from campaign.events import birth_year_problem

    assert [birth_year_problem(y, 2026) for y in (1899, 1900, 2026, 2027, 2050)] == \
        ["too_early", None, None, "future", "future"]
    household = world.household()
    # 20:00 UTC on 31 December is already the new year in Vietnam: born "this year" is allowed
    new_year = "2026-12-31T20:00:00+00:00"
    world.apply(event("person.added", data=person_data(household, birth_year=2027, vneid="unknown"), at=new_year))
    assert rejected(world, event("person.added", data=person_data(household, birth_year=2028, vneid="unknown"),
                                 at=new_year)) == "out_of_range"


def test_a_visit_helps_only_people_of_its_household(world):
    household, other = world.household(), world.household()
    neighbour = world.person(other)
    assert rejected(world, event("visit.recorded", data=visit_data(household, people_helped=[neighbour]))) \
        == "bad_visit"
    assert rejected(world, event("visit.recorded", data=visit_data(household, people_helped=[uuid7()]))) \
        == "bad_visit"  # unknown or of another household: the same answer (issue #12, M1)


def test_a_visit_needs_a_known_household(world):
    assert rejected(world, event("visit.recorded", data=visit_data(uuid7()))) == "unknown_household"


@pytest.mark.parametrize("outcome", ["not_home", "moved"])
def test_a_visit_that_met_nobody_has_no_actions_and_helps_nobody(world, outcome):
    household = world.household()
    person = world.person(household)
    assert rejected(world, event("visit.recorded", data=visit_data(household, outcome=outcome,
                                                                   actions=["explained"]))) == "bad_visit"
    assert rejected(world, event("visit.recorded", data=visit_data(household, outcome=outcome, actions=[],
                                                                   people_helped=[person]))) == "bad_visit"
    visit = world.visit(household, outcome=outcome, actions=[])
    assert (world[visit].data["outcome"], world[visit].data["actions"], world[visit].data["people_helped"]) == \
        (outcome, [], [])
    assert (world[household].data["visits"], world[household].data["last_outcome"]) == (1, outcome)


def test_a_refusal_may_still_have_been_explained(world):
    household = world.household()
    visit = world.visit(household, outcome="refused", actions=["explained"])
    assert (world[visit].data["outcome"], world[visit].data["actions"]) == ("refused", ["explained"])
    assert (world[household].data["visits"], world[household].data["last_outcome"]) == (1, "refused")


@pytest.mark.parametrize("comment", ["", "   "])
def test_a_returned_visit_needs_a_comment(world, comment):
    visit = world.visit(world.household())
    assert rejected(world, event("review.decided", visit, {"decision": "returned", "comment": comment})) == "empty"
    world.apply(event("review.decided", visit, {"decision": "returned", "comment": "Thiếu năm sinh của bà"}))
    assert world[visit].data["review"] == "returned"


# ---- visits in any order -----------------------------------------------------------

AGGREGATES = ("visits", "first_visit_at", "last_visit_at", "last_outcome", "last_visit_id")
INSTANTS = [datetime(2026, 11, 27, 2, 0, tzinfo=UTC) + timedelta(hours=h) for h in (0, 0, 5, 30)]
OFFSETS = [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-5))]


def spell(instant: datetime, offset: timezone, zulu: bool) -> str:
    text = instant.astimezone(offset).isoformat()
    return text.replace("+00:00", "Z") if zulu else text


def household_after(world: World, household: str, visits: list[dict]) -> dict:
    state = dict(world.entities)
    for version, e in enumerate(visits, start=world.cursor + 1):
        state.update(apply(e, version, state.get).changed)
    return {key: state[household].data[key] for key in AGGREGATES}


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(INSTANTS), st.sampled_from(OFFSETS), st.booleans(),
                          st.sampled_from(["met", "not_home", "refused", "moved"])), min_size=1, max_size=6),
       st.data())
def test_household_visit_aggregates_do_not_depend_on_arrival_order(visits, data):
    world = World()
    household = world.household()
    events = [event("visit.recorded", data=visit_data(household, outcome=outcome, actions=[]),
                    at=spell(instant, offset, zulu)) for instant, offset, zulu, outcome in visits]
    shuffled = data.draw(st.permutations(events))
    assert household_after(world, household, shuffled) == household_after(world, household, events)


def test_two_first_visits_at_the_same_instant_agree_whatever_the_order(world):
    # The same moment written by two phones in two offsets.
    household = world.household()
    a = event("visit.recorded", data=visit_data(household), at="2026-11-27T02:00:00Z")
    b = event("visit.recorded", data=visit_data(household), at="2026-11-27T09:00:00+07:00")
    assert household_after(world, household, [a, b]) == household_after(world, household, [b, a])


# ---- taking a visit back (visit.voided) -----------------------------------------------

def test_a_voided_visit_stays_known_with_who_took_it_back_and_why(world, phone_a):
    household = world.household()
    visit = world.visit(household, device=phone_a)
    e = phone_a.event("visit.voided", visit, {"reason": "Ghi nhầm hộ bên cạnh"})
    outcome = world.apply(e)
    data = world[visit].data
    assert (data["voided_at"], data["voided_by"], data["void_reason"]) == (e["at"], "phone-a", "Ghi nhầm hộ bên cạnh")
    assert world[visit].version == world[household].version == world.cursor
    assert set(outcome.changed) == {visit, household}


def test_voiding_the_only_visit_leaves_the_household_as_never_visited(world):
    household = world.household()
    before = {key: world[household].data[key] for key in AGGREGATES}
    visit = world.visit(household, outcome="not_home", actions=[])
    world.apply(event("visit.voided", visit, {"reason": ""}))
    assert {key: world[household].data[key] for key in AGGREGATES} == before


def test_voiding_a_visit_counts_the_household_again_from_the_visits_that_remain(world):
    household = world.household()
    first = world.visit(household, outcome="not_home", actions=[], at="2026-11-27T08:00:00+07:00")
    second = world.visit(household, outcome="met", at="2026-11-28T08:00:00+07:00")
    third = world.visit(household, outcome="refused", at="2026-11-29T08:00:00+07:00")
    world.apply(event("visit.voided", third, {"reason": ""}))
    h = world[household].data
    assert (h["visits"], h["last_outcome"], h["last_visit_id"]) == (2, "met", second)
    world.apply(event("visit.voided", first, {"reason": ""}))
    h = world[household].data
    assert (h["visits"], h["first_visit_at"], h["last_visit_id"]) == (1, "2026-11-28T08:00:00+07:00", second)


def test_a_visit_is_voided_once(world):
    visit = world.visit(world.household())
    world.apply(event("visit.voided", visit, {"reason": ""}))
    assert rejected(world, event("visit.voided", visit, {"reason": "lần nữa"})) == "voided"


def test_a_voided_visit_is_not_reviewed(world):
    visit = world.visit(world.household())
    world.apply(event("visit.voided", visit, {"reason": ""}))
    assert rejected(world, event("review.decided", visit, {"decision": "approved", "comment": ""})) == "voided"
    assert world[visit].data["review"] is None


def test_a_reviewed_visit_may_still_be_voided(world):
    """Fixing a returned visit is a void and a new visit: the fix never counts twice."""
    household = world.household()
    visit = world.visit(household)
    world.apply(event("review.decided", visit, {"decision": "returned", "comment": "Sai người"}))
    world.apply(event("visit.voided", visit, {"reason": "Sửa theo góp ý"}))
    fixed = world.visit(household)
    assert world[household].data["visits"] == 1 and world[household].data["last_visit_id"] == fixed


def test_a_void_needs_the_households_visits():
    world = World()
    visit = world.visit(world.household())
    with pytest.raises(TypeError):
        apply(event("visit.voided", visit, {"reason": ""}), None, world.entities.get)


def test_a_pending_void_changes_state_without_a_version(world, phone_a):
    household = world.household()
    visit = world.visit(household, device=phone_a)
    version = world[household].version
    world.apply(phone_a.event("visit.voided", visit, {"reason": ""}), pending=True)
    assert world[household].data["visits"] == 0 and world[household].version == version


@settings(max_examples=100)
@given(st.lists(st.tuples(st.sampled_from(INSTANTS), st.sampled_from(["met", "not_home", "refused"]),
                          st.booleans()), min_size=1, max_size=6))
def test_voiding_gives_the_aggregates_of_never_having_recorded_those_visits(visits):
    with_voids, without = World(), World()
    kept_household, household = without.household(), with_voids.household()
    for instant, outcome, voided in visits:
        at = instant.isoformat()
        visit = with_voids.visit(household, outcome=outcome, actions=[], at=at)
        if voided:
            with_voids.apply(event("visit.voided", visit, {"reason": ""}))
        else:
            without.visit(kept_household, outcome=outcome, actions=[], at=at)
    after = {key: with_voids[household].data[key] for key in AGGREGATES if key != "last_visit_id"}
    expected = {key: without[kept_household].data[key] for key in AGGREGATES if key != "last_visit_id"}
    assert after == expected


# ---- when a person's e-ID became active (the derived vneid_active_at) -----------------

def active_at(world: World, person: str) -> str | None:
    return world[person].data["vneid_active_at"]


def test_a_person_added_already_active_is_active_from_when_the_team_recorded_it(world):
    assert active_at(world, world.person(vneid="l1_active")) == AT
    assert active_at(world, world.person(vneid="l2_active")) == AT
    for status in ("unknown", "no_app", "l1_pending", "l1_approved", "l2_pending", "l2_approved", "not_eligible"):
        assert active_at(world, world.person(vneid=status)) is None, status


def test_the_activation_time_is_set_on_entering_kept_while_active_and_cleared_on_leaving(world):
    person = world.person(vneid="l1_approved")
    world.apply(event("person.updated", person, {"label": "Bà Hoa", "card": "can_cuoc"},
                      at="2026-11-28T08:00:00+07:00"))
    assert active_at(world, person) is None  # other fields leave it alone
    world.apply(event("person.updated", person, {"vneid": "l1_active"}, at="2026-11-28T10:00:00+07:00"))
    assert active_at(world, person) == "2026-11-28T10:00:00+07:00"
    world.apply(event("person.updated", person, {"vneid": "l2_active"}, at="2026-12-05T10:00:00+07:00"))
    world.apply(event("person.updated", person, {"presence": "abroad"}, at="2026-12-06T10:00:00+07:00"))
    assert active_at(world, person) == "2026-11-28T10:00:00+07:00"  # still active since the 28th
    world.apply(event("person.updated", person, {"vneid": "l2_pending"}, at="2026-12-07T10:00:00+07:00"))
    assert active_at(world, person) is None
    world.apply(event("person.updated", person, {"vneid": "l2_active"}, at="2026-12-09T10:00:00+07:00"))
    assert active_at(world, person) == "2026-12-09T10:00:00+07:00"  # active again: from the new recording


def test_an_earlier_recording_of_the_same_activation_moves_it_earlier(world, phone_a, phone_b):
    # Two phones record the activation offline; the one recorded earlier syncs later.
    person = world.person(vneid="no_app")
    world.apply(phone_b.event("person.updated", person, {"vneid": "l1_active"}, at="2026-11-30T10:00:00+07:00"))
    world.apply(phone_a.event("person.updated", person, {"vneid": "l1_active"}, at="2026-11-28T10:00:00+07:00"))
    assert active_at(world, person) == "2026-11-28T10:00:00+07:00"
    world.apply(phone_b.event("person.updated", person, {"vneid": "l2_active"}, at="2026-12-01T10:00:00+07:00"))
    assert active_at(world, person) == "2026-11-28T10:00:00+07:00"


def test_conflict_resolved_sets_and_clears_the_activation_time(world):
    person = world.person(vneid="l1_approved")
    leader = Device("leader-1")
    world.apply(leader.event("conflict.resolved", person, {"field": "vneid", "value": "l1_active"},
                             at="2026-11-29T15:00:00+07:00"))
    assert active_at(world, person) == "2026-11-29T15:00:00+07:00"
    world.apply(leader.event("conflict.resolved", person, {"field": "card", "value": "none"}))
    assert active_at(world, person) == "2026-11-29T15:00:00+07:00"
    world.apply(leader.event("conflict.resolved", person, {"field": "vneid", "value": "l1_approved"}))
    assert active_at(world, person) is None


def test_a_pending_activation_is_timed_like_a_server_one(world, phone_a):
    person = world.person(vneid="l1_pending")
    world.apply(phone_a.event("person.updated", person, {"vneid": "l1_active"}, at="2026-11-28T10:00:00+07:00"),
                pending=True)
    assert active_at(world, person) == "2026-11-28T10:00:00+07:00"


def test_the_activation_time_is_derived_so_never_a_conflict(world, phone_a, phone_b):
    person = world.person(vneid="no_app")
    base = world[person].version
    world.apply(phone_a.event("person.updated", person, {"vneid": "l1_active"}, base=base,
                              at="2026-11-28T10:00:00+07:00"))
    outcome = world.apply(phone_b.event("person.updated", person, {"vneid": "l2_active"}, base=base,
                                        at="2026-11-27T10:00:00+07:00"))
    assert [c.field for c in outcome.conflicts] == ["vneid"]
    assert "vneid_active_at" not in world[person].meta


def test_a_person_stored_before_the_field_existed_still_applies():
    """An old device row: a person body without vneid_active_at (field_app/store.py keeps
    entity bodies; they are rebuilt from the log only when their household is touched)."""
    world = World()
    person = world.person(vneid="l1_active")
    old = world[person].copy()
    del old.data["vneid_active_at"]
    world.entities[person] = old
    world.apply(event("person.updated", person, {"card": "none"}))
    assert "vneid_active_at" not in world[person].data  # nothing to say: left as it was
    world.apply(event("person.updated", person, {"vneid": "l2_active"}, at="2026-11-29T10:00:00+07:00"))
    assert active_at(world, person) == "2026-11-29T10:00:00+07:00"  # the best time known


def spelled_recordings():
    return st.lists(st.tuples(st.sampled_from(INSTANTS), st.sampled_from(OFFSETS), st.booleans(),
                              st.sampled_from(["l1_active", "l2_active"]), st.sampled_from(["phone-a", "phone-b"])),
                    min_size=1, max_size=5)


@settings(max_examples=200)
@given(st.sampled_from(["no_app", "l1_pending", "l1_approved", "l1_active"]), spelled_recordings(), st.data())
def test_the_activation_time_does_not_depend_on_the_order_recordings_arrive_in(start, recordings, data):
    # Recordings of an activation (any level, any offset, any phone) in any arrival order give
    # one time: the earliest instant, the same instant spelled twice settled by the spelling.
    world = World()
    person = world.person(vneid=start, at="2026-11-26T08:00:00+07:00")
    events = [event("person.updated", person, {"vneid": code}, device_id=device, at=spell(instant, offset, zulu))
              for instant, offset, zulu, code, device in recordings]
    shuffled = data.draw(st.permutations(events))

    def after(order: list[dict]) -> str:
        state = dict(world.entities)
        for version, e in enumerate(order, start=world.cursor + 1):
            state.update(apply(e, version, state.get).changed)
        return state[person].data["vneid_active_at"]

    got = after(shuffled)
    assert got == after(events)
    earliest = min([e["at"] for e in events] + (["2026-11-26T08:00:00+07:00"] if start == "l1_active" else []),
                   key=lambda at: (datetime.fromisoformat(at), at))
    assert got == earliest


# ---- conflicts -----------------------------------------------------------------------

@pytest.fixture()
def household(world) -> str:
    return world.household(address="Số 12")


def test_two_devices_changing_a_field_from_the_same_base_conflict(world, household, phone_a, phone_b):
    base = world[household].version
    first = phone_a.event("household.updated", household, {"address": "Số 12A"}, base=base)
    second = phone_b.event("household.updated", household, {"address": "Số 12B"}, base=base)
    assert world.apply(first).conflicts == []
    outcome = world.apply(second)
    [conflict] = outcome.conflicts
    assert (conflict.entity, conflict.field) == (household, "address")
    assert conflict.earlier == {"value": "Số 12A", "version": base + 1, "device_id": "phone-a", "event": first["id"]}
    assert conflict.later == {"value": "Số 12B", "version": base + 2, "device_id": "phone-b", "event": second["id"]}
    assert world[household].data["address"] == "Số 12B"  # the later one is applied


def test_a_conflict_is_reported_per_field(world, phone_a, phone_b):
    person = world.person()
    base = world[person].version
    world.apply(phone_a.event("person.updated", person, {"card": "applied_waiting", "vneid": "l1_pending"}, base=base))
    outcome = world.apply(phone_b.event("person.updated", person, {"card": "cccd_chip", "vneid": "l1_pending"},
                                        base=base))
    assert [c.field for c in outcome.conflicts] == ["card"]


def test_changes_to_different_fields_merge_without_a_conflict(world, household, phone_a, phone_b):
    base = world[household].version
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=base))
    outcome = world.apply(phone_b.event("household.updated", household, {"consent": "declined"}, base=base))
    assert outcome.conflicts == []
    assert (world[household].data["address"], world[household].data["consent"]) == ("Số 12A", "declined")


def test_the_same_device_changing_a_field_twice_is_no_conflict(world, household, phone_a):
    base = world[household].version
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=base))
    outcome = world.apply(phone_a.event("household.updated", household, {"address": "Số 12C"}, base=base))
    assert outcome.conflicts == []


def test_a_change_made_after_seeing_the_other_is_no_conflict(world, household, phone_a, phone_b):
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=world[household].version))
    seen = world[household].version
    outcome = world.apply(phone_b.event("household.updated", household, {"address": "Số 12B"}, base=seen))
    assert outcome.conflicts == []
    assert world[household].data["address"] == "Số 12B"


def test_the_same_value_from_two_devices_is_no_conflict(world, household, phone_a, phone_b):
    base = world[household].version
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=base))
    outcome = world.apply(phone_b.event("household.updated", household, {"address": "Số 12A"}, base=base))
    assert outcome.conflicts == []


def test_a_device_that_never_saw_the_change_conflicts_even_with_no_base(world, household, phone_a, phone_b):
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=world[household].version))
    outcome = world.apply(phone_b.event("household.updated", household, {"address": "Số 12B"}, base=None))
    assert [c.field for c in outcome.conflicts] == ["address"]


def test_conflict_resolved_sets_the_value_and_reports_it_settled(world, household, phone_a, phone_b):
    base = world[household].version
    world.apply(phone_a.event("household.updated", household, {"address": "Số 12A"}, base=base))
    world.apply(phone_b.event("household.updated", household, {"address": "Số 12B"}, base=base))
    leader = Device("leader-1")
    outcome = world.apply(leader.event("conflict.resolved", household, {"field": "address", "value": "Số 12A"},
                                       base=base))
    assert outcome.resolved == [(household, "address")]
    assert outcome.conflicts == []  # a leader settling is never itself a conflict
    assert world[household].data["address"] == "Số 12A"
    assert world[household].meta["address"][1] == "leader-1"


@pytest.mark.parametrize("field,value,code", [
    ("vneid", "level_2", "bad_code"),
    ("birth_year", True, "bad_type"),
    ("label", "", "empty"),
    ("blockers", ["no_otp", "no_otp"], "duplicate"),
    ("household_id", "0190f3a2-7c4e-7b1d-9f00-1234567890ab", "bad_field"),
    ("phone", "0912345678", "bad_field"),
    ("vneid_active_at", "2026-11-20T09:00:00+07:00", "bad_field"),  # derived: no event sets it
])
def test_conflict_resolved_checks_the_value_against_its_field(world, field, value, code):
    person = world.person()
    assert rejected(world, event("conflict.resolved", person, {"field": field, "value": value})) == code


def test_conflict_resolved_keeps_a_hamlet_open_after_it_opens(world):
    hamlet = world.hamlet(valid_from="2025-07-01")
    assert rejected(world, event("conflict.resolved", hamlet, {"field": "valid_to", "value": "2025-01-01"})) \
        == "bad_date"


def test_conflict_resolved_does_not_move_a_household(world, household):
    other = world.hamlet()
    assert rejected(world, event("conflict.resolved", household, {"field": "hamlet_id", "value": other})) \
        == "bad_field"


def test_a_visit_has_no_field_to_settle(world, household):
    visit = world.visit(household)
    assert rejected(world, event("conflict.resolved", visit, {"field": "outcome", "value": "met"})) == "bad_field"


def test_a_household_move_between_hamlets_is_reported(world):
    old, new = world.hamlet(name="Tổ 1"), world.hamlet(name="Tổ 2")
    household = world.household(old)
    outcome = world.apply(event("household.updated", household, {"hamlet_id": new}))
    assert outcome.moved == (household, old, new)
    assert outcome.hamlet_id == new == world[household].hamlet_id == world[household].data["hamlet_id"]


def test_naming_the_same_hamlet_is_not_a_move(world):
    hamlet = world.hamlet()
    household = world.household(hamlet)
    outcome = world.apply(event("household.updated", household, {"hamlet_id": hamlet, "address": "Số 1"}))
    assert outcome.moved is None


# ---- apply never touches what it looked up ------------------------------------------

def stories(world: World) -> list[dict]:
    """One event of every kind against a small world, some accepted and some rejected."""
    hamlet = world.hamlet(valid_from="2025-07-01")
    household = world.household(hamlet)
    declined = world.household(hamlet, consent="declined")
    person = world.person(household)
    visit = world.visit(household)
    other = world.hamlet()
    return [
        event("hamlet.updated", hamlet, {"name": "Tổ 9"}, device_id="phone-b"),
        event("hamlet.updated", hamlet, {"valid_to": "2020-01-01"}),  # rejected
        event("household.updated", household, {"address": "Số 1", "hamlet_id": other}, device_id="phone-b"),
        event("household.updated", household, {"hamlet_id": uuid7()}),  # rejected
        event("person.added", data=person_data(household)),
        event("person.added", data=person_data(declined)),  # rejected
        event("person.updated", person, {"vneid": "l2_active", "blockers": ["no_nfc"]}, device_id="phone-b"),
        event("person.updated", person, {"birth_year": 2024, "vneid": "l2_active"}),  # rejected (under 6)
        event("visit.recorded", data=visit_data(household, people_helped=[person])),
        event("visit.recorded", data=visit_data(household, outcome="not_home")),  # rejected
        event("review.decided", visit, {"decision": "approved", "comment": ""}),
        event("review.decided", visit, {"decision": "returned", "comment": ""}),  # rejected
        event("assignment.set", household, {"device_id": "phone-c"}),
        event("conflict.resolved", person, {"field": "card", "value": "none"}),
        event("conflict.resolved", person, {"field": "card", "value": "lost"}),  # rejected
    ]


def test_apply_never_changes_the_entities_it_looked_up(world):
    events = stories(world)
    before = copy.deepcopy(world.entities)
    results = []
    for version, e in enumerate(events, start=100):
        try:
            outcome = apply(e, version, world.entities.get)
        except InvalidEvent:
            results.append("rejected")
        else:
            results.append("applied")
            assert all(changed is not world.entities.get(i) for i, changed in outcome.changed.items())
        assert world.entities == before, e["kind"]
    assert results == ["applied", "rejected"] * 6 + ["applied", "applied", "rejected"]


def test_the_same_blockers_in_another_order_are_no_conflict():
    from campaign import projection
    from campaign.ids import uuid7
    person = projection.Entity(uuid7(), "person", None, None, {"blockers": ["no_otp", "no_nfc"]},
                               version=5, meta={"blockers": [5, "dev-a", uuid7()]})
    event = {"id": uuid7(), "device_id": "dev-b", "seq": 1, "kind": "person.updated", "entity": person.id,
             "base": 1, "at": "2026-11-28T09:00:00+07:00", "data": {"blockers": ["no_nfc", "no_otp"]}, "schema": 1}
    conflicts = projection._update_fields(person.copy(), event, 6, event["data"], detect=True)
    assert conflicts == []
    event["data"] = {"blockers": ["no_nfc"]}
    assert len(projection._update_fields(person.copy(), event, 6, event["data"], detect=True)) == 1


# ---- copy on write -------------------------------------------------------------------

STEPS = ["hamlet.updated", "household.updated", "household.moved", "person.updated", "visit.recorded",
         "review.decided", "assignment.set", "conflict.resolved", "visit.voided", "person.added"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 2**16)), min_size=1, max_size=25))
def test_copy_on_write(steps):
    """Entity.copy copies two dicts, not their values: apply() must never edit the entities it
    was given (a field's value is replaced, never mutated), whatever it applies or refuses."""
    world = World()
    hamlets = [world.hamlet(), world.hamlet(name="Tổ dân phố số 2")]
    households = [world.household(hamlets[0]), world.household(hamlets[1])]
    people = [world.person(households[0]), world.person(households[1], birth_year=2024, vneid="unknown")]
    visits = [world.visit(households[0], people_helped=[people[0]])]
    phone = Device("phone-b")
    for kind, n in steps:
        pick = [hamlets, households, people, visits]
        data: dict = {}
        if kind == "hamlet.updated":
            entity, data = hamlets[n % 2], {"name": f"Tổ {n}", "valid_to": None}
        elif kind in ("household.updated", "household.moved"):
            entity = households[n % 2]
            data = {"hamlet_id": hamlets[n // 2 % 2]} if kind == "household.moved" else {
                "address": f"Số {n}", "consent": ["given", "unknown"][n % 2]}
            kind = "household.updated"
        elif kind == "person.updated":
            entity, data = people[n % 2], {"blockers": ["no_otp", "sim_not_own"][: n % 3], "vneid": "l1_active"}
        elif kind == "person.added":
            entity, data = None, person_data(households[n % 2], label=f"Người {n % 9 + 1}")
        elif kind == "visit.recorded":
            entity, data = None, visit_data(households[n % 2], actions=["explained"][: n % 2])
        elif kind == "review.decided":
            entity, data = visits[n % len(visits)], {"decision": "returned", "comment": "Thiếu năm sinh"}
        elif kind == "assignment.set":
            entity, data = households[n % 2], {"device_id": f"phone-{n % 3}"}
        elif kind == "conflict.resolved":
            entity = pick[1 + n % 2][n % 2]
            data = {"field": "address", "value": "Số 1"} if n % 2 == 0 else {"field": "blockers", "value": ["no_otp"]}
        else:
            entity, data = visits[n % len(visits)], {"reason": ""}
        held = dict(world.entities)
        before = copy.deepcopy(held)
        try:
            outcome = world.apply(phone.event(kind, entity, data, base=n % 4 or None))
        except InvalidEvent:
            pass
        else:
            visits += [e.id for e in outcome.changed.values() if e.type == "visit" and e.id not in visits]
        for entity_id, old in held.items():
            assert old == before[entity_id], f"{kind} edited {old.type} {entity_id} in place"
