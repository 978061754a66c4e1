"""A next step for every blocker: ticking a blocker on the person screen shows its guide
(offline, in the app's language); unticking it takes the guide away."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaign import guides
from campaign import vocabulary as v
from campaign.ids import uuid7

from ..support import Server, hamlet_data, household_data, person_data
from .test_dashboard import enrolled, loaded, text_of
from .test_dashboard import open_app as open_dashboard
from .volunteer import Taps, add_household, device_store, enrolled_dir, open_app, shell_of

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


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_dashboard_shows_the_blockers_being_resolved_and_by_which_help(server: Server, make_harness,
                                                                           tmp_path: Path) -> None:
    admin = server.enroll("admin")
    hamlet, household = uuid7(), uuid7()
    sims = [uuid7() for _ in range(3)]
    old = uuid7()
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố gỡ vướng")),
              admin.event("household.created", household, household_data(hamlet, "Số 8, phố Gỡ"))]
    for pid, code in [*((p, "sim_not_own") for p in sims), (old, "otp_old_number")]:
        events += [admin.event("person.added", pid, person_data(household, f"Người {pid[-3:]}", 1980, "cccd_chip",
                                                                 "no_app")),
                   admin.event("person.updated", pid, {"blockers": [code]})]
    events.append(admin.event("visit.recorded", uuid7(), {
        "household_id": household, "outcome": "met", "actions": ["referred_phone_change"],
        "people_helped": [sims[0], old], "note": ""}))
    answer = admin.push(events)
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    officer = enrolled(server, tmp_path / "officer", "officer", commune="10525")
    h = open_dashboard(make_harness, officer)
    loaded(h)
    got = admin.get("/api/v1/followup/counts", commune="10525").json()["blockers"]
    for code in ("sim_not_own", "otp_old_number"):
        assert text_of(h, f"dashboard:resolving:{code}:open") == f"{got[code]['open']} người"
        assert "Hướng dẫn đổi số điện thoại: 1" in text_of(h, f"dashboard:resolving:{code}:help")
    assert got["sim_not_own"]["open"] >= 3
    assert not h.exists(key="dashboard:resolving:refused")  # nobody has it: not listed
    panel = h.get(key="dashboard:resolving").text
    assert panel.index(v.BLOCKERS.label("sim_not_own")) < panel.index(v.BLOCKERS.label("otp_old_number"))


def test_a_pre_merger_address_offers_the_free_card_reissue(make_harness, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    hid, (pid,) = add_household(data, "Số 5, phường Trần Phú, TP Hải Dương, tỉnh Hải Dương", [ADULT],
                                consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/{pid}", width=360, height=640)
    assert "7 ngày làm việc" in h.get(key="person.reissue_note").text
    tap = Taps(h)
    tap(h.get(key="person.reissue_add"))
    assert h.get(key="person.help.reissue_request")["selected"]
    tap(h.get(key="person.save"))
    assert h.route == f"/households/{hid}"
    tap(h.get(key="outcome.met"))
    visit = [e for e in shell_of(h).store.pending(limit=1000) if e["kind"] == "visit.recorded"][-1]
    assert visit["data"]["actions"] == ["reissue_request"] and visit["data"]["people_helped"] == [pid]


def test_a_current_address_offers_nothing(make_harness, tmp_path: Path) -> None:
    h = _open(make_harness, tmp_path)  # "Số 16, ngõ 5, phố Lê Lợi"
    assert not h.exists(key="person.reissue")
