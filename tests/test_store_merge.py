"""A merge on the phone (person.merged): the duplicate leaves the household's people, its
count and the follow-up at once; later changes to it are refused `merged`; the event goes out."""
from __future__ import annotations

import json

import pytest

from campaign.events import InvalidEvent

from .test_store import open_store, outbox, seed


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(tmp_path / "a")
    yield s
    s.close()


def test_the_duplicate_leaves_the_household_at_once(store) -> None:  # type: ignore[no-untyped-def]
    _hamlet, household = seed(store)
    keep = store.add_person(household, "Lê Thị Hoa", 1990, "home", "none", "no_app")
    dup = store.add_person(household, "le thi hoa", 1991, "home", "none", "no_app")
    assert store.household(household).people == 2
    assert [p.id for p in store.similar_people(household, None, "Lê Thị Hoa", 1990)] == [keep, dup]
    store.merge_person(dup, keep)
    assert [p.id for p in store.people(household)] == [keep]
    assert store.household(household).people == 1
    assert [p.id for p in store.similar_people(household, None, "Lê Thị Hoa", 1990)] == [keep]
    last = outbox(store)[-1]
    assert last["kind"] == "person.merged" and json.loads(last["body"])["data"] == {"into": keep}
    with pytest.raises(InvalidEvent) as refused:
        store.update_person(dup, card="cccd_chip")
    assert refused.value.code == "merged"


def test_a_merge_into_oneself_is_refused_and_nothing_is_written(store) -> None:  # type: ignore[no-untyped-def]
    _hamlet, household = seed(store)
    person = store.add_person(household, "Lê Thị Hoa", 1990, "home", "none", "no_app")
    seq = store.last_seq
    with pytest.raises(InvalidEvent) as refused:
        store.merge_person(person, person)
    assert refused.value.code == "bad_merge" and store.last_seq == seq
