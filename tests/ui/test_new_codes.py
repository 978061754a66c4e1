"""The second part's codes on the app's screens: chips on the person screen (both languages),
recorded as events, and counted on the dashboard from a real server."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaign import vocabulary as v
from campaign.ids import uuid7

from ..support import Server, hamlet_data, household_data, person_data
from .test_dashboard import enrolled, loaded, text_of
from .test_dashboard import open_app as open_dashboard
from .volunteer import Taps, add_household, enrolled_dir, open_app, shell_of

NEW_ACTIONS = ("reissue_request", "wallet_health_insurance", "wallet_driving_licence", "child_registration")
NEW_BLOCKERS = ("otp_old_number", "face_match_failed", "card_unreadable", "os_too_old")
ADULT = {"label": "Trần Thị Hoà", "birth_year": 1987, "card": "cccd_chip", "vneid": "no_app"}


def _open_person(make_harness, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    data = enrolled_dir(tmp_path)
    hid, (pid,) = add_household(data, "Số 16, ngõ 5, phố Lê Lợi", [ADULT], consent="given")
    h = open_app(make_harness, data, route=f"/households/{hid}/people/{pid}", **kw)
    return h, hid, pid


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_person_screen_offers_every_new_code_in_its_language(make_harness, tmp_path: Path, lang: str) -> None:
    h, _hid, _pid = _open_person(make_harness, tmp_path, language=lang, width=360, height=640)
    for code in NEW_BLOCKERS:
        assert h.get(key=f"person.blockers.{code}").text == v.BLOCKERS.label(code, lang)
    for code in NEW_ACTIONS:
        assert h.get(key=f"person.help.{code}").text == v.ACTIONS.label(code, lang)


def test_a_new_blocker_and_new_help_are_recorded(make_harness, tmp_path: Path) -> None:
    h, hid, pid = _open_person(make_harness, tmp_path)
    store = shell_of(h).store
    seq = store.last_seq
    tap = Taps(h)
    tap(h.get(key="person.blockers.otp_old_number"))
    tap(h.get(key="person.blockers.os_too_old"))
    tap(h.get(key="person.help.wallet_health_insurance"))
    tap(h.get(key="person.help.reissue_request"))
    tap(h.get(key="person.save"))
    assert h.route == f"/households/{hid}"
    tap(h.get(key="outcome.met"))
    update, visit = [e for e in store.pending(limit=1000) if e["seq"] > seq]
    assert update["kind"] == "person.updated" and update["data"]["blockers"] == ["otp_old_number", "os_too_old"]
    assert visit["kind"] == "visit.recorded"
    assert visit["data"]["actions"] == ["wallet_health_insurance", "reissue_request"]
    assert visit["data"]["people_helped"] == [pid]
    assert store.person(pid).follow_up == ("l2",)  # these blockers stop self-registration


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_dashboard_counts_the_new_codes(server: Server, make_harness, tmp_path: Path) -> None:
    admin = server.enroll("admin")
    hamlet, household = uuid7(), uuid7()
    people = {code: uuid7() for code in NEW_BLOCKERS}
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố mã mới")),
              admin.event("household.created", household, household_data(hamlet, "Số 5, phố Mới"))]
    for code, pid in people.items():
        events += [admin.event("person.added", pid, person_data(household, f"Người {code}", 1980, "cccd_chip",
                                                                 "no_app")),
                   admin.event("person.updated", pid, {"blockers": [code]})]
    events.append(admin.event("visit.recorded", uuid7(), {
        "household_id": household, "outcome": "met", "actions": list(NEW_ACTIONS),
        "people_helped": list(people.values()), "note": ""}))
    answer = admin.push(events)
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    officer = enrolled(server, tmp_path / "officer", "officer", commune="10525")
    h = open_dashboard(make_harness, officer)
    loaded(h)
    total = admin.get("/api/v1/totals", commune="10525").json()["total"]
    for group, vocab, codes in (("blockers", v.BLOCKERS, NEW_BLOCKERS), ("actions", v.ACTIONS, NEW_ACTIONS)):
        for code in codes:
            assert total[group][code] >= 1
            assert text_of(h, f"dashboard:{group}:{code}") == str(total[group][code]), code
            assert vocab.label(code) in h.get(key=f"dashboard:{group}").text, code
