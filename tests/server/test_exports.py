"""Exports: the workbook and the CSV read back and checked against /api/v1/totals, number by number."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from campaign.ids import uuid7
from sync_server.render.text import TOTAL_COLUMNS, value

from ..support import household_data
from .reporting import WARD, audit_rows, build_world, ok, run_cli

HEADERS = ["Thôn/Tổ dân phố"] + [h for h, _p in TOTAL_COLUMNS]


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    world = build_world(server, "ex")
    v = world.volunteer  # an address a spreadsheet would take for a formula, nobody home
    household = uuid7()
    assert ok(v.push([v.event("household.created", household, household_data(world.hamlet_a, "=1+2")),
                      v.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "not_home",
                                                          "actions": [], "people_helped": [], "note": ""})]))
    return world


def _check_against_totals(rows: list[list], totals: dict) -> None:
    """rows: header, one per hamlet, the total row; every number equals the API's."""
    assert rows[0] == HEADERS
    assert [r[0] for r in rows[1:-1]] == [r["name"] for r in totals["rows"]]
    assert rows[-1][0] == "Tổng cộng"
    assert len(rows) == len(totals["rows"]) + 2
    for got, want in zip(rows[1:], totals["rows"] + [totals["total"]], strict=True):
        for (header, path), cell in zip(TOTAL_COLUMNS, got[1:], strict=True):
            assert int(cell) == value(want, path), (want["name"], header)


def _workbook(content: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(content))


def test_the_workbook_matches_the_totals_number_by_number(world):
    answer = world.officer.get("/api/v1/exports/totals.xlsx", commune=WARD)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in answer.headers["content-disposition"]
    wb = _workbook(answer.content)
    assert wb.sheetnames == ["Tổng hợp", "Cần theo dõi", "Thông tin"]
    totals = ok(world.officer.get("/api/v1/totals", commune=WARD))
    sheet = wb["Tổng hợp"]
    _check_against_totals([list(r) for r in sheet.iter_rows(values_only=True)], totals)
    assert len(sheet._charts) == 2  # households and e-IDs, a bar per hamlet
    assert totals["total"]["people"] == 8 and totals["total"]["households"] == 4  # 3 + the "=1+2" one


def test_the_follow_up_sheet_and_the_information_sheet(world):
    wb = _workbook(world.officer.get("/api/v1/exports/totals.xlsx", commune=WARD).content)
    rows = list(wb["Cần theo dõi"].iter_rows(values_only=True))
    assert rows[0] == ("Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Vướng mắc", "Cần làm")
    by_label = {r[2]: r for r in rows[1:] if r[2]}
    assert set(by_label) == {"An", "Bình", "Cường", "Dung", "Giang", "Hà"}
    assert by_label["Dung"] == (world.names[world.hamlet_a], "Số 1, phố Lê Lợi", "Dung", 1940, "Chỉ có CMND 9 số",
                                "Chưa rõ", "Không đi lại được", "Thu nhận thẻ căn cước; Thu nhận tại nhà")
    # the «Vướng mắc» column says what the follow-up CSV says, person by person
    csv_rows = world.officer.get("/api/v1/followup", commune=WARD, list="home_capture", format="csv").text
    [dung_csv] = [line for line in csv_rows.splitlines() if ",Dung," in line]
    assert "Không đi lại được" in dung_csv
    revisits = [r for r in rows[1:] if not r[2]]
    assert {(r[1], r[7]) for r in revisits} == {("Số 2, phố Lê Lợi", "Đến lại (không có nhà)"),
                                                ("'=1+2", "Đến lại (không có nhà)")}
    info = dict(wb["Thông tin"].iter_rows(values_only=True))
    assert info["Xã/phường"] == "Phường Hải Dương" and info["Tỉnh/thành phố"] == "Thành phố Hải Phòng"
    assert info["Ghi chú"] == "Số liệu do tổ ghi nhận; số liệu chính thức do Công an nắm giữ"
    assert info["Người lập"] == f"Công an cấp xã, thiết bị {world.officer.id}"
    assert info["Lập lúc"].endswith("(giờ Việt Nam)") and info["Phạm vi"] == "Toàn xã/phường"


def test_text_that_looks_like_a_formula_stays_text(world):
    wb = _workbook(world.officer.get("/api/v1/exports/totals.xlsx", commune=WARD).content)
    cells = [row[1] for row in wb["Cần theo dõi"].iter_rows(min_row=2) if row[1].value == "'=1+2"]
    assert len(cells) == 1 and cells[0].data_type == "s"  # a string behind the neutraliser, not a formula
    rows = list(csv.reader(io.StringIO(world.officer.get(
        "/api/v1/followup", commune=WARD, list="revisit", format="csv").content.decode("utf-8-sig"))))
    assert "'=1+2" in [r[1] for r in rows]


def test_the_csv_matches_the_totals_number_by_number(world):
    answer = world.officer.get("/api/v1/exports/totals.csv", commune=WARD)
    assert answer.status_code == 200 and answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    _check_against_totals(rows, ok(world.officer.get("/api/v1/totals", commune=WARD)))


def test_a_leader_exports_the_team_hamlets_only(world):
    wb = _workbook(world.leader.get("/api/v1/exports/totals.xlsx", commune=WARD).content)
    rows = [list(r) for r in wb["Tổng hợp"].iter_rows(values_only=True)]
    totals = ok(world.leader.get("/api/v1/totals", commune=WARD))
    assert [r["key"] for r in totals["rows"]] == [world.hamlet_a]
    _check_against_totals(rows, totals)
    labels = {r[2] for r in wb["Cần theo dõi"].iter_rows(min_row=2, values_only=True) if r[2]}
    assert labels == {"An", "Bình", "Cường", "Dung", "Giang"}  # not Hà of hamlet B
    assert dict(wb["Thông tin"].iter_rows(values_only=True))["Phạm vi"] == world.names[world.hamlet_a]


def test_exports_are_refused_outside_the_scope(world):
    for device in (world.volunteer, world.other_officer):
        for path in ("/api/v1/exports/totals.xlsx", "/api/v1/exports/totals.csv"):
            answer = device.get(path, commune=WARD)
            assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    assert world.admin.get("/api/v1/exports/totals.csv", commune="99999").json()["error"] == "unknown_commune"


def test_every_export_is_audited(world):
    before = len(audit_rows(world.server))
    world.officer.get("/api/v1/exports/totals.xlsx", commune=WARD)
    world.leader.get("/api/v1/exports/totals.csv", commune=WARD)
    world.other_officer.get("/api/v1/exports/totals.csv", commune=WARD)  # refused: no row
    rows = audit_rows(world.server)[before:]
    assert [(r.action, r.role) for r in rows] == [("export.totals.xlsx", "officer"), ("export.totals.csv", "leader")]
    assert '"followup_people":6' in rows[0].detail and '"format":"xlsx"' in rows[0].detail
    assert world.hamlet_a in rows[1].scope and world.hamlet_b not in rows[1].scope


def test_the_command_line_export_is_the_same_workbook(world, tmp_path):
    out = tmp_path / "tong-hop.xlsx"
    before = len(audit_rows(world.server, "export.totals.xlsx"))
    assert run_cli(world.server, "export", "--commune", WARD, "--out", str(out)).returncode == 0
    wb = load_workbook(out)
    _check_against_totals([list(r) for r in wb["Tổng hợp"].iter_rows(values_only=True)],
                          ok(world.admin.get("/api/v1/totals", commune=WARD)))
    assert dict(wb["Thông tin"].iter_rows(values_only=True))["Người lập"].startswith("Máy chủ, dòng lệnh")
    rows = audit_rows(world.server, "export.totals.xlsx")
    assert len(rows) == before + 1 and rows[-1].role == "cli" and rows[-1].device_id is None
