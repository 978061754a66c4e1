"""Exports: the totals workbook (openpyxl, write-only) and CSV, Vietnamese headers.

The workbook is written in openpyxl's write-only mode, row by row, into a file
object the caller supplies (the API spools it to a temporary file, then
streams it), so a province-scale export never holds its rows in memory. CSV
is UTF-8 with a byte-order mark, so Excel opens Vietnamese text correctly.

Text that a spreadsheet would take for a formula (it begins with = + - @) is
written as text: in the workbook as a string cell, in CSV behind an apostrophe.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from itertools import chain
from typing import Any, BinaryIO, Iterable, Iterator

from sqlalchemy import Connection

from campaign import areas
from campaign import followup as rules
from campaign import vocabulary as v
from campaign.totals import VIETNAM

from . import campaigns as store_campaigns
from . import followup as store_followup
from . import totals as store_totals
from .devices import Scope

BOM = "\ufeff"
OFFICIAL_NOTE = "Số liệu do tổ ghi nhận; số liệu chính thức do Công an nắm giữ"
HAMLET_HEADER = "Thôn/Tổ dân phố"
TOTAL_LABEL = "Tổng cộng"
SHEET_TOTALS, SHEET_FOLLOWUP, SHEET_INFO = "Tổng hợp", "Cần theo dõi", "Thông tin"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _columns() -> list[tuple[str, tuple[str, ...]]]:
    """(header, path into a /api/v1/totals row) for every number of the totals sheet."""
    cols = [("Số hộ", ("households",)), ("Hộ đã đến", ("visited",)), ("Hộ cần đến lại", ("revisit",)),
            ("Số người", ("people",))]
    cols += [(f"Thẻ: {v.CARD.label(c)}", ("card", c)) for c in v.CARD.codes]
    cols += [("Có thẻ gắn chip hoặc thẻ căn cước", ("chip_card",))]
    cols += [(f"VNeID: {v.VNEID.label(c)}", ("vneid", c)) for c in v.VNEID.codes]
    cols += [("Đã kích hoạt định danh điện tử", ("eid_active",))]
    cols += [("Lượt đến", ("visits",)), ("Người được hỗ trợ", ("helped",))]
    cols += [(f"Hỗ trợ: {v.ACTIONS.label(c)}", ("actions", c)) for c in v.ACTIONS.codes]
    cols += [(f"Vướng mắc: {v.BLOCKERS.label(c)}", ("blockers", c)) for c in v.BLOCKERS.codes]
    return cols


TOTAL_COLUMNS = _columns()
FOLLOWUP_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Cần làm"]
PERSON_CSV_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Vướng mắc", "Cần làm"]
REVISIT_CSV_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Số lần đến", "Lần đến gần nhất"]


def value(row: dict[str, Any], path: tuple[str, ...]) -> int:
    out: Any = row
    for key in path:
        out = out[key]
    return int(out)


def _needs_text(needs: list[str]) -> str:
    return "; ".join(rules.label(n) for n in needs)


def _vn_time(at: datetime) -> str:
    return at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") + " (giờ Việt Nam)"


def _last_visit(at: str | None) -> str:
    if not at:
        return ""
    from campaign.events import parse_at
    return parse_at(at).astimezone(VIETNAM).strftime("%d/%m/%Y")


def made_by_text(device_id: str | None, role: str) -> str:
    if device_id is None:
        return "Máy chủ, dòng lệnh (gocua-server export)"
    return f"{v.ROLES.label(role) if role in v.ROLES else role}, thiết bị {device_id}"


# ---- the workbook ---------------------------------------------------------------

def write_workbook(conn: Connection, commune: str, scope: Scope, out: BinaryIO, *, device_id: str | None,
                   role: str, year: int, now: datetime | None = None) -> dict[str, Any]:
    """The totals workbook into `out`. Returns what the audit row records (no personal data)."""
    from openpyxl import Workbook  # here, not at the top: it costs a quarter second to import
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    now = now or datetime.now(VIETNAM)
    totals = store_totals.commune_totals(conn, commune, "hamlet", scope)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    def head(ws: Any, texts: Iterable[str]) -> list[Any]:
        cells = []
        for text in texts:
            cell = WriteOnlyCell(ws, text)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        return cells

    def text(ws: Any, value: Any) -> Any:
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"  # a label, never a formula
            return cell
        return value

    # Tổng hợp: one row per hamlet, a total row, two charts
    ws = wb.create_sheet(SHEET_TOTALS)
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 28
    ws.append(head(ws, [HAMLET_HEADER] + [h for h, _p in TOTAL_COLUMNS]))
    for row in totals["rows"]:
        ws.append([text(ws, row["name"])] + [value(row, p) for _h, p in TOTAL_COLUMNS])
    total_cell = WriteOnlyCell(ws, TOTAL_LABEL)
    total_cell.font = bold
    ws.append([total_cell] + [value(totals["total"], p) for _h, p in TOTAL_COLUMNS])
    n = len(totals["rows"])
    if n:
        index = {path: i + 2 for i, (_h, path) in enumerate(TOTAL_COLUMNS)}  # column numbers
        anchor = n + 4
        for title, paths in (("Hộ đã đến / số hộ, theo thôn, tổ", [("households",), ("visited",)]),
                             ("Định danh điện tử đã kích hoạt / số người, theo thôn, tổ",
                              [("people",), ("eid_active",)])):
            chart = BarChart()
            chart.type, chart.title, chart.style = "col", title, 10
            chart.y_axis.title = "Số hộ" if paths[0] == ("households",) else "Số người"
            chart.height, chart.width = 9, max(16, min(40, 1.2 * n + 6))
            for path in paths:
                chart.add_data(Reference(ws, min_col=index[path], min_row=1, max_row=n + 1), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
            ws.add_chart(chart, f"B{anchor}")
            anchor += 20

    # Cần theo dõi: the follow-up lists (personal data)
    ws = wb.create_sheet(SHEET_FOLLOWUP)
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFG", (22, 40, 28, 10, 22, 30, 44)):
        ws.column_dimensions[col].width = width
    ws.append(head(ws, FOLLOWUP_HEADERS))
    people = households = 0
    per_need = {need: 0 for need in (*rules.NEEDS, "revisit")}
    for row in store_followup.everything(conn, commune, scope, year):
        for need in row["needs"]:
            per_need[need] += 1
        if "person_id" in row:
            people += 1
            ws.append([text(ws, row["hamlet"]), text(ws, row["address"]), text(ws, row["label"]),
                       row["birth_year"], v.CARD.label(row["card"]), v.VNEID.label(row["vneid"]),
                       _needs_text(row["needs"])])
        else:
            households += 1
            ws.append([text(ws, row["hamlet"]), text(ws, row["address"]), None, None, None, None,
                       _needs_text(row["needs"])])

    # Thông tin: what this is, who made it, when
    ws = wb.create_sheet(SHEET_INFO)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 26, 70
    place = areas.commune(commune)
    settings = store_campaigns.get(conn, commune)
    whole = scope.hamlets is None and scope.communes is None or bool(scope.communes and commune in scope.communes)
    info: list[tuple[str, Any]] = [
        ("Chiến dịch", settings["name"] if settings else "(chưa đặt)"),
        ("Xã/phường", place.full_name),
        ("Mã xã/phường", place.code),
        ("Tỉnh/thành phố", place.province),
        ("Phạm vi", "Toàn xã/phường" if whole else ", ".join(r["name"] for r in totals["rows"])),
    ]
    if settings:
        target = (f"{settings['target_value']} % số người có định danh điện tử đã kích hoạt"
                  if settings["target_kind"] == "percent"
                  else f"{settings['target_value']:,} người có định danh điện tử đã kích hoạt".replace(",", "."))
        info += [("Mục tiêu", target), ("Bắt đầu", _date_vi(settings["start"])),
                 ("Hạn", _date_vi(settings["deadline"])),
                 ("Kết thúc", _date_vi(settings["ends"]) if settings["ends"] else "(chưa đặt)")]
    info += [("Lập lúc", _vn_time(now)), ("Người lập", made_by_text(device_id, role)),
             ("Ghi chú", OFFICIAL_NOTE),
             ("Dữ liệu cá nhân", "Trang «Cần theo dõi» có dữ liệu cá nhân: chỉ dùng cho chiến dịch, "
                                 "không chia sẻ; mỗi lần xuất được ghi nhật ký.")]
    for key, val in info:
        ws.append([WriteOnlyCell(ws, key), text(ws, val)])
    wb.save(out)
    return {"hamlets": n, "followup_people": people, "followup_households": households,
            "followup": {k: n for k, n in per_need.items() if n}}


def _date_vi(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


# ---- CSV ------------------------------------------------------------------------

def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    count = 0
    for row in rows:
        writer.writerow([_csv_safe(x) for x in row])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def totals_csv(totals: dict[str, Any]) -> Iterator[str]:
    """The totals sheet as CSV: BOM, header, a row per hamlet, the total row."""
    yield BOM
    header = [HAMLET_HEADER] + [h for h, _p in TOTAL_COLUMNS]
    body = ([row["name"]] + [value(row, p) for _h, p in TOTAL_COLUMNS] for row in totals["rows"])
    total = [TOTAL_LABEL] + [value(totals["total"], p) for _h, p in TOTAL_COLUMNS]
    yield from _lines([header, *body, total])


def followup_csv(list_name: str, rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One follow-up list as CSV (personal data: the caller audits)."""
    yield BOM
    if list_name == "revisit":
        yield from _lines(chain([REVISIT_CSV_HEADERS], ([r["hamlet"], r["address"], r["visits"],
                                                          _last_visit(r["last_visit_at"])] for r in rows)))
        return
    yield from _lines(chain([PERSON_CSV_HEADERS], (
        [r["hamlet"], r["address"], r["label"], r["birth_year"], v.CARD.label(r["card"]),
         v.VNEID.label(r["vneid"]), "; ".join(v.BLOCKERS.label(b) for b in r["blockers"]),
         _needs_text(r["needs"])] for r in rows)))
