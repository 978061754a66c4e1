"""A capture session's roster as a workbook (openpyxl): the people booked, in the order they
hold places, with their status, household address and hamlet; those past capacity flagged.
Every text cell goes through render.text.neutralise: a label or an address is never a formula."""
from __future__ import annotations

from typing import IO

from campaign import vocabulary as v
from campaign.events import parse_at
from campaign.time import VIETNAM

from .rows import Roster
from .text import neutralise

HEADERS = ["STT", "Họ tên", "Năm sinh", "Địa chỉ hộ", "Thôn/Tổ dân phố", "Trạng thái", "Quá chỗ"]
OVERBOOKED = "Quá chỗ"  # the flag of a booking past capacity (en: overbooked)


def _when(at: str) -> str:
    return parse_at(at).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def workbook(out: IO[bytes], roster: Roster) -> None:
    """Sheet "Danh sách hẹn": a heading (place, kind, hours, capacity), then one row a booking."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Danh sách hẹn"
    s = roster.session

    def append(values: list[object]) -> None:
        ws.append([neutralise(x) if isinstance(x, str) else x for x in values])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"

    append([v.SESSION_KIND.label(s.kind), s.place])
    append(["Thời gian", f"{_when(s.starts_at)} – {_when(s.ends_at)}"])
    append(["Số chỗ", s.capacity, "Đã hẹn", s.booked, OVERBOOKED, s.overbooked]
           + (["Đã huỷ buổi"] if s.cancelled else []))
    append([])
    append(list(HEADERS))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in roster.rows:
        append([row.position, row.label, row.birth_year, row.address, row.hamlet,
                v.BOOKING_STATUS.label(row.status), OVERBOOKED if row.overbooked else ""])
    for column, width in zip("ABCDEFG", (6, 28, 10, 40, 24, 14, 10), strict=True):
        ws.column_dimensions[column].width = width
    wb.save(out)
