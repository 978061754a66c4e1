"""The walk sheet PDF: what it lists (read back with pdftotext), who may print it, and the audit."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from campaign.ids import device_short, short_code, uuid7

from ..support import enrolled_device, household_data, person_data
from .reporting import audit_rows, build_world, ok

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
SHOTS = Path("/tmp/i13b-shots")


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    world = build_world(server, "ws")
    v = world.volunteer
    # never visited, consent declined: its people are counted, never named
    h5, h6 = uuid7(), uuid7()
    world.households.update(h5=h5, h6=h6)
    assert ok(v.push([
        v.event("household.created", h5, household_data(world.hamlet_a, "Số 15, ngõ 3, phố Lê Lợi", "declined")),
        v.event("person.added", uuid7(), person_data(h5, "Người 1", 1960, "none", "no_app")),
        v.event("household.created", h6, household_data(world.hamlet_a, "Số 4, phố Lê Lợi")),
    ]))["quarantined"] == []
    # nobody home, and they said when to come back: the sheet carries the time and the date
    h7 = uuid7()
    world.households.update(h7=h7)
    assert ok(v.push([
        v.event("household.created", h7, household_data(world.hamlet_a, "Số 6, phố Lê Lợi")),
        v.event("visit.recorded", uuid7(), {"household_id": h7, "outcome": "not_home", "actions": [],
                                            "people_helped": [], "note": "",
                                            "come_back": {"window": "evening", "on": "2026-12-10"}},
                at="2026-12-04T10:00:00+07:00"),
    ]))["quarantined"] == []
    lead = world.leader
    assert ok(lead.push([lead.event("assignment.set", h6, {"device_id": v.id})]))["quarantined"] == []
    return world


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    SHOTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(path), str(SHOTS / name)], check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_the_sheet_lists_the_households_still_to_visit_in_walking_order(world, tmp_path):
    answer = world.leader.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    text = _text(answer.content, tmp_path, "walksheet-hamlet")
    assert f"Phiếu đi thăm hộ: {world.names[world.hamlet_a]}" in text
    h = world.households
    # household 1 was met: not on the sheet; 2 (nobody home), 4 and 15 (never visited) are,
    # in walking order (house numbers 2, 4, then the alley of number 15... after its street)
    assert "Số 1, phố Lê Lợi" not in text
    positions = [text.index(a) for a in ("Số 2, phố Lê Lợi", "Số 4, phố Lê Lợi", "Số 15, ngõ 3")]
    assert positions == sorted(positions)
    for key in ("h2", "h5", "h6"):
        assert short_code(h[key]) in text
    assert short_code(h["h1"]) not in text
    assert "Đến lại (không có nhà)" in text and "Chưa thăm" in text
    assert "Hẹn quay lại: Tối, 10/12/2026" in text  # household 6 (issue #13, item 4): the time and the date
    assert text.count("Hẹn quay lại") == 1  # household 2's visit said nothing: no line
    assert "Giang: thu nhận thẻ căn cước" in text  # consent given: named
    assert "Người 1" not in text and "1 người: thu nhận thẻ căn cước" in text  # declined: counted
    # household 6's volunteer, enrolled without a name: as the app says it (campaign.ids.device_short)
    assert "Máy " + device_short(world.volunteer.id) in text
    assert "Gặp" in text and "Từ chối" in text


def test_one_volunteers_sheet_has_only_what_they_hold(world, tmp_path):
    answer = world.officer.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a, device=world.volunteer.id)
    assert answer.status_code == 200, answer.text
    text = _text(answer.content, tmp_path, "walksheet-volunteer")
    assert "Số 4, phố Lê Lợi" in text
    assert "Số 2, phố Lê Lợi" not in text and "Số 15, ngõ 3" not in text


def test_who_may_print_and_every_print_is_audited(world):
    before = len(audit_rows(world.server, "export.walksheet.pdf"))
    assert world.volunteer.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a).status_code == 403
    assert world.other_officer.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a).status_code == 403
    # the leader's team holds hamlet A only
    assert world.leader.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_b).status_code == 403
    assert world.leader.get("/api/v1/exports/walksheet.pdf", hamlet=uuid7()).status_code == 404
    assert world.leader.get("/api/v1/exports/walksheet.pdf", hamlet="nope").status_code == 400
    assert world.admin.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_b).status_code == 200
    rows = audit_rows(world.server, "export.walksheet.pdf")
    assert len(rows) == before + 1
    assert rows[-1].role == "admin" and "Trần Phú" not in str(rows[-1].detail)


def test_the_sheet_names_the_volunteer_and_who_printed_it(world, tmp_path):
    """Issue #13, item 2: names on paper, not device ids (a device enrolled with a name)."""
    server = world.server
    lan = enrolled_device(server, server.code("volunteer", hamlets=(world.hamlet_a,), name="Nguyễn Thị Lan"))
    officer = enrolled_device(server, server.code("officer", commune="10525", name="Đỗ Văn Công"))
    h7 = uuid7()
    lead = world.leader
    assert ok(lan.push([lan.event("household.created", h7, household_data(world.hamlet_a, "Số 6, phố Lê Lợi"))]))[
        "quarantined"] == []
    assert ok(lead.push([lead.event("assignment.set", h7, {"device_id": lan.id})]))["quarantined"] == []
    answer = officer.get("/api/v1/exports/walksheet.pdf", hamlet=world.hamlet_a, device=lan.id)
    assert answer.status_code == 200, answer.text
    text = _text(answer.content, tmp_path, "walksheet-named")
    assert "Người phụ trách: Nguyễn Thị Lan" in text and "bởi Đỗ Văn Công" in text
    assert "Số 6, phố Lê Lợi" in text and "Số 4, phố Lê Lợi" not in text
    flat = " ".join(text.split())
    assert device_short(lan.id) not in flat and lan.id not in flat
    line = next(line for line in text.splitlines() if short_code(h7) in line)
    assert "Nguyễn Thị Lan" in line  # the column "Phụ trách"


def test_the_widest_code_and_a_usual_name_stay_on_one_line(tmp_path):
    """A code split over two lines is typed back wrong ("WWW" then "WW" was seen with a narrower column)."""
    from datetime import UTC, datetime

    from sync_server.render import pdf
    from sync_server.render.rows import WalkRow, WalkSheet

    rows = [WalkRow(code, "Số 2, phố Lê Lợi", "Chưa thăm", [], "Nguyễn Thị Lan") for code in ("WWWWW", "MMMMM")]
    made = pdf.walk_sheet(WalkSheet("Tổ 3", "Phường Hải Dương", datetime.now(UTC), "Đỗ Văn Công", None, rows))
    lines = _text(made, tmp_path, "walksheet-widest").splitlines()
    for code in ("WWWWW", "MMMMM"):
        assert any(code in line and "Nguyễn Thị Lan" in line for line in lines), code


def test_the_workbook_names_who_made_it():
    from sync_server.render.text import made_by_text

    assert made_by_text("d-1", "officer", "Đỗ Văn Công") == "Công an cấp xã, Đỗ Văn Công (thiết bị d-1)"
    assert made_by_text("d-1", "officer") == "Công an cấp xã, thiết bị d-1"
