"""The household screen's children panel: which under-14s can be registered now and through
which parent (an adult with level 2 active), which then need a booked capture."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from .volunteer import add_household, enrolled_dir, open_app

YEAR = datetime.now().astimezone().year


def _open(make_harness, tmp_path: Path, people, **kw):  # type: ignore[no-untyped-def]
    data = enrolled_dir(tmp_path)
    hid, pids = add_household(data, "Số 4, ngõ 2, phố Hoà Bình", people, consent="given")
    return open_app(make_harness, data, route=f"/households/{hid}", **kw), pids


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_panel_names_the_parent_and_who_needs_a_capture(make_harness, tmp_path: Path, lang: str) -> None:
    h, (_mum, _dad, baby, girl, teen) = _open(make_harness, tmp_path, [
        {"label": "Lê Thị Mai", "birth_year": 1990, "card": "cccd_chip", "vneid": "l2_active"},
        {"label": "Phạm Văn Nam", "birth_year": 1988, "card": "cccd_chip", "vneid": "no_app"},
        {"label": "Bé Na", "birth_year": YEAR - 3},
        {"label": "Phạm Thu", "birth_year": YEAR - 9},
        {"label": "Phạm Hùng", "birth_year": YEAR - 15},
    ], language=lang, width=360, height=640)
    panel = h.get(key="household.children")
    assert ("Trẻ dưới 14 tuổi (2)" if lang == "vi" else "Children under 14 (2)") in panel.text
    assert "Lê Thị Mai" in h.get(key=f"children.{baby}.detail").text
    assert "Lê Thị Mai" in h.get(key=f"children.{girl}.detail").text
    assert "Phạm Văn Nam" not in panel.text  # not at level 2: not offered
    assert h.get(key=f"children.{baby}.status").text == ("Đăng ký được ngay" if lang == "vi"
                                                        else "Can be registered now")
    assert h.get(key=f"children.{girl}.status").text == ("Đăng ký rồi hẹn thu nhận" if lang == "vi"
                                                        else "Register, then book a capture")
    assert not h.exists(key=f"children.{teen}")  # 15: not a child


def test_without_a_parent_at_level_2_the_panel_says_a_parent_goes_first(make_harness, tmp_path: Path) -> None:
    h, (_mum, kid) = _open(make_harness, tmp_path, [
        {"label": "Lê Thị Mai", "birth_year": 1990, "card": "cccd_chip", "vneid": "l1_active"},
        {"label": "Bé Bin", "birth_year": YEAR - 7},
    ])
    assert h.get(key=f"children.{kid}.status").text == "Cha mẹ cần định danh mức 2 trước"


def test_a_household_without_children_shows_no_panel(make_harness, tmp_path: Path) -> None:
    h, _ = _open(make_harness, tmp_path, [{"label": "Lê Thị Mai", "birth_year": 1990}])
    assert not h.exists(key="household.children")


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_the_dashboard_counts_children_apart(server, make_harness, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from campaign.ids import uuid7

    from ..support import hamlet_data, household_data, person_data
    from .test_dashboard import enrolled, loaded, text_of
    from .test_dashboard import open_app as open_dashboard
    admin = server.enroll("admin")
    hamlet, household = uuid7(), uuid7()
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố trẻ em")),
              admin.event("household.created", household, household_data(hamlet, "Số 6, phố Trẻ"))]
    for born, vneid in ((1991, "l2_active"), (YEAR - 2, "unknown"), (YEAR - 11, "unknown")):
        events.append(admin.event("person.added", uuid7(), person_data(household, f"Người {born}", born,
                                                                       "cccd_chip" if born < 2000 else "none", vneid)))
    answer = admin.push(events)
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    officer = enrolled(server, tmp_path / "officer", "officer", commune="10525")
    h = open_dashboard(make_harness, officer)
    loaded(h)
    got = admin.get("/api/v1/followup/counts", commune="10525").json()["children"]
    line = text_of(h, "dashboard:children")
    assert line.startswith(f"Trẻ dưới 14 tuổi ({sum(got.values())})")
    assert f"Đăng ký được ngay: {got['now']}" in line and f"Đăng ký rồi hẹn thu nhận: {got['capture']}" in line
