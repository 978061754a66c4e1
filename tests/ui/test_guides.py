"""A next step for every blocker: ticking a blocker on the person screen shows its guide
(offline, in the app's language); unticking it takes the guide away."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaign import guides
from campaign import vocabulary as v

from .volunteer import Taps, add_household, device_store, enrolled_dir, open_app

ADULT = {"label": "Trần Thị Hoà", "birth_year": 1987, "card": "cccd_chip", "vneid": "no_app"}


def _open(make_harness, tmp_path: Path, blockers=(), **kw):  # type: ignore[no-untyped-def]
    data = enrolled_dir(tmp_path)  # offline: the server address answers nothing
    hid, (pid,) = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", [ADULT], consent="given")
    if blockers:
        with device_store(data) as store:
            store.update_person(pid, blockers=list(blockers))
    return open_app(make_harness, data, route=f"/households/{hid}/people/{pid}", **kw)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ticking_a_blocker_shows_its_steps_offline(make_harness, tmp_path: Path, lang: str) -> None:
    h = _open(make_harness, tmp_path, language=lang, width=360, height=640)
    tap = Taps(h)
    assert not h.exists(key="person.guide.otp_old_number")
    tap(h.get(key="person.blockers.otp_old_number"))
    box = h.get(key="person.guide.otp_old_number")
    assert v.BLOCKERS.label("otp_old_number", lang) in box.text
    for n, step in enumerate(guides.steps("otp_old_number", lang), 1):
        assert h.get(key=f"person.guide.otp_old_number.{n}").text == f"{n}. {step}"
    assert guides.HOTLINE in box.text
    tap(h.get(key="person.blockers.otp_old_number"))  # untick: the guide goes
    assert not h.exists(key="person.guide.otp_old_number")


def test_a_saved_blocker_shows_its_guide_when_the_screen_opens(make_harness, tmp_path: Path) -> None:
    h = _open(make_harness, tmp_path, blockers=["sim_not_own", "card_unreadable"])
    assert h.exists(key="person.guide.sim_not_own")
    assert h.exists(key="person.guide.card_unreadable")
    assert not h.exists(key="person.guide.no_otp")
    assert "1414" in h.get(key="person.guide.sim_not_own").text
