"""The codes of the wire contract's second part (issue #14), end to end on both backends:
pushed, pulled by another device, counted in the totals, in both exports' columns, and on the
follow-up lists their rules put them on."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from campaign import vocabulary as v
from campaign.ids import uuid7

from ..support import cli, hamlet_data, household_data, person_data
from .reporting import WARD, ok

NEW_ACTIONS = ("reissue_request", "wallet_health_insurance", "wallet_driving_licence", "child_registration")
NEW_BLOCKERS = ("otp_old_number", "face_match_failed", "card_unreadable", "os_too_old")


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    """One hamlet: a person per new blocker (no app, a chip card), and one visit giving every new action
    to all of them."""
    admin = server.enroll("admin")
    officer = server.enroll("officer", commune=WARD)
    hamlet = uuid7()
    assert ok(admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ mã mới"))]))["quarantined"] == []
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    people = {code: uuid7() for code in NEW_BLOCKERS}
    events = [volunteer.event("household.created", household, household_data(hamlet, "Số 9, phố Mới"))]
    for code, pid in people.items():
        events += [volunteer.event("person.added", pid, person_data(household, f"Người {code}", 1980, "cccd_chip",
                                                                     "no_app")),
                   volunteer.event("person.updated", pid, {"blockers": [code]})]
    events.append(volunteer.event("visit.recorded", uuid7(), {
        "household_id": household, "outcome": "met", "actions": list(NEW_ACTIONS),
        "people_helped": list(people.values()), "note": ""}))
    answer = ok(volunteer.push(events))
    assert answer["quarantined"] == [], answer
    return {"server": server, "officer": officer, "volunteer": volunteer, "hamlet": hamlet, "people": people}


def test_every_new_code_is_in_the_vocabulary_and_has_both_labels():
    for vocab, codes in ((v.ACTIONS, NEW_ACTIONS), (v.BLOCKERS, NEW_BLOCKERS)):
        for code in codes:
            assert code in vocab
            vi, en = vocab.labels[code]
            assert vi and en and vi != en


def test_another_device_pulls_them_as_pushed(world):
    other = world["server"].enroll("volunteer", hamlets=(world["hamlet"],))
    events = other.pull_all()
    blockers = {e["entity"]: e["data"]["blockers"] for e in events if e["kind"] == "person.updated"}
    assert blockers == {pid: [code] for code, pid in world["people"].items()}
    [visit] = [e for e in events if e["kind"] == "visit.recorded"]
    assert visit["data"]["actions"] == list(NEW_ACTIONS)


def test_the_totals_count_each_new_code(world):
    rows = ok(world["officer"].get("/api/v1/totals", commune=WARD))["rows"]
    row = next(r for r in rows if r["key"] == world["hamlet"])
    assert {c: row["blockers"][c] for c in NEW_BLOCKERS} == dict.fromkeys(NEW_BLOCKERS, 1)
    assert {c: row["actions"][c] for c in NEW_ACTIONS} == dict.fromkeys(NEW_ACTIONS, 1)
    assert set(row["blockers"]) == set(v.BLOCKERS.codes) and set(row["actions"]) == set(v.ACTIONS.codes)
    assert cli(world["server"].db_url, "recount").returncode == 0


def _columns(header: list[str], row: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {h: int(c) for h, c in zip(header, row, strict=True) if h.startswith(("Hỗ trợ: ", "Vướng mắc: "))}


def _expected() -> dict[str, int]:
    out = {f"Hỗ trợ: {v.ACTIONS.label(c)}": 1 for c in NEW_ACTIONS}
    out.update({f"Vướng mắc: {v.BLOCKERS.label(c)}": 1 for c in NEW_BLOCKERS})
    return out


def test_both_exports_have_a_column_for_each_new_code(world):
    name = "Tổ mã mới"
    answer = world["officer"].get("/api/v1/exports/totals.csv", commune=WARD)
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    [row] = [r for r in rows if r[0] == name]
    got = _columns(rows[0][1:], row[1:])
    assert {h: got[h] for h in _expected()} == _expected()
    answer = world["officer"].get("/api/v1/exports/totals.xlsx", commune=WARD)
    assert answer.status_code == 200, answer.text
    sheet = [list(r) for r in load_workbook(io.BytesIO(answer.content))["Tổng hợp"].iter_rows(values_only=True)]
    [row] = [r for r in sheet if r[0] == name]
    got = _columns(sheet[0][1:], row[1:])
    assert {h: got[h] for h in _expected()} == _expected()


def test_the_follow_up_lists_follow_the_new_blockers(world):
    """A card that cannot be read is a card to re-issue; the three others stop self-registration."""
    def labels(list_name: str) -> set[str]:
        page = ok(world["officer"].get("/api/v1/followup", commune=WARD, list=list_name, limit=1000))
        return {r["label"] for r in page["rows"] if r["hamlet_id"] == world["hamlet"]}
    assert labels("card_capture") == {"Người card_unreadable"}
    assert labels("level2") == {f"Người {c}" for c in ("otp_old_number", "face_match_failed", "os_too_old")}
    answer = world["officer"].get("/api/v1/followup", commune=WARD, list="level2", format="csv")
    text = answer.content.decode("utf-8-sig")
    assert v.BLOCKERS.label("otp_old_number") in text and v.BLOCKERS.label("os_too_old") in text
