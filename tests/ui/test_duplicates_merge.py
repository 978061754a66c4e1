"""A leader merges people recorded twice: the dashboard opens the server's likely pairs, the
merge is written on the phone and reaches the server at the next sync; the people count
drops by one."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaign.ids import uuid7
from field_app.app_state import default_key
from field_app.net.sync import SyncClient
from field_app.store import Store
from sync_server.services import team as teams
from sync_server.store.db import write_transaction

from ..support import Server, hamlet_data, household_data, person_data
from .harness import wait_for
from .test_dashboard import enrolled, loaded, open_app
from .volunteer import Taps


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_leader_merges_a_pair_and_the_count_drops(server: Server, make_harness, tmp_path: Path) -> None:
    admin = server.enroll("admin")
    hamlet, home_a, home_b, first, second = uuid7(), uuid7(), uuid7(), uuid7(), uuid7()
    answer = admin.push([
        admin.event("hamlet.created", hamlet, hamlet_data("Tổ dân phố trùng")),
        admin.event("household.created", home_a, household_data(hamlet, "Số 3, phố Trùng")),
        admin.event("household.created", home_b, household_data(hamlet, "Số 5, phố Trùng")),
        admin.event("person.added", first, person_data(home_a, "Vũ Thị Sen", 1955, "none", "no_app")),
        admin.event("person.added", second, person_data(home_b, "vu thi sen", 1956, "none", "no_app")),
    ])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    team = f"t-{uuid7()[-8:]}"
    with write_transaction(server.engine) as conn:
        teams.create_team(conn, team, "Tổ trùng", "10525", [hamlet])
    path = enrolled(server, tmp_path / "leader", "leader", team=team)
    with Store(path, key=default_key(path)) as store:
        SyncClient(store).sync_once()  # the team's people arrive on the phone
    people = lambda: next(r for r in admin.get("/api/v1/totals", commune="10525").json()["rows"]  # noqa: E731
                          if r["key"] == hamlet)["people"]
    assert people() == 2
    h = open_app(make_harness, path, width=360, height=640, route="/totals")
    loaded(h)
    Taps(h)(h.get(key="dashboard:duplicates"))
    wait_for(h, lambda: h.exists(key=f"duplicates:merge:{second}"))
    assert "Vũ Thị Sen" in h.get(key=f"duplicates:keep:{first}").text
    assert "Số 5, phố Trùng" in h.get(key=f"duplicates:dup:{second}").text
    Taps(h)(h.get(key=f"duplicates:merge:{second}"))
    assert not h.exists(key=f"duplicates:pair:{second}")
    h.close()
    with Store(path, key=default_key(path)) as store:
        assert store.people(home_b) == []
        SyncClient(store).sync_once()
    assert people() == 1
