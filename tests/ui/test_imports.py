"""Importing the target list from the app, against a real server: the dry run's report
(every bad row, nothing stored), the import itself with its progress to done, the
template download, and who may open the screen.

The file dialog is the client's: the harness answers `FilePicker.pick_files` with the
bytes a browser would hand over. Everything else is the real server's work."""
from __future__ import annotations

import io
import unicodedata
from typing import Any

import flet as ft
import openpyxl

from field_app.views.imports import IMPORT

from .harness import wait_for
from .test_dashboard import WARD, World, engine, on_sqlite, open_app, saved_files, world  # noqa: F401
from .test_volunteer_layout import problems

HEADER = "Thôn/Tổ,Địa chỉ,Họ và tên,Năm sinh,Thẻ,VNeID\n"


def pick(h: Any, name: str, data: bytes) -> None:
    """The officer chooses `name` in the browser's file dialog."""
    h.method_results["FilePicker.pick_files"] = [{"id": 1, "name": name, "size": len(data), "bytes": list(data)}]
    h.click(h.get(key="import:choose"))


def households(world: World) -> int:
    return world.totals(world.officer)["total"]["households"]


def report_shown(h: Any) -> bool:
    return h.exists(key="import:rows") or h.exists(key="import:error")


@on_sqlite
def test_a_file_with_bad_rows_is_reported_row_by_row_and_nothing_is_stored(world, make_harness) -> None:
    before = households(world)
    h = open_app(make_harness, world.officer_dir, route=IMPORT, width=360, height=640)
    assert h.exists(key="import:choose") and h.exists(key="import:template")
    bad = (HEADER + "Tổ dân phố 2,Số 7 phố Lê Lợi,Vũ Thị Hạnh,1975,CCCD gắn chip,Chưa cài\n"
           "Tổ dân phố 99,Số 8 phố Lê Lợi,Người Lạ,1980,,\n"
           "Tổ dân phố 2,Số 9 phố Lê Lợi,Ngô Văn Khải,năm ngoái,,\n").encode()
    pick(h, "danh-sach.csv", bad)
    wait_for(h, lambda: report_shown(h))
    assert h.get(key="import:rows").text == "3"
    assert h.get(key="import:bad_rows").text.startswith("2 dòng có lỗi")
    assert h.get(key="import:error:0").text.startswith("Dòng 3 · Thôn/Tổ: không có thôn/tổ này")
    assert h.get(key="import:error:1").text.startswith("Dòng 4 · Năm sinh: năm sinh không hợp lệ")
    assert not h.exists(key="import:start")  # a bad row: no way to import the good ones
    assert households(world) == before
    assert [p for root in h.screen() for p in problems(root)] == []  # the report at 360 x 640


@on_sqlite
def test_a_good_file_is_checked_then_imported_with_its_progress(world, make_harness) -> None:
    before = world.totals(world.officer)["total"]
    h = open_app(make_harness, world.officer_dir, route=IMPORT)
    # NFD text, as a Mac or a web form writes it: the server stores NFC
    text = HEADER + ("Tổ dân phố 10,Số 21 phố Trần Phú,Đặng Thị Mai,1968,CMND,Chưa cài\n"
                     "Tổ dân phố 10,Số 21 phố Trần Phú,Đặng Văn Long,1995,,\n"
                     "tổ dân phố 2,Số 22 phố Lê Lợi,Bùi Thị Hồng,1958,Chưa có,\n")
    good = unicodedata.normalize("NFD", text).encode()
    pick(h, "danh-sach.csv", good)
    wait_for(h, lambda: report_shown(h))
    assert [h.get(key=k).text for k in ("import:rows", "import:households", "import:people")] == ["3", "2", "3"]
    assert households(world) == before["households"]  # the dry run stored nothing
    h.click(h.get(key="import:start"))
    h.click(h.get(key="import:confirm"))
    wait_for(h, lambda: h.exists(key="import:done"), timeout=30)
    assert h.get(key="import:done").text == "Đã nhập xong: 2 hộ mới, 3 người mới."
    after = world.totals(world.officer)["total"]
    assert (after["households"], after["people"]) == (before["households"] + 2, before["people"] + 3)
    assert after["card"]["cmnd_only"] == before["card"]["cmnd_only"] + 1
    names = {e["data"].get("label") for e in world.admin.pull_all() if e["kind"] == "person.added"}
    assert "Đặng Thị Mai" in names  # NFC on the server
    # the same file again: nothing new, and no import button
    h.click(h.get(key="import:back"))
    h.go(IMPORT)
    pick(h, "danh-sach.csv", good)
    wait_for(h, lambda: report_shown(h))
    assert h.exists(key="import:nothing_new") and not h.exists(key="import:ready")
    assert h.get(key="import:skipped").text == "3"
    assert not h.exists(key="import:start")


@on_sqlite
def test_the_template_is_the_servers(world, make_harness) -> None:
    h = open_app(make_harness, world.officer_dir, route=IMPORT)
    h.method_results["FilePicker.save_file"] = lambda args: "/home/officer/" + args["file_name"]
    h.click(h.get(key="import:template"))
    wait_for(h, lambda: saved_files(h))
    [saved] = saved_files(h)
    assert saved["file_name"] == "gocua-mau-nhap-danh-sach.xlsx" and saved["src_bytes"].startswith(b"PK")
    server = world.officer.get("/api/v1/imports/template.xlsx", commune=WARD)
    # The workbook's creation time differs between two renderings, so compare what it holds.
    assert cells(saved["src_bytes"]) == cells(server.content)


def cells(xlsx: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


@on_sqlite
def test_a_leader_cannot_import(world, make_harness, tmp_path) -> None:
    from .test_dashboard import enrolled
    leader = enrolled(world.server, tmp_path / "leader", "leader", team=world.team)
    h = open_app(make_harness, leader, route=IMPORT)
    assert h.exists(ft.Text, text="Chỉ công an cấp xã và quản trị viên được nhập danh sách.")
    assert not h.exists(key="import:choose")


@on_sqlite
def test_the_dry_run_shows_how_each_old_commune_name_was_read(world, make_harness) -> None:
    h = open_app(make_harness, world.officer_dir, route=IMPORT, width=360, height=640)
    text = ("Thôn/Tổ,Địa chỉ,Họ và tên,Xã/Phường,Huyện,Tỉnh\n"
            "Tổ dân phố 2,Số 31 phố Lê Lợi,Hà Văn Tư,Phường Quang Trung,TP Hải Dương,Tỉnh Hải Dương\n"
            "Tổ dân phố 2,Số 32 phố Lê Lợi,Hà Thị Năm,Phường Trần Phú,TP Hải Dương,Hải Dương\n")
    pick(h, "danh-sach-cu.csv", text.encode())
    wait_for(h, lambda: report_shown(h))
    assert h.get(key="import:resolution:0").text == \
        "Dòng 2: Phường Quang Trung, TP Hải Dương, Tỉnh Hải Dương → Phường Hải Dương"
    assert h.get(key="import:error:0").text.startswith("Dòng 3 · Xã/Phường: xã, phường cũ này nay chia")
    assert not h.exists(key="import:start")
    assert [p for root in h.screen() for p in problems(root)] == []  # the report at 360 x 640
