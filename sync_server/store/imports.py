"""Import of a target list (households and people) from .xlsx or .csv.

Three steps, each usable alone (the API and `gocua-server import` share them):

1. read(): the file's rows, with the columns recognised by their headers.
   A file that cannot be read at all (not xlsx or csv, no header row, too
   large, too many rows) is a FileError: a 4xx for the whole request.
2. check(): every row against the commune's hamlets and what the server
   already holds. Every bad row is reported with its number and reason; a
   Plan says what a real import would create.
3. write(): the plan as events of a server-side import device (an officer
   device enrolled for this import through store.devices), pushed through
   store.events.push in batches of 500 inside the caller's ONE write
   transaction: every row or none. They reach devices by pull like any other.

The rules (docs/reports.md has them for people):
- a household is a hamlet + an address: rows with the same hamlet and the same
  folded address (campaign.text.fold) are one household. A household the server
  already has (same hamlet, same folded address) gets the new people; a person it
  already has (same household, same folded label) is skipped, so importing the
  same file twice adds nothing.
- two rows for the same person of the same household in one file: an error.
- a blank name gets a generic label "Người N"; a row with no person column
  filled in adds the household alone.
- text is NFC, trimmed, inner runs of spaces collapsed. Statuses: a code
  (cccd_chip) or a Vietnamese or English label, compared folded and without
  punctuation ("CCCD gắn chip", "cccd gan chip", "Chip CCCD"); blank is unknown.
- birth year: a whole number from 1900 to this year, as a number or as text
  ("1985", " 1985 ", 1985.0). An Excel date in the year column is taken as a
  year, with a warning: a date whose serial number is itself a year (1985 typed
  into a date-formatted cell shows as 07/06/1905) is that year; any other date
  gives its year (the day and month are dropped: collect the minimum). Text
  dates (12/03/1985, 1985-03-12) likewise.
"""
from __future__ import annotations

import csv
import io
import json
import re
import threading
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator

from sqlalchemy import Connection, Engine, select, update

from campaign import areas
from campaign import events as ev
from campaign import vocabulary as v
from campaign.ids import uuid7
from campaign.text import fold
from campaign.totals import VIETNAM

from .. import clock
from . import audit
from . import devices
from . import events as log
from . import schema as t
from .db import is_sqlite, write_transaction

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_INFLATED = 256 * 1024 * 1024  # an xlsx is a zip: refuse one that inflates past this
MAX_COLUMNS = 40
HEADER_SEARCH_ROWS = 20
BATCH = ev.MAX_BATCH
STALE_AFTER = timedelta(hours=1)
FIELDS = ("hamlet", "address", "label", "birth_year", "card", "vneid")
PERSON_FIELDS = ("label", "birth_year", "card", "vneid")
TEMPLATE_HEADERS = {"hamlet": "Thôn/Tổ", "address": "Địa chỉ", "label": "Họ tên", "birth_year": "Năm sinh",
                    "card": "Thẻ", "vneid": "VNeID"}


class FileError(ValueError):
    """The file as a whole cannot be imported: answered with `status`."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@lru_cache(maxsize=4096)
def key(text: str) -> str:
    """Folded, punctuation as spaces: "Mức 1: đã kích hoạt" -> "muc 1 da kich hoat".
    Cached: a list repeats its hamlets and statuses on every row."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(text)).split())


# ---- what headers and statuses may say -------------------------------------------

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "hamlet": ("thôn/tổ", "thôn", "tổ", "tổ dân phố", "thôn/tổ dân phố", "thôn, tổ dân phố", "ấp", "bản",
               "thôn/ấp/bản", "khu phố", "hamlet", "thon_to"),
    "address": ("địa chỉ", "địa chỉ hộ", "số nhà", "address"),
    "label": ("họ tên", "họ và tên", "tên", "người", "label", "name", "person"),
    "birth_year": ("năm sinh", "năm", "birth year", "birth_year", "year of birth"),
    "card": ("thẻ", "thẻ căn cước", "loại thẻ", "tình trạng thẻ", "cccd", "card"),
    "vneid": ("vneid", "tài khoản vneid", "định danh điện tử", "tài khoản định danh", "tài khoản định danh điện tử",
              "mức định danh"),
}
HEADERS = {key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

STATUS_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "card": {"cmnd_only": ("cmnd", "cmnd 9 số", "chứng minh nhân dân"), "cccd_chip": ("chip", "cccd chip"),
             "can_cuoc": ("căn cước",), "cccd_barcode": ("mã vạch", "cccd mã vạch"),
             "none": ("chưa có", "không có", "không"), "applied_waiting": ("chờ nhận", "đã làm chờ nhận"),
             "unknown": ("không rõ", "chưa rõ")},
    "vneid": {"no_app": ("chưa cài", "không có", "chưa có", "chưa có tài khoản"),
              "unknown": ("không rõ", "chưa rõ")},
}


def _status_table(vocab: v.Vocabulary) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, (vi, en) in vocab.labels.items():
        for spelling in (code, vi, en, *STATUS_ALIASES.get(vocab.name, {}).get(code, ())):
            k = key(spelling)
            assert table.get(k, code) == code, f"{vocab.name}: {spelling!r} means two things"
            table[k] = code
    return table


STATUSES = {"card": _status_table(v.CARD), "vneid": _status_table(v.VNEID)}
UNKNOWN_YEAR = {key(s) for s in ("không rõ", "chưa rõ", "unknown")}


# ---- 1. read --------------------------------------------------------------------

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
    warnings: list[dict[str, Any]] = field(default_factory=list)


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
        raise FileError(400, "bad_multipart", "the multipart body could not be read")
    parts = list(message.iter_parts())
    chosen = next((p for p in parts if p.get_param("name", header="content-disposition") == "file"), None)
    chosen = chosen or next((p for p in parts if p.get_filename()), None)
    if chosen is None:
        raise FileError(400, "no_file", "send the list as the multipart field 'file'")
    payload = chosen.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def read(data: bytes) -> Parsed:
    if len(data) > MAX_BYTES:
        raise FileError(413, "too_large", f"a list is at most {MAX_BYTES // 2**20} MB")
    if not data.strip():
        raise FileError(400, "empty_file", "the file is empty")
    if data[:4] == b"PK\x03\x04":
        return _parse("xlsx", _xlsx_rows(data))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError(415, "old_excel", "this is an old .xls file: save it as .xlsx (Excel Workbook) or CSV UTF-8")
    text, warning = _decode(data)
    parsed = _parse("csv", _csv_rows(text))
    if warning:
        parsed.warnings.insert(0, {"row": None, "code": "encoding", "detail": warning})
    return parsed


def _decode(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:  # Excel's "CSV (Comma delimited)" on a Vietnamese Windows
        return data.decode("cp1258"), "the file is not UTF-8: it was read as Windows-1258 (Vietnamese)"
    except UnicodeDecodeError:
        raise FileError(400, "bad_encoding", "the CSV file is not UTF-8: save it as 'CSV UTF-8'") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_INFLATED:
                raise FileError(413, "too_large", "this workbook inflates to more than "
                                f"{MAX_INFLATED // 2**20} MB: it cannot be a list of {MAX_ROWS:,} rows")
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileError:
        raise
    except Exception as bad:  # zipfile, XML and openpyxl errors alike: not a workbook we can read
        raise FileError(400, "bad_xlsx", f"the .xlsx file cannot be read: {type(bad).__name__}") from None
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers declare A1:A1 and would hide the rest
        for number, values in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
            yield number, list(values)
    except FileError:
        raise
    except Exception as bad:
        raise FileError(400, "bad_xlsx", f"the .xlsx file cannot be read: {type(bad).__name__}") from None
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
        raise FileError(400, "bad_csv", f"the CSV file cannot be read: {bad}") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(format: str, source: Iterator[tuple[int, list[Any]]]) -> Parsed:
    columns: dict[int, str] | None = None
    header_row = 0
    written: dict[str, str] = {}
    ignored: list[str] = []
    rows: list[Row] = []
    seen = 0
    for number, values in source:
        if all(_blank(x) for x in values):
            continue
        if columns is None:
            seen += 1
            found = {i: HEADERS.get(key(str(x))) for i, x in enumerate(values) if not _blank(x)}
            if {"hamlet", "address"} <= set(found.values()):
                names = [n for n in found.values() if n]
                twice = sorted({n for n in names if names.count(n) > 1})
                if twice:
                    raise FileError(400, "duplicate_columns",
                                    f"row {number}: more than one column for {', '.join(twice)}")
                columns = {i: n for i, n in found.items() if n}
                written = {n: str(values[i]).strip() for i, n in columns.items()}
                ignored = [str(values[i]).strip() for i, n in found.items() if n is None]
                header_row = number
            elif seen >= HEADER_SEARCH_ROWS:
                break
            continue
        if len(rows) >= MAX_ROWS:
            raise FileError(413, "too_many_rows", f"a list is at most {MAX_ROWS:,} rows: split the file")
        rows.append(Row(number, {name: values[i] if i < len(values) else None for i, name in columns.items()}))
    if columns is None:
        expected = ", ".join(f"{TEMPLATE_HEADERS[f]!r}" for f in FIELDS)
        raise FileError(400, "no_header", f"no header row with at least a hamlet and an address column was found "
                        f"(the template's headers: {expected})")
    return Parsed(format, rows, written, ignored, header_row)


# ---- 2. check -------------------------------------------------------------------

@dataclass
class Hamlet:
    id: str
    name: str
    valid_to: str | None


@dataclass
class World:
    """What the server holds of a commune, as the check needs it."""
    commune: str
    hamlets: dict[str, list[Hamlet]]  # folded name -> hamlets of that name
    households: dict[tuple[str, str], tuple[str, str]]  # (hamlet id, folded address) -> (id, consent)
    labels: dict[str, set[str]]  # household id -> folded labels of its people


def load_world(conn: Connection, commune: str) -> World:
    e = t.entities.c
    hamlets: dict[str, list[Hamlet]] = defaultdict(list)
    for row in conn.execute(select(e.id, e.body).where(e.commune == commune, e.type == "hamlet")):
        data = json.loads(row.body)["data"]
        hamlets[key(data["name"])].append(Hamlet(row.id, data["name"], data.get("valid_to")))
    households: dict[tuple[str, str], tuple[str, str]] = {}
    for row in conn.execute(select(e.id, e.hamlet_id, e.body).where(e.commune == commune, e.type == "household")
                            .execution_options(yield_per=5000)):
        data = json.loads(row.body)["data"]
        households.setdefault((row.hamlet_id, fold(data["address"])), (row.id, data["consent"]))
    labels: dict[str, set[str]] = defaultdict(set)
    for row in conn.execute(select(e.parent_id, e.body).where(e.commune == commune, e.type == "person")
                            .execution_options(yield_per=5000)):
        labels[row.parent_id].add(fold(json.loads(row.body)["data"]["label"]))
    return World(commune, dict(hamlets), households, labels)


@dataclass
class Household:
    id: str
    hamlet_id: str
    address: str
    new: bool
    consent: str
    first_row: int
    people: list[Person] = field(default_factory=list)
    rows_alone: int = 0  # rows that name the household and nobody in it


@dataclass
class Person:
    id: str
    label: str | None  # None: a generic "Người N", numbered when the plan is final
    birth_year: int | None
    card: str
    vneid: str
    row: int


@dataclass
class Plan:
    commune: str
    format: str
    rows: int
    households: list[Household]  # in the order of their first row; new and existing ones that gain people
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    skipped: list[int]  # rows of people the server already has
    ignored_columns: list[str]

    @property
    def new_households(self) -> int:
        return sum(h.new for h in self.households)

    @property
    def people(self) -> int:
        return sum(len(h.people) for h in self.households)

    def report(self) -> dict[str, Any]:
        return {"rows": self.rows, "households": self.new_households, "people": self.people,
                "existing_households": sum(not h.new and bool(h.people) for h in self.households),
                "skipped": len(self.skipped), "errors": self.errors, "warnings": self.warnings,
                "ignored_columns": self.ignored_columns}


def _problem(row: int | None, column: str | None, code: str, detail: str) -> dict[str, Any]:
    return {"row": row, "column": column, "code": code, "detail": detail}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        value = value.strftime("%d/%m/%Y")
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def birth_year(value: Any, this_year: int) -> tuple[int | None, str | None]:
    """(year, warning) or ValueError with the reason. See the module docstring."""
    warning = None
    if _blank(value):
        return None, None
    if isinstance(value, bool):
        raise ValueError("a birth year is a number such as 1985, not TRUE/FALSE")
    if isinstance(value, datetime) or isinstance(value, date):
        from openpyxl.utils.datetime import to_excel
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        serial = to_excel(moment)
        if float(serial).is_integer() and ev.MIN_BIRTH_YEAR <= serial <= this_year:
            year = int(serial)
            warning = f"an Excel date ({moment:%d/%m/%Y}) in the birth year column was read as the year {year}"
        else:
            year = moment.year
            warning = f"a full date in the birth year column: only its year {year} is kept"
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value} is not a whole year")
        year = int(value)
    else:
        text = _text(value)
        if key(text) in UNKNOWN_YEAR:
            return None, None
        if re.fullmatch(r"\d{4}(\.0+)?", text):
            year = int(text.split(".")[0])
        elif (m := _DMY.match(text)) or (m2 := _YMD.match(text)):
            parts = (m.group(3), m.group(2), m.group(1)) if m else (m2.group(1), m2.group(2), m2.group(3))  # type: ignore[union-attr]
            try:
                year = date(int(parts[0]), int(parts[1]), int(parts[2])).year
            except ValueError:
                raise ValueError(f"{text!r} is not a date nor a year") from None
            warning = f"a full date ({text}) in the birth year column: only its year {year} is kept"
        else:
            raise ValueError(f"{text!r} is not a year: write it as four digits, such as 1985")
    if not ev.MIN_BIRTH_YEAR <= year <= this_year:
        raise ValueError(f"{year} is not a birth year between {ev.MIN_BIRTH_YEAR} and {this_year}")
    return year, warning


def status(vocab: str, value: Any) -> str:
    if _blank(value):
        return "unknown"
    found = STATUSES[vocab].get(key(_text(value)))
    if found is None:
        raise ValueError(f"{_text(value)!r} is not a {vocab} status: use one of "
                         f"{', '.join(repr(v.ALL[vocab].label(c)) for c in v.ALL[vocab].codes)} (or its code)")
    return found


def check(parsed: Parsed, world: World, today: date | None = None) -> Plan:
    today = today or datetime.now(VIETNAM).date()
    year = today.year
    errors: list[dict[str, Any]] = []
    warnings = list(parsed.warnings)
    households: dict[tuple[str, str], Household] = {}
    people_seen: dict[tuple[str, str], int] = {}  # (household key, folded label) -> row
    skipped: list[int] = []
    commune_name = areas.commune(world.commune).full_name
    col = parsed.columns

    for row in parsed.rows:
        values = row.values
        bad = len(errors)

        def fail(field_name: str | None, code: str, detail: str) -> None:
            errors.append(_problem(row.number, col.get(field_name or "", None), code, detail))

        hamlet_text = _text(values.get("hamlet"))
        hamlet: Hamlet | None = None
        if not hamlet_text:
            fail("hamlet", "missing_hamlet", "the hamlet is empty")
        else:
            found = world.hamlets.get(key(hamlet_text), [])
            if not found:
                fail("hamlet", "unknown_hamlet", f"{commune_name} has no hamlet named {hamlet_text!r}")
            elif len(found) > 1:
                fail("hamlet", "ambiguous_hamlet", f"{len(found)} hamlets of {commune_name} are named {hamlet_text!r}")
            elif found[0].valid_to and found[0].valid_to < today.isoformat():
                fail("hamlet", "hamlet_closed", f"hamlet {found[0].name!r} closed on {found[0].valid_to}")
            else:
                hamlet = found[0]
        address = _text(values.get("address"))
        if not address:
            fail("address", "missing_address", "the address is empty")
        else:
            _check_text(fail, "address", address, ev.MAX_ADDRESS)
        label = _text(values.get("label"))
        if label:
            _check_text(fail, "label", label, ev.MAX_LABEL)
        try:
            born, warning = birth_year(values.get("birth_year"), year)
            if warning:
                warnings.append(_problem(row.number, col.get("birth_year"), "date_as_year", warning))
        except ValueError as why:
            born = None
            fail("birth_year", "bad_birth_year", str(why))
        statuses = {}
        for name in ("card", "vneid"):
            try:
                statuses[name] = status(name, values.get(name))
            except ValueError as why:
                statuses[name] = "unknown"
                fail(name, "unknown_status", str(why))
        if (born is not None and year - born < v.VNEID_L2_MIN_AGE and statuses["vneid"].startswith("l2_")):
            fail("vneid", "too_young", f"born {born}: under {v.VNEID_L2_MIN_AGE}, VNeID is level 1 only")
        has_person = any(not _blank(values.get(f)) for f in PERSON_FIELDS)
        if len(errors) > bad or hamlet is None:
            continue

        hkey = (hamlet.id, fold(address))
        folded_label = fold(label) if label else ""
        household = households.get(hkey)
        if household is None:
            existing = world.households.get(hkey)
            household = Household(existing[0] if existing else uuid7(), hamlet.id, address, existing is None,
                                  existing[1] if existing else "unknown", row.number)
            households[hkey] = household
        if not has_person:
            household.rows_alone += 1
            continue
        if label:
            lkey = (hkey[0] + "/" + hkey[1], folded_label)
            if lkey in people_seen:
                fail("label", "duplicate_row", f"the same person of the same household as row {people_seen[lkey]}")
                continue
            people_seen[lkey] = row.number
            if folded_label in world.labels.get(household.id, ()):
                skipped.append(row.number)
                continue
            if household.consent == "declined" and not ev.GENERIC_LABEL.match(label):
                fail("label", "consent_declined", "this household declined: its people are counted as "
                     "'Người 1', 'Người 2' …, never named: leave the name empty")
                continue
        household.people.append(Person(uuid7(), label or None, born, statuses["card"], statuses["vneid"], row.number))

    ordered = sorted(households.values(), key=lambda h: h.first_row)
    _number_generic(ordered, world)
    return Plan(world.commune, parsed.format, len(parsed.rows),
                [h for h in ordered if h.new or h.people], errors, warnings, skipped, parsed.ignored_columns)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # as campaign.events refuses them (tabs and newlines are gone here)


def _check_text(fail: Callable[[str, str, str], None], name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        fail(name, "too_long", f"longer than {limit} characters")
    elif _CONTROL.search(text):
        fail(name, "bad_text", "contains control characters")


def _number_generic(households: list[Household], world: World) -> None:
    """Blank names become "Người N": the next numbers free in the household."""
    for household in households:
        taken = set(world.labels.get(household.id, ())) | {fold(p.label) for p in household.people if p.label}
        n = len(world.labels.get(household.id, ()))
        for person in household.people:
            if person.label is None:
                n += 1
                while fold(ev.generic_label(n)) in taken:
                    n += 1
                person.label = ev.generic_label(n)
                taken.add(fold(person.label))


def _payloads(household: Household) -> Iterator[tuple[str, str, dict[str, Any], int]]:
    """(kind, entity, data, row) of the events a household of the plan makes."""
    if household.new:
        yield "household.created", household.id, {"hamlet_id": household.hamlet_id, "address": household.address,
                                                  "consent": "unknown"}, household.first_row
    for p in household.people:
        yield "person.added", p.id, {"household_id": household.id, "label": p.label, "birth_year": p.birth_year,
                                     "presence": "home", "card": p.card, "vneid": p.vneid}, p.row


# ---- 3. write -------------------------------------------------------------------

class ImportFailed(RuntimeError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} rows were refused by the event log")
        self.errors = errors


Progress = Callable[[int, int], None]  # (rows done, rows total)


def write(conn: Connection, plan: Plan, *, progress: Progress | None = None) -> devices.Device | None:
    """Push the plan's events in ONE transaction (the caller's, under the write lock).
    Raises ImportFailed (the caller rolls back) if the log refuses any event. Returns the
    import device, or None when there was nothing to add (a file imported already)."""
    if plan.errors:
        raise ImportFailed(plan.errors)
    if not any(h.new or h.people for h in plan.households):
        if progress:
            progress(plan.rows, plan.rows)
        return None
    code, _expires = devices.create_enrolment(conn, "officer", commune=plan.commune, ttl_hours=1)
    device, _token = devices.enrol(conn, code)  # the token is never handed out
    scope = devices.scope_of(conn, device)
    at = datetime.now(VIETNAM).replace(microsecond=0).isoformat()
    events: list[dict[str, Any]] = []
    rows_of: list[int] = []  # per event: the rows it completes
    sources: list[int] = []  # per event: the row reported if it is refused
    for household in plan.households:
        for kind, entity, data, row in _payloads(household):
            events.append({"id": uuid7(), "device_id": device.id, "seq": len(events) + 1, "kind": kind,
                           "entity": entity, "base": None, "at": at, "data": data, "schema": ev.SCHEMA})
            rows_of.append(household.rows_alone if kind == "household.created" else 1)
            sources.append(row)
    total = plan.rows
    done = total - sum(rows_of)  # rows that need no event: skipped people, households already held
    if progress:
        progress(done, total)
    for start in range(0, len(events), BATCH):
        batch = events[start:start + BATCH]  # NFC already: every text went through _text()
        result = log.push(conn, device, scope, batch)
        if result.error or result.quarantined:
            refused = [_problem(sources[q["seq"] - 1], None, "refused", q["reason"]) for q in result.quarantined]
            if result.error:
                refused.append(_problem(None, None, result.error, result.detail))
            raise ImportFailed(refused)
        done += sum(rows_of[start:start + BATCH])
        if progress:
            progress(done, total)
    devices.revoke(conn, device.id)  # its work is done; nobody holds its token anyway
    return device


# ---- the imports table: reports and progress --------------------------------------

_LIVE: dict[str, tuple[int, int]] = {}  # import id -> (rows done, total), for imports running in this process
_LIVE_LOCK = threading.Lock()


def _set_live(import_id: str, done: int, total: int) -> None:
    with _LIVE_LOCK:
        _LIVE[import_id] = (done, total)


def record(conn: Connection, plan: Plan, *, import_id: str, device_id: str | None, dry_run: bool,
           status: str) -> None:
    conn.execute(t.imports.insert().values(
        id=import_id, commune=plan.commune, device_id=device_id, import_device_id=None, dry_run=int(dry_run),
        status=status, rows_total=plan.rows, rows_done=0, households=plan.new_households, people=plan.people,
        skipped=len(plan.skipped), errors=json.dumps(plan.errors, ensure_ascii=False), created_at=clock.now_iso(),
        finished_at=None if status == "running" else clock.now_iso()))


def finish(conn: Connection, import_id: str, status: str, *, rows_done: int = 0,
           import_device_id: str | None = None, errors: list[dict[str, Any]] | None = None) -> None:
    values: dict[str, Any] = {"status": status, "rows_done": rows_done, "finished_at": clock.now_iso()}
    if import_device_id is not None:
        values["import_device_id"] = import_device_id
    if errors is not None:
        values["errors"] = json.dumps(errors, ensure_ascii=False)
    conn.execute(update(t.imports).where(t.imports.c.id == import_id).values(**values))


def state(conn: Connection, import_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.imports).where(t.imports.c.id == import_id)).first()
    if row is None:
        return None
    out = {"import_id": row.id, "commune": row.commune, "status": row.status, "dry_run": bool(row.dry_run),
           "rows_total": row.rows_total, "rows_done": row.rows_done, "households": row.households,
           "people": row.people, "skipped": row.skipped, "errors": json.loads(row.errors),
           "import_device_id": row.import_device_id, "requested_by": row.device_id,
           "created_at": row.created_at, "finished_at": row.finished_at}
    if row.status == "running":
        with _LIVE_LOCK:
            live = _LIVE.get(row.id)
        if live is not None:
            out["rows_done"] = max(out["rows_done"], live[0])
        elif clock.now() - datetime.fromisoformat(row.created_at) > STALE_AFTER:
            out["status"] = "failed"  # the process that ran it stopped: its transaction stored nothing
            out["errors"] = [_problem(None, None, "interrupted", "the server stopped during this import: "
                                      "nothing of it was stored; import the file again")]
    return out


def run(engine: Engine, plan: Plan, *, import_id: str, device_id: str | None, role: str, detail: dict[str, Any],
        progress: Progress | None = None) -> dict[str, Any]:
    """A real import from a checked plan whose record is "running": all of it or nothing,
    then the record says which. Used by the API's thread and by the command line."""
    pg = not is_sqlite(engine)

    def report(done: int, total: int) -> None:
        _set_live(import_id, done, total)
        if pg:  # visible to other server processes; SQLite has one writer, busy with the import
            with engine.begin() as side:
                side.execute(update(t.imports).where(t.imports.c.id == import_id).values(rows_done=done))
        if progress:
            progress(done, total)

    try:
        with write_transaction(engine) as conn:
            world = load_world(conn, plan.commune)  # again, under the lock: nothing moved since the check
            recheck = _recheck(plan, world)
            if recheck:
                raise ImportFailed(recheck)
            device = write(conn, plan, progress=report)
            made_by = device.id if device is not None else None
            audit.record(conn, device_id=device_id, role=role, action="import.run", commune=plan.commune,
                         detail={**detail, "import_id": import_id, "import_device_id": made_by, **_counts(plan)})
            finish(conn, import_id, "done", rows_done=plan.rows, import_device_id=made_by)
    except Exception as bad:
        errors = bad.errors if isinstance(bad, ImportFailed) else [
            _problem(None, None, "server_error", f"{type(bad).__name__}: the import stopped and stored nothing")]
        with write_transaction(engine) as conn:
            finish(conn, import_id, "failed", errors=errors)
            audit.record(conn, device_id=device_id, role=role, action="import.failed", commune=plan.commune,
                         detail={**detail, "import_id": import_id, "errors": len(errors)})
        if not isinstance(bad, ImportFailed):
            raise
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(import_id, None)
    with engine.connect() as conn:
        out = state(conn, import_id)
    assert out is not None
    return out


def _recheck(plan: Plan, world: World) -> list[dict[str, Any]]:
    """What changed between the check and the lock: a household or person added meanwhile."""
    out = []
    for household in plan.households:
        if household.new and (household.hamlet_id, fold(household.address)) in world.households:
            out.append(_problem(household.first_row, None, "changed", "this household was added meanwhile: "
                                "check the file again"))
        held = world.labels.get(household.id, set())
        out += [_problem(p.row, None, "changed", "this person was added meanwhile: check the file again")
                for p in household.people if p.label and fold(p.label) in held]
    return out


def _counts(plan: Plan) -> dict[str, Any]:
    return {"rows": plan.rows, "households": plan.new_households, "people": plan.people,
            "skipped": len(plan.skipped), "format": plan.format}


def start(engine: Engine, plan: Plan, **kwargs: Any) -> threading.Thread:
    """run() in a background thread: the API answers at once, GET /imports/{id} follows it."""
    _set_live(kwargs["import_id"], 0, plan.rows)
    thread = threading.Thread(target=_run_quietly, args=(engine, plan), kwargs=kwargs,
                              name=f"import-{kwargs['import_id'][:8]}", daemon=True)
    thread.start()
    return thread


def _run_quietly(engine: Engine, plan: Plan, **kwargs: Any) -> None:
    import logging
    try:
        run(engine, plan, **kwargs)
    except Exception:  # recorded as failed already; the log gets the trace
        logging.getLogger("gocua.imports").exception("import %s failed", kwargs.get("import_id"))


# ---- the template -----------------------------------------------------------------

def template(out: Any, hamlets: list[str] | None = None) -> None:
    """The import template: "Danh sách" (the sheet read), "Hướng dẫn", "Giá trị"."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    this_year = datetime.now(VIETNAM).year
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws.append([TEMPLATE_HEADERS[f] for f in FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for col, width in zip("ABCDEF", (22, 40, 28, 10, 22, 32)):
        ws.column_dimensions[col].width = width
    for col in "ABCEF":  # text, so that Excel keeps "01" and does not turn numbers into dates
        ws.column_dimensions[col].number_format = "@"
    ws.freeze_panes = "A2"
    values = wb.create_sheet("Giá trị")
    values.append(["Thẻ", "Mã thẻ", "VNeID", "Mã VNeID", "Thôn/Tổ"])
    card, vneid = list(v.CARD.codes), list(v.VNEID.codes)
    names = hamlets or []
    for i in range(max(len(card), len(vneid), len(names))):
        values.append([v.CARD.label(card[i]) if i < len(card) else None, card[i] if i < len(card) else None,
                       v.VNEID.label(vneid[i]) if i < len(vneid) else None, vneid[i] if i < len(vneid) else None,
                       names[i] if i < len(names) else None])
    for col, width in zip("ABCDE", (24, 18, 34, 14, 26)):
        values.column_dimensions[col].width = width
    checks = [("E", f"'Giá trị'!$A$2:$A${len(card) + 1}"), ("F", f"'Giá trị'!$C$2:$C${len(vneid) + 1}")]
    if names:
        checks.append(("A", f"'Giá trị'!$E$2:$E${len(names) + 1}"))
    for col, source in checks:
        dv = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=False)
        dv.add(f"{col}2:{col}{MAX_ROWS + 1}")
        ws.add_data_validation(dv)
    year = DataValidation(type="whole", operator="between", formula1=str(ev.MIN_BIRTH_YEAR),
                          formula2=str(this_year), allow_blank=True, error="Năm sinh: 4 chữ số, ví dụ 1985",
                          showErrorMessage=True)
    year.add(f"D2:D{MAX_ROWS + 1}")
    ws.add_data_validation(year)
    guide = wb.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 100
    for line in GUIDE:
        guide.append(list(line))
    wb.save(out)


GUIDE = (
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
    ("", f"Tối đa {MAX_ROWS:,} dòng, {MAX_BYTES // 2**20} MB; tệp .xlsx hoặc .csv (UTF-8).".replace(",", ".")),
)
