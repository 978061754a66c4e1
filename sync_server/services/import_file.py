"""Reading a target list (households and people) from .xlsx or .csv: its rows, with the
columns recognised by their headers (the first step of an import; import_plan.py checks
the rows, imports.py writes them).

A file that cannot be read at all (not xlsx or csv, no header row, too large,
too many rows) is refused whole: Invalid (400), TooLarge (413) or Unsupported
(415, an old .xls). Headers may be written many ways (HEADER_ALIASES), compared
folded and without punctuation (`key`).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from campaign.text import fold

from .errors import Invalid, ServiceError, TooLarge, Unsupported

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_INFLATED = 256 * 1024 * 1024  # an xlsx is a zip: refuse one that inflates past this
MAX_COLUMNS = 40
HEADER_SEARCH_ROWS = 20
FIELDS = ("hamlet", "address", "label", "birth_year", "card", "vneid")
TEMPLATE_HEADERS = {"hamlet": "Thôn/Tổ", "address": "Địa chỉ", "label": "Họ tên", "birth_year": "Năm sinh",
                    "card": "Thẻ", "vneid": "VNeID"}


@lru_cache(maxsize=4096)
def key(text: str) -> str:
    """Folded, punctuation as spaces: "Mức 1: đã kích hoạt" -> "muc 1 da kich hoat".
    Cached: a list repeats its hamlets and statuses on every row."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


@dataclass(frozen=True)
class Problem:
    """A row's error or warning (row None: the whole file); column: the header as written.
    A remark on the file itself (its encoding) has no column at all on the wire."""
    row: int | None
    column: str | None
    code: str
    detail: str
    of_file: bool = False

    def wire(self) -> dict[str, Any]:
        if self.of_file:
            return {"row": self.row, "code": self.code, "detail": self.detail}
        return {"row": self.row, "column": self.column, "code": self.code, "detail": self.detail}


HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "hamlet": ("thôn/tổ", "thôn", "tổ", "tổ dân phố", "thôn/tổ dân phố", "thôn, tổ dân phố", "ấp", "bản",
               "thôn/ấp/bản", "khu phố", "hamlet", "thon_to"),
    "address": ("địa chỉ", "địa chỉ hộ", "số nhà", "address"),
    "label": ("họ tên", "họ và tên", "tên", "người", "label", "name", "person"),
    "birth_year": ("năm sinh", "năm", "birth year", "birth_year", "year of birth"),
    "card": ("thẻ", "thẻ căn cước", "loại thẻ", "tình trạng thẻ", "cccd", "card"),
    # optional: the address's commune, district, province, old (pre-2025) or new names (import_plan resolves them)
    "commune": ("xã/phường", "xã, phường", "phường/xã", "xã", "phường", "commune", "ward"),
    "district": ("huyện", "quận/huyện", "huyện/quận", "quận", "huyện/thị xã", "district"),
    "province": ("tỉnh", "tỉnh/thành phố", "tỉnh/tp", "tỉnh, thành phố", "province"),
    "vneid": ("vneid", "tài khoản vneid", "định danh điện tử", "tài khoản định danh", "tài khoản định danh điện tử",
              "mức định danh"),
}
HEADERS = {key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}


@dataclass
class Row:
    number: int  # as the spreadsheet or the CSV numbers it, the header row included
    values: dict[str, Any]


@dataclass
class Parsed:
    format: str  # xlsx | csv
    rows: list[Row]
    columns: dict[str, str]  # field -> the header as written
    ignored_columns: list[str]
    header_row: int
    warnings: list[Problem] = field(default_factory=list)


def split_upload(body: bytes, content_type: str) -> bytes:
    """The file in a request: a multipart/form-data field (`file`, or the first with a
    filename), or the raw body (any other Content-Type)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return body
    import email.parser
    import email.policy
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise Invalid("bad_multipart", "the multipart body could not be read")
    parts = list(message.iter_parts())
    chosen = next((p for p in parts if p.get_param("name", header="content-disposition") == "file"), None)
    chosen = chosen or next((p for p in parts if p.get_filename()), None)
    if chosen is None:
        raise Invalid("no_file", "send the list as the multipart field 'file'")
    payload = chosen.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def read(data: bytes) -> Parsed:
    if len(data) > MAX_BYTES:
        raise TooLarge("too_large", f"a list is at most {MAX_BYTES // 2**20} MB")
    if not data.strip():
        raise Invalid("empty_file", "the file is empty")
    if data[:4] == b"PK\x03\x04":
        return _parse("xlsx", _xlsx_rows(data))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise Unsupported("old_excel", "this is an old .xls file: save it as .xlsx (Excel Workbook) or CSV UTF-8")
    text, warning = _decode(data)
    parsed = _parse("csv", _csv_rows(text))
    if warning:
        parsed.warnings.insert(0, Problem(None, None, "encoding", warning, of_file=True))
    return parsed


def _decode(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:  # Excel's "CSV (Comma delimited)" on a Vietnamese Windows
        return data.decode("cp1258"), "the file is not UTF-8: it was read as Windows-1258 (Vietnamese)"
    except UnicodeDecodeError:
        raise Invalid("bad_encoding", "the CSV file is not UTF-8: save it as 'CSV UTF-8'") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_INFLATED:
                raise TooLarge("too_large", "this workbook inflates to more than "
                               f"{MAX_INFLATED // 2**20} MB: it cannot be a list of {MAX_ROWS:,} rows")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ServiceError:
        raise
    except Exception as bad:  # zipfile, XML and openpyxl errors alike: not a workbook we can read
        raise Invalid("bad_xlsx", f"the .xlsx file cannot be read: {type(bad).__name__}") from None
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers declare A1:A1 and would hide the rest
        for number, values in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
            yield number, list(values)
    except ServiceError:
        raise
    except Exception as bad:
        raise Invalid("bad_xlsx", f"the .xlsx file cannot be read: {type(bad).__name__}") from None
    finally:
        wb.close()


def _csv_rows(text: str) -> Iterator[tuple[int, list[Any]]]:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text), dialect), 1):
            yield number, values[:MAX_COLUMNS]
    except csv.Error as bad:
        raise Invalid("bad_csv", f"the CSV file cannot be read: {bad}") from None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(format: str, source: Iterator[tuple[int, list[Any]]]) -> Parsed:
    columns: dict[int, str] | None = None
    header_row = 0
    written: dict[str, str] = {}
    ignored: list[str] = []
    rows: list[Row] = []
    seen = 0
    for number, values in source:
        if all(blank(x) for x in values):
            continue
        if columns is None:
            seen += 1
            found = {i: HEADERS.get(key(str(x))) for i, x in enumerate(values) if not blank(x)}
            if {"hamlet", "address"} <= set(found.values()):
                names = [n for n in found.values() if n]
                twice = sorted({n for n in names if names.count(n) > 1})
                if twice:
                    raise Invalid("duplicate_columns",
                                  f"row {number}: more than one column for {', '.join(twice)}")
                columns = {i: n for i, n in found.items() if n}
                written = {n: str(values[i]).strip() for i, n in columns.items()}
                ignored = [str(values[i]).strip() for i, n in found.items() if n is None]
                header_row = number
            elif seen >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(rows) >= MAX_ROWS:
            raise TooLarge("too_many_rows", f"a list is at most {MAX_ROWS:,} rows: split the file")
        rows.append(Row(number, {name: values[i] if i < len(values) else None for i, name in columns.items()}))
    if columns is None:
        expected = ", ".join(f"{TEMPLATE_HEADERS[f]!r}" for f in FIELDS)
        raise Invalid("no_header", f"no header row with at least a hamlet and an address column was found "
                      f"(the template's headers: {expected})")
    return Parsed(format, rows, written, ignored, header_row)
