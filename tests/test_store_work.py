"""Store.work: this device's events told as visits, reviews, households and people (issue #11,
item 5: never "sự kiện" to a person), and their words in both languages."""
from __future__ import annotations

import pytest

from field_app.store import Work
from field_app.views.models.words import changes_text, work_text
from field_app.visit_record import VisitDraft, record_outcome

from .test_store import open_store, seed


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "a")
    yield s
    s.close()


def test_a_standard_visit_is_one_visit(store):
    _, household = seed(store)
    anna = store.add_person(household, "Lê Thị Hoa", 1990, "home", "cccd_chip", "no_app")
    store.acknowledge(store.last_seq)  # the hamlet, household and person are sent
    assert store.work() == Work() and store.work().total == 0
    draft = VisitDraft()
    draft.toggle(anna, "activation_help")
    store.update_household(household, consent="declined")  # asked at the door, during the visit
    record_outcome(store, household, "met", draft)  # also the person's VNeID status
    assert store.pending_count() == 4  # consent (and the renaming it brings), VNeID, the visit
    assert store.work() == Work(visits=1)


def test_households_and_people_added_or_changed_apart_from_a_visit(store):
    hamlet, household = seed(store)  # a hamlet (a change of its own) and a household
    a = store.add_person(household, "Lê Thị Hoa", 1990)
    store.add_person(household, "Lê Văn Tám", 1991)
    store.update_person(a, card="cccd_chip")
    assert store.work() == Work(households=1, people=2, other=1)
    other = store.add_household(hamlet, "Số 3 ngõ 4", "given")
    b = store.add_person(other, "Phạm Văn Ba", 1970)
    store.acknowledge(store.last_seq)
    store.update_household(other, address="Số 3A ngõ 4")
    store.update_person(b, card="none")
    store.update_person(a, card="none")  # in the household visited next: the visit's
    store.record_visit(household, "not_home")
    # the other household's change and its person's are not that visit's: told apart
    assert store.work() == Work(visits=1, households=1, people=1)
    assert store.work("sent") == Work(households=2, people=3, other=1)


def test_reviews_and_held_back_changes(store):
    _, household = seed(store)
    visit = store.record_visit(household, "met")
    store.update_household(household, address="Số 12A ngõ 4")
    store.acknowledge(store.last_seq, [{"seq": store.last_seq, "reason": "forbidden: not in scope"}])
    assert store.work("quarantined") == Work(households=1)
    store.decide_review(visit, "returned", "Thiếu năm sinh")
    assert store.work() == Work(reviews=1)


def test_in_words_with_plurals() -> None:
    assert work_text(Work(visits=1)) == "1 lượt thăm"
    assert work_text(Work(visits=2, households=1, people=3, other=1)) == "2 lượt thăm, 1 hộ, 3 người, 1 thay đổi khác"
    assert work_text(Work(visits=1, people=2), lang="en") == "1 visit, 2 people"
    assert work_text(Work(households=1, people=1, reviews=2), lang="en") == "2 reviews, 1 household, 1 person"
    assert work_text(Work(other=1), lang="en") == "1 other change"
    assert work_text(Work(visits=1234)) == "1.234 lượt thăm"
    assert changes_text(1) == "1 thay đổi" and changes_text(2, lang="en") == "2 changes"
    assert changes_text(1, lang="en") == "1 change"
