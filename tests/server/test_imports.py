"""Imports of a target list: every bad row reported, nothing stored from a bad file,
spreadsheet quirks read as people mean them, and a good import's events pulled by a volunteer."""
from __future__ import annotations

import io
import unicodedata
from datetime import datetime

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from sync_server.services import import_file, import_plan
from sync_server.store import schema as t

from ..support import wait_until
from .reporting import WARD, YEAR, audit_rows, build_world, count, http, ok, run_cli

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    return build_world(server, "im")


def xlsx(rows: list[list], title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def post(device, content: bytes, *, dry_run: bool, content_type: str = XLSX, commune: str = WARD,
         **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
    return http.post(device.server.url + "/api/v1/imports", params={"commune": commune, "dry_run": str(dry_run).lower()},
                     content=content, headers={**device.headers, "Content-Type": content_type}, **kw)


def wait(device, import_id: str) -> dict:  # type: ignore[no-untyped-def]
    def finished() -> dict | None:
        state = ok(device.get(f"/api/v1/imports/{import_id}"))
        return state if state["status"] != "running" else None

    return wait_until(finished, 30, every=0.05, message="the import did not finish in 30 s")


HAMLET = "01990000-0000-7000-8000-000000000001"
HEADER = ["STT", "Thôn/Tổ", "Địa chỉ", "Họ và tên", "Năm sinh", "Thẻ", "VNeID"]


def test_every_bad_row_is_reported_and_nothing_is_imported(world):
    a = world.names[world.hamlet_a]
    content = xlsx([HEADER,
                    [1, a, "Số 10, ngõ 1", "Nguyễn Văn Một", 1980, "CCCD gắn chip", "Mức 1: đã kích hoạt"],  # row 3: good
                    [2, "Tổ 99", "Số 11", "Lê Văn Hai", 1981, "", ""],
                    [3, a, "Số 12", "Lê Văn Ba", "khoảng 1960", "", ""],
                    [4, a, "Số 13", "Lê Văn Bốn", 1983, "Thẻ xanh", ""],
                    [5, a, "số 10,  ngõ 1", "NGUYỄN VĂN MỘT", 1980, "", ""],  # the same person as row 3
                    [6, a, "", "Lê Văn Sáu", 1984, "", ""],
                    [7, a, "Số 15", "Bé Bảy", YEAR - 3, "", "l2_active"],
                    [8, a, "Số 16", "Cụ Tám", 1850, "", ""],
                    [9, a, "Số 17", "x" * 81, 1990, "", ""],
                    [10, a, "Số 18", "Lê Văn Mười", True, "", "Mức 3"]],
                   title="DANH SÁCH HỘ GIA ĐÌNH")
    entities = count(world.server, t.entities)
    report = ok(post(world.officer, content, dry_run=True))
    assert report["status"] == "checked" and report["rows"] == 10
    got = sorted((e["row"], e["code"]) for e in report["errors"])
    assert got == [(4, "unknown_hamlet"), (5, "bad_birth_year"), (6, "unknown_status"), (7, "duplicate_row"),
                   (8, "missing_address"), (9, "too_young"), (10, "bad_birth_year"), (11, "too_long"),
                   (12, "bad_birth_year"), (12, "unknown_status")]
    duplicate = next(e for e in report["errors"] if e["code"] == "duplicate_row")
    assert "row 3" in duplicate["detail"] and duplicate["column"] == "Họ và tên"
    assert report["ignored_columns"] == ["STT"]
    refused = post(world.officer, content, dry_run=False)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "bad_rows" and body["status"] == "refused" and len(body["errors"]) == 10
    assert count(world.server, t.entities) == entities  # nothing, not even row 3
    assert ok(world.officer.get(f"/api/v1/imports/{body['import_id']}"))["status"] == "refused"


def test_spreadsheet_quirks_are_read_as_people_mean_them(world):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    a = world.names[world.hamlet_a]
    content = xlsx([["Thôn/Tổ", "Địa chỉ", "Họ tên", "Năm sinh", "Thẻ", "VNeID"],
                    [nfd(a.upper()), nfd("Số 5, ngõ Hoà Bình"), nfd("Trần Thị Hoà"), "1985", "CCCD gắn chip",
                     "Mức 2: đã kích hoạt"],
                    [import_file.key(a), "Số 5,  ngõ Hòa Bình", "Trần Văn Hùng", " 1990 ", "chưa có", "chưa cài"],
                    [a, "Số 5, ngõ Hoà Bình", "", 1975.0, "cmnd_only", "l1_approved"],
                    [a, "Số 6", "Ông Sáu", datetime(1905, 6, 7), "Thẻ căn cước", ""],  # 1985 shown as a date
                    [a, "Số 6", "Bà Sáu", datetime(1960, 3, 12), "", "Level 1: pending"],
                    [a, "Số 7", None, None, None, None]])  # a household, nobody yet
    checked = ok(post(world.officer, content, dry_run=True))
    assert checked["errors"] == [] and (checked["rows"], checked["households"], checked["people"]) == (6, 3, 5)
    assert sorted((w["row"], w["code"]) for w in checked["warnings"]) == [(5, "date_as_year"), (6, "date_as_year")]
    assert "1985" in checked["warnings"][0]["detail"] and "only its year 1960" in checked["warnings"][1]["detail"]
    accepted = post(world.officer, content, dry_run=False)
    assert accepted.status_code == 202, accepted.text
    device = wait(world.officer, accepted.json()["import_id"])["import_device_id"]
    events = [e for e in world.volunteer.pull_all() if e["device_id"] == device]
    addresses = [e["data"]["address"] for e in events if e["kind"] == "household.created"]
    assert addresses == ["Số 5, ngõ Hoà Bình", "Số 6", "Số 7"]  # NFC, spaces collapsed, one household per address
    assert all(unicodedata.is_normalized("NFC", x) for x in addresses)
    people = [(e["data"]["label"], e["data"]["birth_year"], e["data"]["card"], e["data"]["vneid"])
              for e in events if e["kind"] == "person.added"]
    assert people == [("Trần Thị Hoà", 1985, "cccd_chip", "l2_active"), ("Trần Văn Hùng", 1990, "none", "no_app"),
                      ("Người 1", 1975, "cmnd_only", "l1_approved"), ("Ông Sáu", 1985, "can_cuoc", "unknown"),
                      ("Bà Sáu", 1960, "unknown", "l1_pending")]
    assert unicodedata.is_normalized("NFC", people[0][0])


def test_csv_in_utf8_with_semicolons_and_in_windows_1258():
    world = import_plan.World(WARD, {import_file.key("Tổ dân phố 1"): [import_plan.Hamlet(HAMLET, "Tổ dân phố 1", None)]}, {}, {})
    text = "\ufeffThôn/Tổ;Địa chỉ;Họ tên;Năm sinh;Thẻ;VNeID\r\nTổ dân phố 1;Số 1;An;1980;CCCD gắn chip;\r\n"
    plan = import_plan.check(import_file.read(text.encode("utf-8")), world)
    assert plan.errors == [] and plan.households[0].people[0].card == "cccd_chip"
    # "Tổ dân phố 1;Số 1;An" as Excel writes it on a Vietnamese Windows: base letters and tone marks apart
    legacy = b"Th\xf4n/T\xf4\xd2,\xd0i\xf2a chi\xd2,Ho\xf2 t\xean\r\nT\xf4\xd2 d\xe2n ph\xf4\xec 1,S\xf4\xec 1,An\r\n"
    parsed = import_file.read(legacy)
    assert parsed.warnings[0].code == "encoding"
    assert import_plan.check(parsed, world).errors == []


def test_a_good_import_reaches_a_volunteer_and_keeps_the_totals_true(world, tmp_path):
    a, b = world.names[world.hamlet_a], world.names[world.hamlet_b]
    rows = [HEADER] + [[i, a, f"Số {100 + i // 3}, phố Mới", f"Người dân {i}", 1950 + i % 60, "CCCD gắn chip",
                        "Mức 1: đã duyệt, chưa kích hoạt" if i % 2 else "l1_active"] for i in range(1, 1201)]
    rows.append([0, b, "Số 1, phố Trần Phú", "Hà Mới", 1990, "none", "no_app"])
    content = xlsx(rows)
    people_before = ok(world.officer.get("/api/v1/totals", commune=WARD))["total"]["people"]
    checked = ok(post(world.officer, content, dry_run=True))
    assert (checked["rows"], checked["households"], checked["people"], checked["errors"]) == (1201, 402, 1201, [])
    accepted = post(world.officer, content, dry_run=False)
    assert accepted.status_code == 202 and accepted.json()["status"] == "running", accepted.text
    state = wait(world.officer, accepted.json()["import_id"])
    assert state["status"] == "done", state
    assert (state["rows_done"], state["rows_total"], state["households"], state["people"]) == (1201, 1201, 402, 1201)
    device = state["import_device_id"]
    # a volunteer of hamlet A pulls them like any other events; hamlet B's person is not in its scope
    pulled = [e for e in world.volunteer.pull_all() if e["device_id"] == device]
    assert [e["kind"] for e in pulled].count("household.created") == 401
    assert [e["kind"] for e in pulled].count("person.added") == 1200
    one = next(e for e in pulled if e["kind"] == "person.added" and e["data"]["label"] == "Người dân 1")
    assert one["data"] == {**one["data"], "birth_year": 1951, "card": "cccd_chip", "vneid": "l1_approved",
                           "presence": "home"}
    totals = ok(world.officer.get("/api/v1/totals", commune=WARD))["total"]
    assert totals["people"] == people_before + 1201
    assert run_cli(world.server, "recount").returncode == 0
    # the same file again adds nothing: everyone is already there
    again = post(world.officer, content, dry_run=False)
    assert again.status_code == 202 and again.json()["skipped"] == 1201 and again.json()["people"] == 0
    assert wait(world.officer, again.json()["import_id"])["import_device_id"] is None
    assert ok(world.officer.get("/api/v1/totals", commune=WARD))["total"]["people"] == people_before + 1201
    runs = audit_rows(world.server, "import.run")
    assert runs[-2].device_id == world.officer.id and f'"import_device_id":"{device}"' in runs[-2].detail
    assert "Người dân" not in runs[-2].detail


def test_multipart_upload_and_the_command_line(world, tmp_path):
    a = world.names[world.hamlet_a]
    content = xlsx([HEADER, [1, a, "Số 900", "Khách", 1970, "", ""]])
    answer = http.post(world.server.url + "/api/v1/imports", params={"commune": WARD, "dry_run": "true"},
                       files={"file": ("danh-sach.xlsx", content, XLSX)}, headers=world.admin.headers)
    assert ok(answer)["people"] == 1
    path = tmp_path / "danh-sach.xlsx"
    path.write_bytes(content)
    dry = run_cli(world.server, "import", "--commune", WARD, str(path), "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("checked: 1 rows")
    done = run_cli(world.server, "import", "--commune", WARD, str(path))
    assert done.returncode == 0 and done.stdout.startswith("imported: 1 rows"), done.stderr
    assert "[##############################] 1/1 rows" in done.stderr  # the progress bar, finished
    bad = tmp_path / "sai.csv"
    bad.write_text("Thôn/Tổ,Địa chỉ\nTổ không có,Số 1\n", encoding="utf-8")
    refused = run_cli(world.server, "import", "--commune", WARD, str(bad))
    assert refused.returncode == 1 and "row 2 (Thôn/Tổ): unknown_hamlet" in refused.stderr
    assert "nothing imported" in refused.stdout


def test_whole_file_problems_get_a_clear_4xx(world):
    big = b"Th\xc3\xb4n/T\xe1\xbb\x95,\xc4\x90\xe1\xbb\x8ba ch\xe1\xbb\x89\n" + b"x" * (10 * 1024 * 1024)
    for content, status, code in (
            (big, 413, "too_large"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, 415, "old_excel"),
            ("Họ tên,Năm sinh\nAn,1980\n".encode(), 400, "no_header"),
            (b"", 400, "empty_file"),
            (b"PK\x03\x04 not really a zip", 400, "bad_xlsx")):
        answer = post(world.officer, content, dry_run=True, content_type="text/csv")
        assert answer.status_code == status and answer.json()["error"] == code, answer.text
    many = ("Thôn/Tổ,Địa chỉ\n" + "Tổ,Số 1\n" * (import_file.MAX_ROWS + 1)).encode()
    answer = post(world.officer, many, dry_run=True, content_type="text/csv")
    assert answer.status_code == 413 and answer.json()["error"] == "too_many_rows"


def test_import_roles_and_the_template(world):
    content = xlsx([HEADER])
    for device in (world.volunteer, world.leader, world.other_officer):
        assert post(device, content, dry_run=True).status_code == 403
    assert ok(post(world.admin, content, dry_run=True))["rows"] == 0
    template = world.officer.get("/api/v1/imports/template.xlsx", commune=WARD)
    assert template.status_code == 200
    wb = load_workbook(io.BytesIO(template.content))
    assert wb.sheetnames == ["Danh sách", "Giá trị", "Hướng dẫn"]
    assert [c.value for c in wb["Danh sách"][1]] == ["Thôn/Tổ", "Địa chỉ", "Họ tên", "Năm sinh", "Thẻ", "VNeID"]
    assert world.names[world.hamlet_a] in [c.value for c in wb["Giá trị"]["E"]]
    # the template, filled in, is a file the import reads
    assert import_file.read(template.content).rows == []
    assert world.leader.get("/api/v1/imports/template.xlsx").status_code == 403
    import_id = ok(post(world.officer, content, dry_run=True))["import_id"]
    assert world.other_officer.get(f"/api/v1/imports/{import_id}").status_code == 403
    assert world.officer.get("/api/v1/imports/nonexistent").status_code == 404
    checks = audit_rows(world.server, "import.check")
    assert checks[-1].device_id == world.officer.id and '"dry_run":true' in checks[-1].detail


def test_a_dry_run_shows_how_each_old_commune_name_was_read():
    """issue #14: a target list naming pre-merger communes (with their old district and province)
    is read into this import's commune when that is what they became; a split one whose candidates
    do not include it, another commune, or a name nobody has, is an error that asks for the new name."""
    world = import_plan.World(WARD, {import_file.key("Tổ dân phố 1"): [import_plan.Hamlet(HAMLET, "Tổ dân phố 1", None)]}, {}, {})
    text = ("Thôn/Tổ,Địa chỉ,Họ tên,Xã/Phường,Huyện,Tỉnh\r\n"
            "Tổ dân phố 1,Số 1,An,Phường Quang Trung,TP Hải Dương,Tỉnh Hải Dương\r\n"  # merged whole into 10525
            "Tổ dân phố 1,Số 2,Bình,Hải Dương,,Thành phố Hải Phòng\r\n"  # already the new name
            "Tổ dân phố 1,Số 3,Cúc,Phường Trần Phú,Thành phố Hải Dương,Hải Dương\r\n"  # split: not into 10525
            "Tổ dân phố 1,Số 4,Dũng,Xã Đông Hiệp,Huyện Cờ Đỏ,Cần Thơ\r\n"  # another commune now
            "Tổ dân phố 1,Số 5,Em,Phường Không Có,,\r\n"
            "Tổ dân phố 1,Số 6,Gấm,,,\r\n")  # no commune named: nothing to resolve
    plan = import_plan.check(import_file.read(text.encode("utf-8")), world)
    report = plan.report()
    assert [(r["row"], r["status"], r["code"]) for r in report["resolutions"]] == [(2, "resolved", WARD),
                                                                                  (3, "current", WARD)]
    assert report["resolutions"][0]["given"] == "Phường Quang Trung, TP Hải Dương, Tỉnh Hải Dương"
    assert report["resolutions"][0]["name"] == "Phường Hải Dương"
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(4, "ambiguous_commune"), (5, "other_commune"),
                                                                 (6, "unknown_commune")]
    assert "Phường Lê Thanh Nghị" in report["errors"][0]["detail"]
    assert [p.label for h in plan.households for p in h.people] == ["An", "Bình", "Gấm"]
