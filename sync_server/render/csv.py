"""CSV: the totals by hamlet and the follow-up lists, Vietnamese headers.

UTF-8 with a byte-order mark, so Excel opens Vietnamese text correctly; lines
come out in chunks of 500 rows, so a list streams. Every text goes through
text.neutralise (a spreadsheet never takes it for a formula).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from campaign import vocabulary as v

from .rows import FollowupRow, HouseholdRevisit, PersonNeed, TotalsTable
from .text import (
    HAMLET_HEADER,
    TOTAL_COLUMNS,
    TOTAL_LABEL,
    blockers_text,
    come_back_text,
    last_visit,
    needs_text,
    neutralise,
    value,
)

BOM = "\ufeff"
PERSON_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Người", "Năm sinh", "Thẻ", "VNeID", "Vướng mắc", "Cần làm"]
REVISIT_HEADERS = ["Thôn/Tổ", "Địa chỉ hộ", "Số lượt thăm", "Lượt thăm gần nhất", "Hẹn quay lại"]  # docs/glossary.md


def _safe(cell: Any) -> Any:
    if isinstance(cell, str):
        return neutralise(cell)
    return "" if cell is None else cell


def _lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for count, row in enumerate(rows, 1):
        writer.writerow([_safe(x) for x in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def totals(table: TotalsTable) -> Iterator[str]:
    """The totals sheet as CSV: BOM, header, a row per hamlet, the total row."""
    yield BOM
    header = [HAMLET_HEADER] + [h for h, _p in TOTAL_COLUMNS]
    body = ([row["name"]] + [value(row, p) for _h, p in TOTAL_COLUMNS] for row in table.rows)
    total = [TOTAL_LABEL] + [value(table.total, p) for _h, p in TOTAL_COLUMNS]
    yield from _lines([header, *body, total])


def followup(list_name: str, rows: Iterable[FollowupRow]) -> Iterator[str]:
    """One follow-up list as CSV (personal data: the caller audits)."""
    yield BOM
    if list_name == "revisit":
        households = (r for r in rows if isinstance(r, HouseholdRevisit))
        yield from _lines(chain([REVISIT_HEADERS], ([r.hamlet, r.address, r.visits, last_visit(r.last_visit_at),
                                                     come_back_text(r.come_back)]
                                                    for r in households)))
        return
    people = (r for r in rows if isinstance(r, PersonNeed))
    yield from _lines(chain([PERSON_HEADERS], (
        [r.hamlet, r.address, r.label, r.birth_year, v.CARD.label(r.card), v.VNEID.label(r.vneid),
         blockers_text(r.blockers), needs_text(r.needs)] for r in people)))
