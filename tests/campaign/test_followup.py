"""campaign.followup: what the second part's blockers put a person on (docs/rules.md, section 6)."""
from __future__ import annotations

import pytest

from campaign import followup as rules

YEAR = 2026


def _person(**data):  # type: ignore[no-untyped-def]
    return {"presence": "home", "card": "cccd_chip", "vneid": "no_app", "birth_year": 1980, "blockers": [], **data}


@pytest.mark.parametrize("blocker", ["otp_old_number", "face_match_failed", "os_too_old"])
def test_a_blocker_that_stops_self_registration_refers_for_level_2(blocker):
    assert rules.follow_up(_person(blockers=[blocker]), YEAR) == ["l2"]
    assert rules.follow_up(_person(blockers=[blocker], vneid="l1_active"), YEAR) == []
    assert rules.follow_up(_person(blockers=[blocker], birth_year=YEAR - 5), YEAR) == []  # under 6: level 1 only


def test_a_card_that_cannot_be_read_is_a_card_to_re_issue():
    assert rules.follow_up(_person(blockers=["card_unreadable"]), YEAR) == ["card_capture"]
    assert rules.follow_up(_person(blockers=["card_unreadable"], card="can_cuoc", vneid="l2_active"), YEAR) \
        == ["card_capture"]
    # a new card already on its way, a child (the card is optional under 14), someone who moved away
    assert rules.follow_up(_person(blockers=["card_unreadable"], card="applied_waiting"), YEAR) == []
    assert rules.follow_up(_person(blockers=["card_unreadable"], birth_year=YEAR - 10), YEAR) == []
    assert rules.follow_up(_person(blockers=["card_unreadable"], presence="moved"), YEAR) == []
    # self-registration can still go on: the QR code's data can be typed in by hand
    assert "card_unreadable" not in rules.SELF_SERVICE_BLOCKERS


def test_who_cannot_travel_with_an_unreadable_card_gets_a_home_capture():
    person = _person(blockers=["card_unreadable", "cannot_travel"], vneid="l1_active")
    assert rules.needs(person, YEAR) == ["card_capture", "home_capture"]
