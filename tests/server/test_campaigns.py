"""Campaign settings and progress against them, with the pace forecast."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timedelta

import pytest

from campaign.ids import uuid7
from campaign.totals import VIETNAM
from sync_server.services.progress import forecast

from ..support import hamlet_data, household_data, person_data
from .reporting import RURAL, WARD, audit_rows, build_world, ok, put, run_cli

TODAY = datetime.now(VIETNAM).date()
SETTINGS = {"name": "Chiến dịch 90 ngày", "target_kind": "percent", "target_value": 50,
            "start": (TODAY - timedelta(days=10)).isoformat(), "deadline": (TODAY + timedelta(days=19)).isoformat(),
            "ends": (TODAY + timedelta(days=40)).isoformat(), "retention_days": 60}


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    return build_world(server, "ca")


def test_an_officer_sets_and_reads_the_commune_campaign(world):
    assert world.officer.get(f"/api/v1/campaigns/{WARD}").json()["error"] == "no_campaign"
    before = len(audit_rows(world.server, "campaign.update"))
    answer = put(world.officer, f"/api/v1/campaigns/{WARD}", json=SETTINGS)
    saved = ok(answer)
    assert {k: saved[k] for k in SETTINGS} == SETTINGS
    assert saved["commune_name"] == "Phường Hải Dương"
    assert saved["purge_after"] == (TODAY + timedelta(days=100)).isoformat()
    assert ok(world.leader.get(f"/api/v1/campaigns/{WARD}")) == saved
    rows = audit_rows(world.server, "campaign.update")
    assert len(rows) == before + 1 and rows[-1].device_id == world.officer.id
    assert json.loads(rows[-1].detail)["target_value"] == 50


@pytest.mark.parametrize("change, error", [
    ({"deadline": (TODAY - timedelta(days=11)).isoformat()}, "bad_date"),
    ({"ends": (TODAY + timedelta(days=1)).isoformat()}, "bad_date"),
    ({"target_value": 120}, "bad_target"),
    ({"target_kind": "households"}, "bad_request"),
    ({"start": "01/05/2026"}, "bad_request"),
    ({"retention_days": -1}, "bad_request"),
    ({"colour": "red"}, "bad_request"),
])
def test_bad_settings_are_refused_with_a_reason(world, change, error):
    answer = put(world.admin, f"/api/v1/campaigns/{WARD}", json={**SETTINGS, **change})
    assert answer.status_code == 400 and answer.json()["error"] == error, answer.text


def test_campaign_roles(world):
    path = f"/api/v1/campaigns/{WARD}"
    assert world.volunteer.get(path).status_code == 403
    assert put(world.volunteer, path, json=SETTINGS).status_code == 403
    assert put(world.leader, path, json=SETTINGS).status_code == 403
    assert world.other_officer.get(path).status_code == 403
    assert put(world.other_officer, path, json=SETTINGS).status_code == 403
    assert ok(put(world.admin, f"/api/v1/campaigns/{RURAL}", json={**SETTINGS, "target_kind": "people",
                                                                   "target_value": 3}))["target_value"] == 3
    assert ok(world.other_officer.get(f"/api/v1/campaigns/{RURAL}"))["commune_name"] == "Xã Thanh Hà"


def test_progress_counts_and_forecast(world):
    put(world.officer, f"/api/v1/campaigns/{WARD}", json=SETTINGS)
    progress = ok(world.officer.get("/api/v1/progress", commune=WARD))
    totals = ok(world.officer.get("/api/v1/totals", commune=WARD))["total"]
    for name in ("households", "visited", "people", "eid_active"):
        assert progress[name] == totals[name], name
    assert (progress["people"], progress["eid_active"]) == (8, 1)  # Khoa alone is active
    assert progress["target"] == {"kind": "percent", "value": 50, "people": 4, "share": 0.5,
                                  "deadline": SETTINGS["deadline"]}
    f = progress["forecast"]
    assert f["days_left"] == 20 and f["short_of_target"] == 3 and f["needed_a_day"] == 1
    assert f["text_vi"].startswith("Với tốc độ này, đạt ") and "cần 1 người mỗi ngày" in f["text_vi"]
    assert progress["days"][0]["day"] == SETTINGS["start"] and progress["days"][-1]["day"] == progress["today"]
    assert progress["days"][-1]["visited_total"] == progress["visited"] == 2
    assert sum(d["activated"] for d in progress["days"]) == progress["eid_active"]  # Khoa, recorded today
    leader = ok(world.leader.get("/api/v1/progress", commune=WARD))
    assert leader["whole_commune"] is False and leader["households"] == 2 and leader["people"] == 6
    assert world.volunteer.get("/api/v1/progress", commune=WARD).status_code == 403
    assert world.other_officer.get("/api/v1/progress", commune=WARD).status_code == 403


def test_activations_by_day_drive_the_forecast(world):
    """An activation recorded on day D shows in days[D].activated, and the forecast moves by the
    activations of the last 7 full days, as computed by hand below."""
    commune = "10003"  # Xã Tây Phương, Hà Nội: a commune of this test alone
    admin, hamlet = world.admin, uuid7()
    assert ok(admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Thôn Tốc Độ", commune=commune))]))[
        "quarantined"] == []
    officer = world.server.enroll("officer", commune=commune)
    v = world.server.enroll("volunteer", hamlets=(hamlet,))
    ok(put(officer, f"/api/v1/campaigns/{commune}", json=SETTINGS))  # started 10 days ago, 50 %

    def at(days_ago: int, clock: str = "10:00:00+07:00") -> str:
        return f"{TODAY - timedelta(days=days_ago)}T{clock}"

    h1, h2 = uuid7(), uuid7()
    people = [uuid7() for _ in range(20)]
    events = [v.event("household.created", h1, household_data(hamlet, "Số 1"), at=at(9)),
              v.event("household.created", h2, household_data(hamlet, "Số 2"), at=at(9))]
    events += [v.event("person.added", p, person_data(h1 if i < 12 else h2, f"Người {i}", 1980, "cccd_chip",
                                                      "l1_active" if i == 0 else "no_app"), at=at(9))
               for i, p in enumerate(people)]
    events += [
        # day -3: two activations; day -1: one, recorded at 20:00 UTC the evening before
        v.event("person.updated", people[1], {"vneid": "l1_active"}, at=at(3)),
        v.event("person.updated", people[2], {"vneid": "l1_active"}, at=at(3)),
        v.event("person.updated", people[3], {"vneid": "l2_active"}, at=f"{TODAY - timedelta(days=2)}T20:00:00Z"),
        # today: not a full day, not in the pace
        v.event("person.updated", people[4], {"vneid": "l1_active"}, at=at(0, "00:00:01+07:00")),
        # day -5 active, day -4 back to pending: no activation left on day -5
        v.event("person.updated", people[5], {"vneid": "l1_active"}, at=at(5)),
        v.event("person.updated", people[5], {"vneid": "l1_pending"}, at=at(4)),
        # activated on day -3, then moved away: not a person living here, not counted
        v.event("person.updated", people[6], {"vneid": "l1_active"}, at=at(3)),
        v.event("person.updated", people[6], {"presence": "moved"}, at=at(2)),
        # four people helped on day -2, none activated: help is not an activation
        v.event("visit.recorded", uuid7(), {"household_id": h1, "outcome": "met", "actions": ["activation_help"],
                                            "people_helped": people[7:11], "note": ""}, at=at(2)),
    ]
    assert ok(v.push(events))["quarantined"] == []

    progress = ok(officer.get("/api/v1/progress", commune=commune))
    days = {d["day"]: d for d in progress["days"]}
    assert {d: r["activated"] for d, r in days.items() if r["activated"]} == {
        str(TODAY - timedelta(days=9)): 1, str(TODAY - timedelta(days=3)): 2,
        str(TODAY - timedelta(days=1)): 1, str(TODAY): 1}
    assert days[str(TODAY - timedelta(days=2))]["helped"] == 4
    assert (progress["people"], progress["eid_active"]) == (19, 5)  # 20 less the one who moved
    assert sum(d["activated"] for d in progress["days"]) == progress["eid_active"]
    by_day = ok(officer.get("/api/v1/totals", commune=commune, by="day"))
    assert {r["key"]: r["activated"] for r in by_day["rows"] if r["activated"]} == \
        {d: r["activated"] for d, r in days.items() if r["activated"]}
    assert by_day["total"]["activated"] == by_day["total"]["eid_active"] == 5

    # by hand: the window is days -7 … -1 (the campaign began 10 days ago), 3 activations in
    # it: 3/7 a day; 20 days left (today and the deadline included) → 5 + round(60/7 = 8.57)
    # = 14 of 19 people by the deadline; the target is ceil(19 × 50 %) = 10, 5 short: 1 a day.
    f = progress["forecast"]
    assert (f["window_days"], f["activated_a_day"], f["days_left"]) == (7, 0.4, 20)
    assert f["helped_a_day"] == 0.6  # shown, not projected: 4 helped over 7 days
    assert (f["eid_active_at_deadline"], f["share_at_deadline"]) == (14, 0.7368)
    assert progress["target"]["people"] == 10
    assert (f["short_of_target"], f["needed_a_day"], f["on_track"]) == (5, 1, True)
    assert f["text_en"].startswith(f"At this pace 73.7 % of the people by {SETTINGS['deadline']}; 1 people a day needed")
    assert f["text_vi"].startswith("Với tốc độ này, đạt 73,7 % số người vào ")
    assert run_cli(world.server, "recount").returncode == 0


def test_the_command_line_sets_a_campaign(world):
    done = run_cli(world.server, "campaign", "--commune", RURAL, "--name", "Thanh Hà", "--target-percent", "90",
               "--start", "2026-01-05", "--deadline", "2026-03-31", "--retention-days", "30")
    assert json.loads(done.stdout)["target_value"] == 90
    assert ok(world.admin.get(f"/api/v1/campaigns/{RURAL}"))["name"] == "Thanh Hà"
    bad = run_cli(world.server, "campaign", "--commune", RURAL, "--name", "x", "--target-percent", "90",
                  "--start", "2026-04-01", "--deadline", "2026-03-31")
    assert bad.returncode == 2 and "deadline is before the start" in bad.stderr
    assert audit_rows(world.server, "campaign.update")[-1].role == "cli"


# ---- the forecast's arithmetic --------------------------------------------------------

def _forecast(**kw):  # type: ignore[no-untyped-def]
    base = dict(today=date(2026, 3, 10), start=date(2026, 3, 1), deadline=date(2026, 3, 19), households=100,
                visited=40, people=400, eid_active=100, target_people=360, daily={})
    return asdict(forecast(**{**base, **kw}))


def day(activated: int, visited: int, helped: int = 0) -> dict[str, int]:
    return {"activated": activated, "visited": visited, "helped": helped}


def test_the_pace_is_the_average_of_the_last_seven_full_days():
    # 10 people activated, 5 first visits and 40 people helped a day: the e-ID forecast
    # follows the activations, not the people helped
    daily = {f"2026-03-{d:02d}": day(10, 5, 40) for d in range(1, 10)}
    daily["2026-03-10"] = day(99, 99, 99)  # today is not finished: not in the pace
    f = _forecast(daily=daily)
    assert (f["window_days"], f["activated_a_day"], f["visited_a_day"], f["days_left"]) == (7, 10.0, 5.0, 10)
    assert f["helped_a_day"] == 40.0
    assert f["eid_active_at_deadline"] == 200 and f["share_at_deadline"] == 0.5
    assert f["visited_at_deadline"] == 90 and f["days_to_visit_all"] == 12
    assert f["short_of_target"] == 260 and f["needed_a_day"] == 26 and f["on_track"] is False
    assert f["text_vi"] == ("Với tốc độ này, đạt 50,0 % số người vào 19/03/2026; cần 26 người mỗi ngày "
                            "để đạt mục tiêu đúng hạn.")
    assert f["text_en"].startswith("At this pace 50.0 % of the people by 2026-03-19; 26 people a day needed")


def test_the_forecast_at_the_edges():
    assert _forecast(start=date(2026, 3, 8), daily={"2026-03-08": day(7, 1)})["window_days"] == 2  # two days old
    assert _forecast(start=date(2026, 3, 10), daily={"2026-03-10": day(4, 1)})["activated_a_day"] == 4.0  # day one
    late = _forecast(today=date(2026, 3, 25))
    assert late["days_left"] == 0 and late["needed_a_day"] is None and "quá hạn" in late["text_vi"]
    done = _forecast(eid_active=380)
    assert done["short_of_target"] == 0 and done["on_track"] is True and done["text_vi"].startswith("Đã đạt")
    capped = _forecast(daily={f"2026-03-{d:02d}": day(500, 50) for d in range(1, 10)})
    assert capped["eid_active_at_deadline"] == 400 and capped["visited_at_deadline"] == 100
