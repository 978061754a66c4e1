"""The walk sheet: an A4 page (or several) a volunteer takes from door to door (fpdf2).

fpdf2 is pure Python (its dependencies, Pillow, fontTools and defusedxml, are wheels on
PyPI), maintained, and embeds a subset of a TrueType font, so the Vietnamese marks
print as they read on the phone: the bundled Be Vietnam Pro (assets/fonts). The font
has no box glyph, so the boxes to tick are drawn. fpdf2 is imported inside `walk_sheet`:
the server's start need not pay for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .rows import WalkRow, WalkSheet
from .text import vn_time

PDF_TYPE = "application/pdf"
FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FAMILY = "BeVietnamPro"

MARGIN = 10.0  # mm
LINE = 4.6  # mm, one line of 9-point text
PAD = 1.4
# (header, width in mm): 190 mm between the margins
# "Mã" fits the widest code (WWWWW) on one line, "Phụ trách" a usual full name: a code split on
# paper is typed wrong, and the sheet names volunteers, not devices
COLUMNS = (("Mã", 24.0), ("Địa chỉ", 41.0), ("Còn cần", 54.0), ("Phụ trách", 29.0), ("Kết quả", 42.0))
OUTCOMES = ("Gặp", "Vắng", "Từ chối", "Chuyển đi")
BOX = 3.2  # mm, a box to tick
LEGEND = ("Đánh dấu kết quả mỗi hộ; về nhập vào ứng dụng Gõ Cửa: gõ mã ở đầu dòng để mở đúng hộ. "
          "Phiếu có thông tin cá nhân: giữ cẩn thận, hủy sau khi nhập xong.")


def _pdf(sheet: WalkSheet) -> Any:
    from fpdf import FPDF

    class _Sheet(FPDF):
        def header(self) -> None:
            self.set_font(FAMILY, "B", 13)
            title = f"Phiếu đi thăm hộ: {sheet.hamlet}"
            self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
            self.set_font(FAMILY, "", 9)
            who = f"Người phụ trách: {sheet.volunteer}" if sheet.volunteer else "Cả thôn/tổ"
            self.cell(0, 5, f"{sheet.commune} · {who} · {len(sheet.rows)} hộ", new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 5, f"In lúc {vn_time(sheet.made_at)} bởi {sheet.made_by}", new_x="LMARGIN", new_y="NEXT")
            self.ln(1.5)
            self.set_font(FAMILY, "B", 9)
            self.set_fill_color(230, 236, 242)
            for name, width in COLUMNS:
                self.cell(width, 6, name, border=1, fill=True)
            self.ln(6)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8)
            self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="R")

    pdf = _Sheet(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.add_font(FAMILY, "", str(FONTS / "BeVietnamPro-Regular.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "BeVietnamPro-SemiBold.ttf"))
    pdf.set_title(f"Phiếu đi thăm hộ: {sheet.hamlet}")
    pdf.set_creator("Gõ Cửa")
    return pdf


def _lines(pdf: Any, width: float, text: str) -> list[str]:
    lines: list[str] = pdf.multi_cell(width - 2 * PAD, LINE, text, dry_run=True, output="LINES")
    return lines


def _row(pdf: Any, row: WalkRow) -> None:
    cells = [(row.code, "B"), (row.address, "B"), ("\n".join([row.why, *([row.come_back] if row.come_back else []), *row.needs]), ""), (row.holder or "—", "")]
    texts = []
    for (text, style), (_name, width) in zip(cells, COLUMNS, strict=False):
        pdf.set_font(FAMILY, style, 10 if style else 9)
        texts.append((_lines(pdf, width, text), style))
    height = max(max(len(lines) for lines, _s in texts) * LINE + 2 * PAD, 2 * (BOX + 2.6) + PAD)
    if pdf.get_y() + height > pdf.h - 16:
        pdf.add_page()
    x, y = pdf.l_margin, pdf.get_y()
    for (lines, style), (_name, width) in zip(texts, COLUMNS, strict=False):
        pdf.rect(x, y, width, height)
        pdf.set_font(FAMILY, style, 10 if style else 9)
        for i, line in enumerate(lines):
            pdf.set_xy(x + PAD, y + PAD + i * LINE)
            pdf.cell(width - 2 * PAD, LINE, line)
        x += width
    _boxes(pdf, x, y, COLUMNS[-1][1], height)
    pdf.set_xy(pdf.l_margin, y + height)


def _boxes(pdf: Any, x: float, y: float, width: float, height: float) -> None:
    """The last column: a drawn box per outcome, two by two."""
    pdf.rect(x, y, width, height)
    pdf.set_font(FAMILY, "", 8)
    half = width / 2
    for i, label in enumerate(OUTCOMES):
        bx, by = x + PAD + (i % 2) * half, y + PAD + (i // 2) * (BOX + 2.6)
        pdf.rect(bx, by + 0.4, BOX, BOX)
        pdf.set_xy(bx + BOX + 0.8, by)
        pdf.cell(half - BOX - 1.5, LINE, label)


def walk_sheet(sheet: WalkSheet) -> bytes:
    """The sheet as PDF bytes: a header on every page (hamlet, volunteer, when and by whom),
    one row per household, the legend at the end."""
    pdf = _pdf(sheet)
    pdf.add_page()
    for row in sheet.rows:
        _row(pdf, row)
    if not sheet.rows:
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(0, 8, "Không còn hộ nào cần đến.", new_x="LMARGIN", new_y="NEXT")
    if pdf.get_y() + 14 > pdf.h - 16:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 8)
    pdf.multi_cell(0, 4, LEGEND)
    return bytes(pdf.output())
