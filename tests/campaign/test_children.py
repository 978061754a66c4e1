"""Children under 14 (campaign.children): registered through a parent with level 2 active;
under 6 the request is all, 6-13 then need a booked capture; no parent at level 2 yet: the
parent first; a card already (or on its way): done."""
from __future__ import annotations

from campaign import children as c

YEAR = 2026


def p(born: int | None, vneid: str = "no_app", card: str = "none", presence: str = "home") -> dict[str, object]:
    return {"birth_year": born, "vneid": vneid, "card": card, "presence": presence}


def test_a_parent_at_level_2_registers_the_little_ones_now_and_the_older_ones_then_need_a_capture() -> None:
    kids = c.household([("mum", p(1990, "l2_active", "cccd_chip")), ("dad", p(1988, "l1_active", "cccd_chip")),
                        ("baby", p(2022)), ("five", p(2021)), ("six", p(2020)), ("thirteen", p(2013)),
                        ("fourteen", p(2012))], YEAR)
    got = {k.person_id: (k.status, k.parents, k.age) for k in kids}
    assert got == {"baby": ("now", ("mum",), 4), "five": ("now", ("mum",), 5),
                   "six": ("capture", ("mum",), 6), "thirteen": ("capture", ("mum",), 13)}  # 14: not a child
    assert [k.person_id for k in kids] == ["baby", "five", "six", "thirteen"]


def test_without_a_parent_at_level_2_the_parent_goes_first() -> None:
    kids = c.household([("mum", p(1990, "l2_approved")), ("teen", p(2010, "l2_active")), ("kid", p(2018))], YEAR)
    assert [(k.person_id, k.status, k.parents) for k in kids] == [("kid", "parent_first", ())]


def test_an_adult_of_unknown_age_at_level_2_is_offered_as_parent() -> None:
    kids = c.household([("gran", p(None, "l2_active")), ("kid", p(2018))], YEAR)
    assert kids[0].parents == ("gran",)


def test_children_with_a_card_are_done_and_those_gone_or_of_unknown_age_are_not_counted() -> None:
    kids = c.household([("mum", p(1990, "l2_active")), ("carded", p(2016, card="can_cuoc")),
                        ("waiting", p(2019, card="applied_waiting")), ("moved", p(2016, presence="moved")),
                        ("unknown", p(None)), ("away", p(2016, presence="away_work_study"))], YEAR)
    assert {k.person_id: k.status for k in kids} == {"carded": "done", "waiting": "done", "away": "capture"}
    assert [k.parents for k in kids if k.status == "done"] == [(), ()]
    assert c.count(kids) == {"now": 0, "capture": 1, "parent_first": 0, "done": 2}


def test_the_ages_agree_with_the_vocabulary() -> None:
    from campaign import vocabulary as v
    assert c.CHILD_MAX_AGE == v.CARD_COMPULSORY_AGE == 14
    assert c.NO_BIOMETRICS_AGE == v.VNEID_L2_MIN_AGE == 6
