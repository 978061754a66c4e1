"""campaign.team_settings: the one rule for a team's sample rate and lapse days."""
from __future__ import annotations

import pytest

from campaign.team_settings import BadSetting, TeamSettings, carried, checked


def test_a_change_keeps_what_it_leaves_out() -> None:
    assert checked({}) == TeamSettings(10, 5)
    assert checked({"sample_every": 1}) == TeamSettings(1, 5)
    assert checked({"lapse_days": 60}, TeamSettings(7, 9)) == TeamSettings(7, 60)


@pytest.mark.parametrize("body, code", [
    ({"sample_every": 0}, "bad_sample_every"), ({"sample_every": 101}, "bad_sample_every"),
    ({"sample_every": 2.5}, "bad_sample_every"), ({"sample_every": True}, "bad_sample_every"),
    ({"lapse_days": 0}, "bad_lapse_days"), ({"lapse_days": 61}, "bad_lapse_days"),
    ({"lapse_days": "7"}, "bad_lapse_days"), ({"lapse_days": None}, "bad_lapse_days"),
    ({"colour": 1}, "unknown_field"),
])
def test_outside_the_rule_is_refused_with_its_code(body: dict, code: str) -> None:
    with pytest.raises(BadSetting) as refused:
        checked(body)
    assert refused.value.code == code


@pytest.mark.parametrize("sent, kept", [
    (None, TeamSettings()), ("x", TeamSettings()), ({}, TeamSettings()),
    ({"sample_every": 3, "lapse_days": 12}, TeamSettings(3, 12)),
    ({"sample_every": 0, "lapse_days": 12}, TeamSettings()),  # out of rule: a phone keeps working on defaults
    ({"sample_every": 4, "extra": 1}, TeamSettings(4, 5)),  # a newer server's extra field is left aside
])
def test_a_phone_reads_what_was_carried_without_refusing(sent: object, kept: TeamSettings) -> None:
    assert carried(sent) == kept
