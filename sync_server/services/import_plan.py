"""Checking a target list: every row against the commune's hamlets and what the server
already holds (the second step of an import). Every bad row is reported with its
number and reason; a Plan says what a real import would create.

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

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from campaign import areas, old_areas
from campaign import events as ev
from campaign import vocabulary as v
from campaign.ids import uuid7
from campaign.text import fold, has_control_characters
from campaign.time import local_date, now

from ..store import imports as store
from .import_file import Parsed, Problem, blank, key

PERSON_FIELDS = ("label", "birth_year", "card", "vneid")


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
    hamlets: dict[str, list[Hamlet]] = defaultdict(list)
    for hamlet_id, data in store.hamlets(conn, commune):
        hamlets[key(data["name"])].append(Hamlet(hamlet_id, data["name"], data.get("valid_to")))
    households: dict[tuple[str, str], tuple[str, str]] = {}
    for household_id, hamlet_id, data in store.households(conn, commune):
        households.setdefault((hamlet_id, fold(data["address"])), (household_id, data["consent"]))
    labels: dict[str, set[str]] = defaultdict(set)
    for household_id, data in store.people(conn, commune):
        labels[household_id].add(fold(data["label"]))
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
    errors: list[Problem]
    warnings: list[Problem]
    skipped: list[int]  # rows of people the server already has
    ignored_columns: list[str]
    resolutions: list[dict[str, Any]] = field(default_factory=list)  # rows naming a commune: how it was read

    @property
    def new_households(self) -> int:
        return sum(h.new for h in self.households)

    @property
    def people(self) -> int:
        return sum(len(h.people) for h in self.households)

    def report(self) -> dict[str, Any]:
        return {"rows": self.rows, "households": self.new_households, "people": self.people,
                "existing_households": sum(not h.new and bool(h.people) for h in self.households),
                "skipped": len(self.skipped), "errors": [p.wire() for p in self.errors],
                "warnings": [p.wire() for p in self.warnings],
                "ignored_columns": self.ignored_columns, "resolutions": self.resolutions}


def _problem(row: int | None, column: str | None, code: str, detail: str) -> Problem:
    return Problem(row, column, code, detail)


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


def _date_parts(text: str) -> tuple[str, str, str] | None:
    """(year, month, day) of a written date, day first (31/12/1985) or ISO (1985-12-31), else None."""
    if m := _DMY.match(text):
        return m.group(3), m.group(2), m.group(1)
    if m := _YMD.match(text):
        return m.group(1), m.group(2), m.group(3)
    return None


def birth_year(value: Any, this_year: int) -> tuple[int | None, str | None]:
    """(year, warning) or ValueError with the reason. See the module docstring."""
    warning = None
    if blank(value):
        return None, None
    if isinstance(value, bool):
        raise ValueError("a birth year is a number such as 1985, not TRUE/FALSE")
    if isinstance(value, (datetime, date)):
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
        elif parts := _date_parts(text):
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
    if blank(value):
        return "unknown"
    found = STATUSES[vocab].get(key(_text(value)))
    if found is None:
        raise ValueError(f"{_text(value)!r} is not a {vocab} status: use one of "
                         f"{', '.join(repr(v.ALL[vocab].label(c)) for c in v.ALL[vocab].codes)} (or its code)")
    return found


def check(parsed: Parsed, world: World, today: date | None = None) -> Plan:
    today = today or local_date(now())
    year = today.year
    errors: list[Problem] = []
    warnings = list(parsed.warnings)
    households: dict[tuple[str, str], Household] = {}
    people_seen: dict[tuple[str, str], int] = {}  # (household key, folded label) -> row
    skipped: list[int] = []
    resolutions: list[dict[str, Any]] = []
    commune_name = areas.commune(world.commune).full_name
    col = parsed.columns

    for row in parsed.rows:
        values = row.values
        bad = len(errors)

        def fail(field_name: str | None, code: str, detail: str, number: int = row.number) -> None:
            errors.append(_problem(number, col.get(field_name or "", None), code, detail))

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
        place = _resolve_place(values, world.commune, commune_name, fail)
        if place is not None:
            resolutions.append({"row": row.number, **place})
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
        has_person = any(not blank(values.get(f)) for f in PERSON_FIELDS)
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
                [h for h in ordered if h.new or h.people], errors, warnings, skipped, parsed.ignored_columns,
                resolutions)


def _resolve_place(values: dict[str, Any], commune: str, commune_name: str,
                   fail: Callable[[str, str, str], None]) -> dict[str, Any] | None:
    """A row that names its commune (old or new, with its old district and province when given):
    how it reads (campaign.old_areas), or an error when it is another commune, several, or none.
    A split old commune of which this import's commune is one candidate is read as this one."""
    given = [_text(values.get(f)) for f in ("commune", "district", "province")]
    if not given[0]:
        return None
    found = old_areas.resolve(given[0], given[1] or None, given[2] or None)
    words = ", ".join(x for x in given if x)
    if found.status == old_areas.UNKNOWN:
        fail("commune", "unknown_commune", f"no commune, old or new, is named {words!r}")
        return None
    code = found.code
    if found.status == old_areas.AMBIGUOUS:
        if commune not in found.candidates:
            names = ", ".join(areas.commune(c).full_name for c in found.candidates)
            fail("commune", "ambiguous_commune", f"{words!r} is now one of {names}: write the new commune's name")
            return None
        code = commune
    if code != commune:
        fail("commune", "other_commune", f"{words!r} is now {areas.commune(code or '').full_name}, not {commune_name}")
        return None
    return {"given": words, "status": found.status, "code": commune, "name": commune_name,
            "candidates": list(found.candidates)}


def _check_text(fail: Callable[[str, str, str], None], name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        fail(name, "too_long", f"longer than {limit} characters")
    elif has_control_characters(text):
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


def payloads(household: Household) -> Iterator[tuple[str, str, dict[str, Any], int]]:
    """(kind, entity, data, row) of the events a household of the plan makes."""
    if household.new:
        yield "household.created", household.id, {"hamlet_id": household.hamlet_id, "address": household.address,
                                                  "consent": "unknown"}, household.first_row
    for p in household.people:
        yield "person.added", p.id, {"household_id": household.id, "label": p.label, "birth_year": p.birth_year,
                                     "presence": "home", "card": p.card, "vneid": p.vneid}, p.row


def recheck(plan: Plan, world: World) -> list[Problem]:
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


def counts(plan: Plan) -> dict[str, Any]:
    return {"rows": plan.rows, "households": plan.new_households, "people": plan.people,
            "skipped": len(plan.skipped), "format": plan.format}
