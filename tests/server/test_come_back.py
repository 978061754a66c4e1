"""Come back later (issue #13, item 4) on both backends: a not-home visit's `come_back` is applied,
counted by window and carried by the revisit list in its order (dated first, then by window);
with another outcome it is quarantined bad_visit; an old phone's visit (no field) reads as before;
the totals equal a recount (the replay from the log)."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from campaign.ids import uuid7
from sync_server.services import recount
from sync_server.store import entities
from sync_server.store import schema as t
from sync_server.store.db import read_transaction

from ..support import hamlet_data, household_data
from .reporting import WARD, ok


def _visit(device, household, outcome="not_home", come_back=None, at=None):  # type: ignore[no-untyped-def]
    data = {"household_id": household, "outcome": outcome, "actions": [] if outcome == "not_home" else ["explained"],
            "people_helped": [], "note": ""}
    if come_back is not None:
        data["come_back"] = come_back
    return device.event("visit.recorded", uuid7(), data, at=at)


def test_come_backs_are_applied_counted_listed_in_order_and_refused_with_another_outcome(server):
    admin = server.enroll("admin")
    officer = server.enroll("officer", commune=WARD)
    hamlet = uuid7()
    homes = {name: uuid7() for name in ("none", "evening", "morning", "dated", "weekend", "met")}
    events = [admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố quay lại"))]
    events += [admin.event("household.created", h, household_data(hamlet, f"Số {i}, phố Hẹn"))
               for i, h in enumerate(homes.values(), 1)]
    events += [_visit(admin, homes["none"]),  # an old phone: no come_back at all
               _visit(admin, homes["evening"], come_back={"window": "evening", "on": None}),
               _visit(admin, homes["morning"], come_back={"window": "morning", "on": None}),
               _visit(admin, homes["dated"], come_back={"window": "evening", "on": "2026-12-06"},
                      at="2026-11-28T10:00:00+07:00"),  # a fixed day: the date is checked against it
               _visit(admin, homes["weekend"], come_back={"window": "weekend", "on": None})]
    assert ok(admin.push(events))["quarantined"] == []
    refused = _visit(admin, homes["met"], outcome="met", come_back={"window": "evening", "on": None})
    held = ok(admin.push([refused]))["quarantined"]
    assert [q["reason"].split(":")[0] for q in held] == ["bad_visit"]

    rows = ok(officer.get("/api/v1/followup", commune=WARD, list="revisit", limit=1000))["rows"]
    mine = [r for r in rows if r["hamlet_id"] == hamlet]
    by_id = {v: k for k, v in homes.items()}
    assert [by_id[r["household_id"]] for r in mine] == ["dated", "morning", "evening", "weekend", "none"]
    assert mine[0]["come_back"] == {"window": "evening", "on": "2026-12-06"} and mine[-1]["come_back"] is None
    # one row a page: the pages follow the same order, nothing twice, nothing lost
    paged, after = [], None
    while True:
        page = ok(officer.get("/api/v1/followup", commune=WARD, list="revisit", limit=1,
                              **({"after": after} if after else {})))
        paged += [r["household_id"] for r in page["rows"] if r["hamlet_id"] == hamlet]
        after = page["next"]
        if not page["more"]:
            break
    assert [by_id[h] for h in paged] == ["dated", "morning", "evening", "weekend", "none"]
    csv_text = officer.get("/api/v1/followup", commune=WARD, list="revisit", format="csv").text
    assert "Hẹn quay lại" in csv_text and "Tối, 06/12/2026" in csv_text and "Cuối tuần" in csv_text
    # the workbook's follow-up sheet says it the same way, on the household's row
    workbook = load_workbook(io.BytesIO(officer.get("/api/v1/exports/totals.xlsx", commune=WARD).content))
    needs = {r[1]: r[7] for r in workbook["Cần theo dõi"].iter_rows(min_row=2, values_only=True)}
    assert needs["Số 4, phố Hẹn"] == "Đến lại (không có nhà) (hẹn: Tối, 06/12/2026)"
    assert needs["Số 1, phố Hẹn"] == "Đến lại (không có nhà)"  # the old phone's: said nothing

    with read_transaction(server.engine) as conn:  # counted by window, and the same as a recount from the log
        by_window = dict(conn.execute(select(t.totals.c.metric, t.totals.c.n).where(
            t.totals.c.hamlet_id == hamlet, t.totals.c.metric.like("revisit%"))).all())
        assert recount.recount(conn) == []
    assert by_window == {"revisit": 5, "revisit:evening": 2, "revisit:morning": 1, "revisit:weekend": 1}
    [wire] = [r for r in ok(officer.get("/api/v1/totals", commune=WARD, by="hamlet"))["rows"] if r["key"] == hamlet]
    assert wire["come_back"] == {"morning": 1, "midday": 0, "evening": 2, "weekend": 1, "any": 0}  # the evening column


def test_a_come_back_dated_before_the_visit_or_too_far_ahead_is_quarantined_and_loses_nothing(server):
    """The phone refuses these dates before writing; a visit that still carries one (an old or a
    broken client) is held `bad_date`, and the household keeps what it had."""
    admin = server.enroll("admin")
    hamlet, home = uuid7(), uuid7()
    at = "2026-11-28T10:00:00+07:00"
    assert ok(admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố hẹn ngày")),
                          admin.event("household.created", home, household_data(hamlet, "Số 1, phố Hẹn")),
                          _visit(admin, home, come_back={"window": "evening", "on": "2026-11-28"}, at=at)]
                         ))["quarantined"] == []
    past = _visit(admin, home, come_back={"window": "morning", "on": "2026-11-27"}, at=at)
    far = _visit(admin, home, come_back={"window": "morning", "on": "2027-02-27"}, at=at)  # 91 days on
    edge = _visit(admin, home, come_back={"window": "midday", "on": "2027-02-26"}, at=at)  # 90 days: allowed
    held = ok(admin.push([past, far]))["quarantined"]
    assert [q["reason"].split(":")[0] for q in held] == ["bad_date", "bad_date"]
    with read_transaction(server.engine) as conn:
        data = entities.load(conn, [home])[home].data
    assert data["last_come_back"] == {"window": "evening", "on": "2026-11-28"} and data["visits"] == 1
    assert ok(admin.push([edge]))["quarantined"] == []
