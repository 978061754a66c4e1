"""A household moved between hamlets, seen from the phones (docs/device.md, "Households that
move away"): the old hamlet's phone forgets it (after its own pending events about it are
acknowledged), the new hamlet's phone gets it whole, people and visits included.

The server is the real application on a SQLite file, in process (as tests/test_convergence.py)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from field_app.net.sync import SyncClient
from field_app.store import Store
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.services import team as teams
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

from .store_support import add_hamlet, household_list, problems_of, state_of, visit_of
from .support import enrolled_store, issue_code, migrated_sqlite

COMMUNE = "10525"


class Town:
    """Hamlets A and B; a leader over both; a volunteer's phone in A and one in B."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.engine = make_engine(migrated_sqlite(root / "server.db"))
        self.http = TestClient(create_app(Settings(database_url="unused", public_url="http://testserver"),
                                          self.engine))
        self.stores: list[Store] = []
        admin = self.enrol("admin")
        self.a = add_hamlet(admin, COMMUNE, "Tổ dân phố A", "to_dan_pho", "2025-07-01")
        self.b = add_hamlet(admin, COMMUNE, "Tổ dân phố B", "to_dan_pho", "2025-07-01")
        self.sync(admin)
        with write_transaction(self.engine) as conn:
            teams.create_team(conn, "t1", "Tổ 1", COMMUNE, [self.a, self.b])
        self.leader = self.enrol("leader", team="t1")
        self.in_a = self.enrol("volunteer", hamlets=[self.a])
        self.in_b = self.enrol("volunteer", hamlets=[self.b])
        for store in (self.leader, self.in_a, self.in_b):
            self.sync(store)

    def enrol(self, role: str, team: str | None = None, hamlets: list[str] | None = None) -> Store:
        code = issue_code(self.engine, role, team=team, hamlets=hamlets or ())
        store = enrolled_store(self.root / f"d{len(self.stores)}", "http://testserver", code, http=self.http)
        self.stores.append(store)
        return store

    def sync(self, store: Store) -> None:
        SyncClient(store, client=self.http).sync_once()

    def pull_only(self, store: Store) -> None:
        """A pull with nothing pushed first (the push failed, say)."""
        while True:
            page = self.http.get("/api/v1/sync/pull", params={"after": store.pull_cursor, "limit": 500},
                                 headers={"Authorization": f"Bearer {store.token}"}).json()
            store.apply_pulled(page["events"], page["next"])
            if not page["more"]:
                return

    def server_state(self, hamlet: str) -> dict[str, Any]:
        """The server's entities in one hamlet, as state_of(Store) spells them."""
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(t.entities).where(t.entities.c.hamlet_id == hamlet)).all()
        return {r.id: {"type": r.type, "hamlet_id": r.hamlet_id, "parent_id": r.parent_id,
                       "data": json.loads(r.body)["data"]} for r in rows}

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.http.close()
        self.engine.dispose()


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    world = Town(tmp_path)
    yield world
    world.close()


def _household_in_a(town: Town) -> tuple[str, str, str]:
    household = town.in_a.add_household(town.a, "Số 7, ngõ 2", "given")
    person = town.in_a.add_person(household, "Nguyễn Văn An", 1980, "home", "cccd_chip", "l1_pending")
    visit = town.in_a.record_visit(household, "met", ["l1_help"], [person])
    town.sync(town.in_a)
    town.sync(town.leader)
    return household, person, visit


def _rows_about(store: Store, ids: set[str]) -> int:
    marks = ",".join("?" * len(ids))
    return store.db.execute(f"SELECT count(*) FROM inbox WHERE entity IN ({marks}) OR related IN ({marks})",
                            [*ids, *ids]).fetchone()[0]


def test_the_old_hamlets_phone_forgets_a_household_moved_away_and_the_new_ones_gets_it_whole(town):
    household, person, visit = _household_in_a(town)
    family = {household, person, visit}
    town.leader.update_household(household, hamlet_id=town.b)
    town.sync(town.leader)

    town.sync(town.in_a)
    assert not family & set(state_of(town.in_a))
    assert _rows_about(town.in_a, family) == 0  # the server's events about them too
    assert household_list(town.in_a) == [] and household_list(town.in_a, town.a) == []
    assert state_of(town.in_a) == town.server_state(town.a)
    assert SyncClient(town.in_a, client=town.http).check_receipt().agree  # its own log is intact

    town.sync(town.in_b)
    assert [h.id for h in household_list(town.in_b)] == [household]
    assert [p.id for p in town.in_b.people(household)] == [person]
    assert [v.id for v in town.in_b.visits(household)] == [visit]
    assert state_of(town.in_b) == town.server_state(town.b)
    assert problems_of(town.in_b) == []
    # B's volunteer carries on with it, and everyone agrees
    town.in_b.record_visit(household, "not_home")
    for store in (town.in_b, town.leader, town.in_a):
        town.sync(store)
    assert state_of(town.in_b) == town.server_state(town.b)
    assert state_of(town.in_a) == town.server_state(town.a)
    assert state_of(town.leader) == {**town.server_state(town.a), **town.server_state(town.b)}


def test_a_household_moved_away_is_kept_until_this_phones_events_about_it_are_acknowledged(town):
    household, person, _ = _household_in_a(town)
    late = town.in_a.record_visit(household, "met", ["explained"], [person])  # offline, not sent yet
    town.leader.update_household(household, hamlet_id=town.b)
    town.sync(town.leader)

    town.pull_only(town.in_a)
    assert town.in_a.household(household) is not None  # kept: its visit has not reached the server
    assert visit_of(town.in_a, late) is not None and town.in_a.pending_count() == 1
    assert household_list(town.in_a) == [] and household_list(town.in_a, town.a) == []  # but no longer listed as work

    town.sync(town.in_a)  # the visit is sent: out of this phone's hamlets, the server refuses it
    assert [q.seq for q in town.in_a.quarantined()] == [town.in_a.last_seq]
    assert town.in_a.pending_count() == 0
    assert town.in_a.household(household) is None and town.in_a.person(person) is None
    assert state_of(town.in_a) == town.server_state(town.a)
    assert SyncClient(town.in_a, client=town.http).check_receipt().agree


def test_a_household_moved_away_and_back_comes_back_whole(town):
    household, person, visit = _household_in_a(town)
    town.leader.update_household(household, hamlet_id=town.b)
    town.sync(town.leader)
    town.sync(town.in_a)
    town.sync(town.in_b)
    town.in_b.update_person(person, card="applied_waiting")
    town.sync(town.in_b)
    town.sync(town.leader)
    town.leader.update_household(household, hamlet_id=town.a)
    town.sync(town.leader)
    for store in (town.in_a, town.in_b):
        town.sync(store)
    assert town.in_a.person(person).card == "applied_waiting"
    assert [v.id for v in town.in_a.visits(household)] == [visit]
    assert state_of(town.in_a) == town.server_state(town.a)
    assert state_of(town.in_b) == town.server_state(town.b)
    # a phone that pulls everything from the start, in small pages, ends the same
    fresh = town.enrol("volunteer", hamlets=[town.a])
    client = SyncClient(fresh, client=town.http)
    client.page_size = 1
    client.sync_once()
    assert state_of(fresh) == town.server_state(town.a)
