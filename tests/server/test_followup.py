"""Follow-up lists: the rules, the scope, paging, CSV, and an audit row for every view."""
from __future__ import annotations

import csv
import io

import pytest

from campaign import followup as rules

from .reporting import WARD, YEAR, audit_rows, build_world, ok

EXPECTED = {  # list -> labels (people) or household keys (revisit), for the whole ward
    "card_capture": {"An", "Dung", "Giang"},
    "level2": {"Cường"},
    "activation": {"Bình", "Hà"},
    "home_capture": {"Dung", "Giang"},
    "revisit": {"h2"},
}


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    return build_world(server, "fu")


def _all(device, list_name: str, limit: int = 1000, **params):  # type: ignore[no-untyped-def]
    rows, after = [], None
    while True:
        page = ok(device.get("/api/v1/followup", commune=WARD, list=list_name, limit=limit,
                             **({"after": after} if after else {}), **params))
        rows += page["rows"]
        after = page["next"]
        if not page["more"]:
            return rows


def _names(world, rows):  # type: ignore[no-untyped-def]
    by_id = {v: k for k, v in world.households.items()}
    return {r["label"] if "label" in r else by_id[r["household_id"]] for r in rows}


def test_each_list_holds_exactly_the_people_its_rule_names(world):
    for list_name, expected in EXPECTED.items():
        rows = _all(world.officer, list_name)
        assert _names(world, rows) == expected, list_name
    dung = next(r for r in _all(world.officer, "card_capture") if r["label"] == "Dung")
    assert dung["needs"] == ["card_capture", "home_capture"]
    assert dung["hamlet"] == world.names[world.hamlet_a] and dung["address"] == "Số 1, phố Lê Lợi"
    assert dung["birth_year"] == 1940 and dung["blockers"] == ["cannot_travel"]
    revisit = _all(world.officer, "revisit")[0]
    assert revisit["visits"] == 2 and revisit["needs"] == ["revisit"] and "label" not in revisit


def test_counts_are_the_lists_lengths_and_are_not_audited(world):
    """GET /followup/counts (the dashboard's tiles) equals each list's length, in the caller's scope."""
    before = len(audit_rows(world.server))
    for who in (world.officer, world.leader):
        counts = ok(who.get("/api/v1/followup/counts", commune=WARD))["counts"]
        assert counts == {name: len(_all(who, name)) for name in EXPECTED}, who.role
    assert ok(world.officer.get("/api/v1/followup/counts", commune=WARD))["counts"] == \
        {name: len(rows) for name, rows in EXPECTED.items()}
    views = [r.action for r in audit_rows(world.server)[before:] if r.action != "followup.view"]
    assert views == []  # the counts carry no personal data: only the list views above are audited


def test_pages_of_one_walk_the_same_list_in_the_same_order(world):
    for list_name in ("card_capture", "activation"):
        assert _all(world.officer, list_name, limit=1) == _all(world.officer, list_name)
    first = ok(world.officer.get("/api/v1/followup", commune=WARD, list="card_capture", limit=2))
    assert first["more"] is True and len(first["rows"]) == 2
    bad = world.officer.get("/api/v1/followup", commune=WARD, list="card_capture", after="nonsense")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_cursor"
    assert world.officer.get("/api/v1/followup", commune=WARD, list="nobody").status_code == 400


def test_a_leader_sees_the_team_hamlets_only(world):
    assert _names(world, _all(world.leader, "activation")) == {"Bình"}  # Hà lives in hamlet B
    assert _names(world, _all(world.leader, "card_capture")) == {"An", "Dung", "Giang"}
    assert world.leader.get("/api/v1/followup", commune="10813", list="revisit").status_code == 403
    assert world.other_officer.get("/api/v1/followup", commune=WARD, list="revisit").status_code == 403
    assert world.volunteer.get("/api/v1/followup", commune=WARD, list="revisit").status_code == 403
    rural = ok(world.admin.get("/api/v1/followup", commune="10813", list="card_capture"))["rows"]
    assert [r["label"] for r in rural] == ["Lan"]


def test_csv_streams_the_whole_list_with_a_bom(world):
    answer = world.officer.get("/api/v1/followup", commune=WARD, list="card_capture", format="csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in answer.headers["content-disposition"]
    # a Vietnamese file name without marks, never the list's code (docs/glossary.md)
    assert f'filename="gocua-thu-nhan-the-can-cuoc-{WARD}-' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Vướng mắc", "Cần làm"]
    body = {r[2]: r for r in rows[1:]}
    assert set(body) == EXPECTED["card_capture"]
    assert body["Dung"][3] == "1940" and body["Dung"][4] == "Chỉ có CMND 9 số"
    assert body["Dung"][6] == "Không đi lại được" and body["Dung"][7] == "Thu nhận thẻ căn cước; Thu nhận tại nhà"
    revisit = list(csv.reader(io.StringIO(world.officer.get(
        "/api/v1/followup", commune=WARD, list="revisit", format="csv").content.decode("utf-8-sig"))))
    assert revisit[0] == ["Thôn/Tổ", "Địa chỉ hộ", "Số lượt thăm", "Lượt thăm gần nhất", "Hẹn quay lại"]
    assert [r[1] for r in revisit[1:]] == ["Số 2, phố Lê Lợi"]


def test_every_view_and_download_is_audited_without_personal_data(world):
    before = len(audit_rows(world.server))
    ok(world.leader.get("/api/v1/followup", commune=WARD, list="activation"))
    world.officer.get("/api/v1/followup", commune=WARD, list="revisit", format="csv")
    world.volunteer.get("/api/v1/followup", commune=WARD, list="revisit")  # refused: no row
    rows = audit_rows(world.server)[before:]
    assert [(r.action, r.role, r.device_id) for r in rows] == [
        ("followup.view", "leader", world.leader.id), ("followup.download", "officer", world.officer.id)]
    assert '"hamlets":["' + world.hamlet_a + '"]' in rows[0].scope  # the leader saw hamlet A only
    assert '"hamlets":null' in rows[1].scope
    assert '"list":"activation"' in rows[0].detail and '"rows":1' in rows[0].detail
    for row in rows:
        for private in ("Bình", "Lê Lợi", "1985"):
            assert private not in row.detail


# ---- the rule itself (campaign.followup: the phone uses the same) ------------------------

def _person(**data):  # type: ignore[no-untyped-def]
    return {"presence": "home", "card": "cccd_chip", "vneid": "l1_active", "birth_year": 1980, "blockers": [],
            **data}


@pytest.mark.parametrize("data, booked, needs", [
    ({"card": "none", "birth_year": YEAR - 14}, False, ["card_capture"]),
    ({"card": "none", "birth_year": YEAR - 13}, False, []),  # a card is optional under 14
    ({"card": "cmnd_only", "birth_year": None}, False, ["card_capture"]),  # age unknown: counted
    ({"card": "unknown"}, False, []),  # a question for the next visit, not a need yet
    ({"card": "none", "presence": "deceased"}, False, []),
    ({"vneid": "no_app", "blockers": ["no_otp"]}, False, ["l2"]),
    ({"vneid": "no_app", "blockers": ["no_otp"], "birth_year": YEAR - 5}, False, []),  # under 6: level 1 only
    ({"vneid": "l2_pending", "blockers": ["no_otp"]}, False, []),
    ({"vneid": "l1_approved"}, False, ["activation"]),
    ({"card": "none", "blockers": ["cannot_travel"]}, False, ["card_capture", "home_capture"]),
    ({"card": "none"}, True, ["card_capture", "home_capture"]),
    ({"vneid": "l1_approved", "blockers": ["cannot_travel"]}, False, ["activation"]),  # nothing to capture
])
def test_needs(data, booked, needs):
    assert rules.needs(_person(**data), YEAR, booked) == needs
    assert rules.follow_up(_person(**data), YEAR) == [n for n in needs if n != "home_capture"]
