"""Every blocker has a guide of 3-6 plain steps in both languages, and help that works on it."""
from __future__ import annotations

import unicodedata

import pytest

from campaign import guides
from campaign import vocabulary as v


def test_every_blocker_has_a_guide_and_nothing_else_does() -> None:
    assert set(guides.GUIDES) == set(v.BLOCKERS.codes)
    assert set(guides.RESOLVED_BY) == set(v.BLOCKERS.codes)


@pytest.mark.parametrize("code", v.BLOCKERS.codes)
def test_a_guide_is_three_to_six_steps_in_each_language(code: str) -> None:
    g = guides.guide(code)
    assert len(g.vi) == len(g.en), code
    for lang in ("vi", "en"):
        steps = g.steps(lang)
        assert guides.MIN_STEPS <= len(steps) <= guides.MAX_STEPS, (code, lang)
        for step in steps:
            assert step.strip() == step and step, (code, step)
            assert unicodedata.normalize("NFC", step) == step
            assert len(step) <= 140, (code, step)  # plain and short: read out at the door


@pytest.mark.parametrize("code", v.BLOCKERS.codes)
def test_the_help_for_a_blocker_is_help_the_app_offers(code: str) -> None:
    assert guides.RESOLVED_BY[code]
    assert all(a in v.ACTIONS for a in guides.RESOLVED_BY[code])


def test_the_hotline_is_where_a_number_is_changed() -> None:
    assert guides.HOTLINE == "1900 0368"
    assert any(guides.HOTLINE in s for s in guides.steps("otp_old_number"))
    assert any(guides.HOTLINE in s for s in guides.steps("otp_old_number", "en"))


def test_an_unknown_code_has_no_guide() -> None:
    with pytest.raises(KeyError):
        guides.guide("no_such_blocker")
