"""Workbooks: the totals export and the import template (openpyxl).

The export is written in openpyxl's write-only mode, row by row, into a file
object the caller supplies (the API spools it to a temporary file, then
streams it), so a province-scale export never holds its rows in memory.
Every text cell goes through `_text` (text.neutralise, then a string cell), so
nothing the server writes is ever a formula. openpyxl is imported inside the functions: it costs
a quarter second, which the server's start need not pay.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from campaign import followup as rules
from campaign import vocabulary as v
from campaign.events import MIN_BIRTH_YEAR

from .rows import FollowupRow, PersonNeed, TotalsTable, WorkbookAbout, WorkbookMade
from .text import (
    HAMLET_HEADER,
    OFFICIAL_NOTE,
    TOTAL_COLUMNS,
    TOTAL_LABEL,
    blockers_text,
    come_back_text,
    made_by_text,
    needs_text,
    neutralise,
    value,
    vn_date,
    vn_time,
)

SHEET_TOTALS, SHEET_FOLLOWUP, SHEET_INFO = "Tổng hợp", "Cần theo dõi", "Thông tin"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FOLLOWUP_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Vướng mắc", "Cần làm"]


def _text(ws: Any, value: Any) -> Any:
    """A cell of `ws` (either mode): text neutralised and typed a string, never a
    formula; anything else as it is."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell
    cell = WriteOnlyCell(ws, neutralise(value))
    cell.data_type = "s"
    return cell


def _append(ws: Any, values: Iterable[Any]) -> None:
    """ws.append in a normal (not write-only) workbook, every text through neutralise
    and typed a string."""
    ws.append([neutralise(x) if isinstance(x, str) else x for x in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


# ---- the totals export ------------------------------------------------------------

def totals_workbook(out: IO[bytes], table: TotalsTable, followup: Iterable[FollowupRow],
                    about: WorkbookAbout) -> WorkbookMade:
    """Sheets "Tổng hợp" (totals by hamlet, a total row, charts), "Cần theo dõi" (the
    follow-up rows: personal data) and "Thông tin" (campaign, commune, when and by whom)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    def head(ws: Any, texts: Iterable[str]) -> list[Any]:
        cells = []
        for text in texts:
            cell = _text(ws, text)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        return cells

    # Tổng hợp: one row per hamlet, a total row, two charts
    ws = wb.create_sheet(SHEET_TOTALS)
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 28
    ws.append(head(ws, [HAMLET_HEADER] + [h for h, _p in TOTAL_COLUMNS]))
    for row in table.rows:
        ws.append([_text(ws, row["name"])] + [value(row, p) for _h, p in TOTAL_COLUMNS])
    total_cell = _text(ws, TOTAL_LABEL)
    total_cell.font = bold
    ws.append([total_cell] + [value(table.total, p) for _h, p in TOTAL_COLUMNS])
    n = len(table.rows)
    if n:
        index = {path: i + 2 for i, (_h, path) in enumerate(TOTAL_COLUMNS)}  # column numbers
        anchor = n + 4
        for title, paths in ((f"{v.TERMS.label('visited')} / số hộ, theo thôn, tổ", [("households",), ("visited",)]),
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
    for col, width in zip("ABCDEFGH", (22, 40, 28, 10, 22, 30, 36, 44), strict=True):
        ws.column_dimensions[col].width = width
    ws.append(head(ws, FOLLOWUP_HEADERS))
    people = households = 0
    per_need = {need: 0 for need in (*rules.NEEDS, "revisit")}
    for line in followup:
        for need in line.needs:
            per_need[need] += 1
        if isinstance(line, PersonNeed):
            people += 1
            ws.append([_text(ws, x) for x in (line.hamlet, line.address, line.label, line.birth_year,
                                              v.CARD.label(line.card), v.VNEID.label(line.vneid),
                                              blockers_text(line.blockers), needs_text(line.needs))])
        else:
            households += 1
            when = come_back_text(line.come_back)  # the revisit's "Hẹn quay lại", as the CSV says it
            ws.append([_text(ws, x) for x in (line.hamlet, line.address, None, None, None, None, None,
                                              needs_text(line.needs) + (f" (hẹn: {when})" if when else ""))])

    # Thông tin: what this is, who made it, when
    ws = wb.create_sheet(SHEET_INFO)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 26, 70
    for key, val in _about(about, table):
        ws.append([_text(ws, key), _text(ws, val)])
    wb.save(out)
    return WorkbookMade(n, people, households, {k: n for k, n in per_need.items() if n})


def _about(about: WorkbookAbout, table: TotalsTable) -> list[tuple[str, Any]]:
    terms = about.campaign
    info: list[tuple[str, Any]] = [
        ("Chiến dịch", terms.name if terms else "(chưa đặt)"),
        ("Xã/phường", about.commune_name),
        ("Mã xã/phường", about.commune),
        ("Tỉnh/thành phố", about.province),
        ("Phạm vi", "Toàn xã/phường" if about.whole_commune else ", ".join(r["name"] for r in table.rows)),
    ]
    if terms:
        target = (f"{terms.target_value} % số người có định danh điện tử đã kích hoạt"
                  if terms.target_kind == "percent"
                  else f"{terms.target_value:,} người có định danh điện tử đã kích hoạt".replace(",", "."))
        info += [("Mục tiêu", target), ("Bắt đầu", vn_date(terms.start)), ("Hạn", vn_date(terms.deadline)),
                 ("Kết thúc", vn_date(terms.ends) if terms.ends else "(chưa đặt)")]
    info += [("Lập lúc", vn_time(about.made_at)), ("Người lập", made_by_text(about.device_id, about.role, about.name)),
             ("Ghi chú", OFFICIAL_NOTE),
             ("Dữ liệu cá nhân", "Trang «Cần theo dõi» có dữ liệu cá nhân: chỉ dùng cho chiến dịch, "
                                 "không chia sẻ; mỗi lần xuất được ghi nhật ký.")]
    return info


# ---- the import template ------------------------------------------------------------

def import_template(out: IO[bytes], headers: list[str], hamlets: list[str], *, this_year: int,
                    max_rows: int, max_bytes: int) -> None:
    """The import template: "Danh sách" (the sheet read, with `headers`: hamlet, address,
    name, birth year, card, VNeID), "Giá trị" (the allowed values, the commune's hamlets),
    "Hướng dẫn" (the rules)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    _append(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for col, width in zip("ABCDEF", (22, 40, 28, 10, 22, 32), strict=True):
        ws.column_dimensions[col].width = width
    for col in "ABCEF":  # text, so that Excel keeps "01" and does not turn numbers into dates
        ws.column_dimensions[col].number_format = "@"
    ws.freeze_panes = "A2"
    values = wb.create_sheet("Giá trị")
    _append(values, ["Thẻ", "Mã thẻ", "VNeID", "Mã VNeID", "Thôn/Tổ"])
    card, vneid = list(v.CARD.codes), list(v.VNEID.codes)
    for i in range(max(len(card), len(vneid), len(hamlets))):
        _append(values, [v.CARD.label(card[i]) if i < len(card) else None, card[i] if i < len(card) else None,
                       v.VNEID.label(vneid[i]) if i < len(vneid) else None, vneid[i] if i < len(vneid) else None,
                       hamlets[i] if i < len(hamlets) else None])
    for col, width in zip("ABCDE", (24, 18, 34, 14, 26), strict=True):
        values.column_dimensions[col].width = width
    checks = [("E", f"'Giá trị'!$A$2:$A${len(card) + 1}"), ("F", f"'Giá trị'!$C$2:$C${len(vneid) + 1}")]
    if hamlets:
        checks.append(("A", f"'Giá trị'!$E$2:$E${len(hamlets) + 1}"))
    for col, source in checks:
        dv = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=False)
        dv.add(f"{col}2:{col}{max_rows + 1}")
        ws.add_data_validation(dv)
    year = DataValidation(type="whole", operator="between", formula1=str(MIN_BIRTH_YEAR),
                          formula2=str(this_year), allow_blank=True, error="Năm sinh: 4 chữ số, ví dụ 1985",
                          showErrorMessage=True)
    year.add(f"D2:D{max_rows + 1}")
    ws.add_data_validation(year)
    guide = wb.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 100
    for line in _guide(max_rows, max_bytes):
        _append(guide, line)
    wb.save(out)


def _guide(max_rows: int, max_bytes: int) -> tuple[tuple[str, str], ...]:
    return (
        ("Cột", "Cách ghi"),
        ("Thôn/Tổ", "Bắt buộc. Tên thôn, tổ dân phố, ấp, bản đúng như đã có trên máy chủ (xem trang «Giá trị»)."),
        ("Địa chỉ", "Bắt buộc. Các dòng cùng thôn/tổ và cùng địa chỉ là một hộ (không phân biệt dấu, hoa thường)."),
        ("Họ tên", "Tên người như hộ gia đình cho biết. Để trống: ghi là «Người 1», «Người 2»…"),
        ("Năm sinh", "4 chữ số, ví dụ 1985. Không ghi ngày sinh: nếu có, chỉ giữ năm."),
        ("Thẻ", "Một giá trị ở trang «Giá trị» (cột Thẻ hoặc Mã thẻ). Để trống: chưa rõ."),
        ("VNeID", "Một giá trị ở trang «Giá trị» (cột VNeID hoặc Mã VNeID). Để trống: chưa rõ."),
        ("", ""),
        ("Lưu ý", "Không ghi số CCCD/CMND, số điện thoại, mật khẩu hay mã OTP."),
        ("", "Một dòng chỉ có thôn/tổ và địa chỉ: thêm hộ, chưa có người."),
        ("", "Người đã có trên máy chủ (cùng hộ, cùng tên) được bỏ qua: nhập lại cùng một tệp không tạo trùng."),
        ("", "Kiểm tra trước (dry run): mọi dòng lỗi được báo kèm số dòng và lý do. Có dòng lỗi thì không nhập gì."),
        ("", f"Tối đa {max_rows:,} dòng, {max_bytes // 2**20} MB; tệp .xlsx hoặc .csv (UTF-8).".replace(",", ".")),
    )
