"""What the workbook and the CSV files share: the totals' columns and the Vietnamese texts."""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from campaign import followup as rules
from campaign import vocabulary as v
from campaign.events import parse_at
from campaign.time import VIETNAM

NEUTRALISER = "'"
_FORMULA_START = frozenset("=+-@\u2212")  # after NFKC: fullwidth ＝＋－＠ and the small forms too
_CONTROL_START = frozenset("\t\r\n")


def neutralise(text: str) -> str:
    """Text as a spreadsheet must never take for a formula: the one rule of every cell
    and field the server writes (xlsx and csv alike).

    Leading whitespace and invisible characters (spaces, NBSP, zero-width ones, BOMs,
    direction marks, line and paragraph separators) are skipped, because a spreadsheet
    may skip them too; if the first character left is = + - @ or a compatibility form of
    one (fullwidth ＝＋－＠, the small forms, U+2212), or the text begins with a tab, a
    carriage return or a newline, the text is written behind NEUTRALISER (an apostrophe,
    OWASP's advice). Anything else is returned unchanged."""
    if text[:1] in _CONTROL_START:
        return NEUTRALISER + text
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp"):
            continue
        if unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_START:
            return NEUTRALISER + text
        return text
    return text


# the words are campaign's (vocabulary.TERMS), the app's own (docs/glossary.md)
HAMLET_HEADER = v.TERMS.label("hamlet")
TOTAL_LABEL = v.TERMS.label("total")
OFFICIAL_NOTE = "Số liệu do tổ ghi nhận; số liệu chính thức do Công an nắm giữ"


def _columns() -> list[tuple[str, tuple[str, ...]]]:
    """(header, path into a /api/v1/totals row) for every number of the totals sheet."""
    cols: list[tuple[str, tuple[str, ...]]] = [(v.TERMS.label(c), (c,)) for c in ("households", "visited", "revisit",
                                                                                   "people")]
    cols += [(f"Thẻ: {v.CARD.label(c)}", ("card", c)) for c in v.CARD.codes]
    cols += [("Có thẻ gắn chip hoặc thẻ căn cước", ("chip_card",))]
    cols += [(f"VNeID: {v.VNEID.label(c)}", ("vneid", c)) for c in v.VNEID.codes]
    cols += [("Đã kích hoạt định danh điện tử", ("eid_active",))]
    cols += [(v.TERMS.label(c), (c,)) for c in ("visits", "helped")]
    cols += [(f"Hỗ trợ: {v.ACTIONS.label(c)}", ("actions", c)) for c in v.ACTIONS.codes]
    cols += [(f"Vướng mắc: {v.BLOCKERS.label(c)}", ("blockers", c)) for c in v.BLOCKERS.codes]
    return cols


TOTAL_COLUMNS = _columns()


def value(row: dict[str, Any], path: tuple[str, ...]) -> int:
    out: Any = row
    for key in path:
        out = out[key]
    return int(out)


def needs_text(needs: list[str]) -> str:
    return "; ".join(rules.label(n) for n in needs)


def blockers_text(blockers: list[str]) -> str:
    """A person's blockers in words, as the CSV and the workbook's «Vướng mắc» column both write them."""
    return "; ".join(v.BLOCKERS.label(b) for b in blockers)


def vn_time(at: datetime) -> str:
    return at.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") + " (giờ Việt Nam)"


def vn_date(iso: str) -> str:
    """2026-03-19 -> 19/03/2026."""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def come_back_text(come_back: dict[str, Any] | None) -> str:
    """"Tối, 06/12/2026", "Cuối tuần" or "" (the not-home visit said nothing): the revisit list,
    the workbook's follow-up sheet and the walk sheet say it the same way."""
    if not come_back:
        return ""
    window = v.COME_BACK.label(come_back["window"])
    on = come_back.get("on")
    return f"{window}, {vn_date(on)}" if on else window


def last_visit(at: str | None) -> str:
    if not at:
        return ""
    return parse_at(at).astimezone(VIETNAM).strftime("%d/%m/%Y")


def made_by_text(device_id: str | None, role: str, name: str | None = None) -> str:
    """Who made a file: the holder's name when known (the device id kept, for the audit log)."""
    if device_id is None:
        return "Máy chủ, dòng lệnh (gocua-server export)"
    role_text = v.ROLES.label(role) if role in v.ROLES else role
    return f"{role_text}, {name} (thiết bị {device_id})" if name else f"{role_text}, thiết bị {device_id}"
