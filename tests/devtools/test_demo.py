"""The demo campaign: seeded through the real push path, consistent, reproducible.

A small demo (4 households per hamlet) keeps these fast; the full size is
measured by hand (`gocua-server demo --seed-only`) and reported in the docs.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from campaign import events as ev
from campaign import vocabulary as v
from campaign.time import VIETNAM
from devtools import demo
from sync_server.config import Settings
from sync_server.services import enrolment
from sync_server.services.recount import recount
from sync_server.store import migrate
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction

TODAY = date(2026, 5, 20)
PER_HAMLET = 4


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}/demo.db")
    migrate.upgrade(engine)
    return engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, demo.DemoSummary]:
    engine = _engine(tmp_path_factory.mktemp("demo"))
    return engine, demo.seed(engine, households_per_hamlet=PER_HAMLET, rng_seed=6, today=TODAY)


def _events(engine: Engine) -> list[tuple[str, dict]]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(t.events.c.status, t.events.c.body).order_by(t.events.c.cursor)).all()
    return [(status, json.loads(body)) for status, body in rows]


def _entities(engine: Engine, type_: str) -> list[tuple[str, str | None, str | None, dict]]:
    with read_transaction(engine) as conn:
        rows = conn.execute(select(t.entities.c.id, t.entities.c.hamlet_id, t.entities.c.parent_id,
                                   t.entities.c.body).where(t.entities.c.type == type_)).all()
    return [(r.id, r.hamlet_id, r.parent_id, json.loads(r.body)["data"]) for r in rows]


def test_nothing_is_quarantined_and_every_event_is_valid(seeded) -> None:
    engine, summary = seeded
    events = _events(engine)
    assert len(events) == summary.events
    assert Counter(status for status, _ in events) == {"applied": summary.events}
    for _status, event in events:
        ev.check_event(event)
        assert event["at"].endswith("+07:00")
    # each device's events are numbered 1, 2, 3 … with no gap
    seqs: dict[str, list[int]] = defaultdict(list)
    for _status, event in events:
        seqs[event["device_id"]].append(event["seq"])
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())


def test_counts_per_commune_hamlet_and_team(seeded) -> None:
    engine, summary = seeded
    assert set(summary.hamlets_by_commune) == {"10525", "10813"}
    assert all(len(ids) == 25 for ids in summary.hamlets_by_commune.values())
    hamlets = {h: data for h, _, _, data in _entities(engine, "hamlet")}
    assert summary.hamlets == len(hamlets) == 50
    for commune, ids in summary.hamlets_by_commune.items():
        assert {hamlets[h]["commune"] for h in ids} == {commune}
    assert {d["kind"] for h, d in hamlets.items() if d["commune"] == "10813"} == {"thon"}
    assert all(d["name"].startswith("Thôn ") for d in hamlets.values() if d["commune"] == "10813")
    households = _entities(engine, "household")
    assert Counter(h for _, h, _, _ in households) == {h: PER_HAMLET for h in hamlets}
    assert summary.households == len(households) == 50 * PER_HAMLET
    people = _entities(engine, "person")
    assert summary.people == len(people)
    assert 2.8 <= len(people) / len(households) <= 4.5
    assert summary.visits == len(_entities(engine, "visit"))
    assert all(len(d["address"]) <= ev.MAX_ADDRESS for _, _, _, d in households)
    with read_transaction(engine) as conn:
        teams = conn.execute(select(t.team_hamlets.c.team_id, func.count()).group_by(t.team_hamlets.c.team_id)).all()
        roles = Counter(conn.execute(select(t.devices.c.role)).scalars())
    assert dict(teams) == {team: 5 for team in summary.teams}
    assert sorted(summary.teams) == sorted(f"{c}-t{i}" for c in ("10525", "10813") for i in range(1, 6))
    assert roles == {"admin": 1, "leader": 10, "volunteer": 20} and summary.devices == 31


def test_totals_agree_with_a_recount(seeded) -> None:
    engine, _ = seeded
    with read_transaction(engine) as conn:
        assert recount(conn) == []


def test_same_seed_same_events(seeded, tmp_path: Path) -> None:
    engine, _ = seeded
    again = _engine(tmp_path)
    demo.seed(again, households_per_hamlet=PER_HAMLET, rng_seed=6, today=TODAY)

    def bodies(engine: Engine) -> list[str]:
        # device ids are drawn by the server at enrolment: name them by first appearance
        names: dict[str, str] = {}
        out = []
        for _status, event in _events(engine):
            event["device_id"] = names.setdefault(event["device_id"], f"device-{len(names)}")
            out.append(ev.canonical(event))
        return out

    assert bodies(engine) == bodies(again)


def test_another_seed_other_events(seeded, tmp_path: Path) -> None:
    engine, _ = seeded
    other = _engine(tmp_path)
    demo.seed(other, households_per_hamlet=PER_HAMLET, rng_seed=7, today=TODAY)
    assert {e["id"] for _, e in _events(engine)}.isdisjoint({e["id"] for _, e in _events(other)})


def test_declined_households_have_only_generic_labels(seeded) -> None:
    engine, _ = seeded
    households = {h: d for h, _, _, d in _entities(engine, "household")}
    declined = {h for h, d in households.items() if d["consent"] == "declined"}
    assert declined, "the demo should show a household that declined"
    assert {d["consent"] for d in households.values()} == set(v.CONSENT.codes)
    people = _entities(engine, "person")
    for _id, _hamlet, household, data in people:
        if household in declined:
            assert ev.GENERIC_LABEL.match(data["label"]), data["label"]
        else:
            assert not ev.GENERIC_LABEL.match(data["label"])
            assert len(data["label"].split()) >= 3  # family, middle and given name
    by_household: dict[str, list[str]] = defaultdict(list)
    for _id, _hamlet, household, data in people:
        if household in declined:
            by_household[household].append(data["label"])
    for labels in by_household.values():
        assert sorted(labels) == sorted(ev.generic_label(n) for n in range(1, len(labels) + 1))


def test_children_take_their_father_s_family_name(seeded) -> None:
    engine, _ = seeded
    households = {h: d for h, _, _, d in _entities(engine, "household")}
    people: dict[str, list[dict]] = defaultdict(list)
    for _id, _hamlet, household, data in _entities(engine, "person"):
        if households[household]["consent"] != "declined":
            people[household].append(data)
    checked = 0
    for members in people.values():
        if len(members) < 3:
            continue
        youngest = max(members, key=lambda p: p["birth_year"])
        if youngest["birth_year"] < TODAY.year - 17:  # the youngest is grown: maybe a daughter-in-law
            continue
        family = youngest["label"].split()[0]
        assert any(p["label"].split()[0] == family and p["birth_year"] <= youngest["birth_year"] - 16
                   for p in members), members
        checked += 1
    assert checked


def test_no_child_under_six_at_level_2(seeded) -> None:
    engine, _ = seeded
    first_year = (TODAY - timedelta(days=29)).year
    ages = Counter()
    for _id, _hamlet, _household, data in _entities(engine, "person"):
        age = first_year - data["birth_year"]
        ages["under 6" if age < 6 else "under 14" if age < 14 else "adult"] += 1
        if age < 6:
            assert not data["vneid"].startswith("l2_"), data
    assert ages["under 6"] and ages["under 14"] and ages["adult"]


def test_visits_fall_within_the_thirty_days(seeded) -> None:
    engine, _ = seeded
    first = TODAY - timedelta(days=29)
    visits = [e for _, e in _events(engine) if e["kind"] == "visit.recorded"]
    assert visits
    for visit in visits:
        assert first <= datetime.fromisoformat(visit["at"]).astimezone(VIETNAM).date() <= TODAY
    visited = {e["data"]["household_id"] for e in visits}
    assert 0.6 <= len(visited) / (50 * PER_HAMLET) <= 0.95
    outcomes = Counter(e["data"]["outcome"] for e in visits)
    assert outcomes["met"] > outcomes["not_home"] > 0


def test_actions_match_what_changed(seeded) -> None:
    """activation_help goes with someone's VNeID becoming active at that visit; people helped
    are of the household; a not-home visit helps nobody; reviews come after the visit."""
    engine, _ = seeded
    events = [e for _, e in _events(engine)]
    household_of = {p: h for p, _, h, _ in _entities(engine, "person")}
    updates: dict[str, list[dict]] = defaultdict(list)  # household -> person.updated events
    visit_at: dict[str, datetime] = {}
    activations = 0
    for event in events:
        if event["kind"] == "person.updated":
            updates[household_of[event["entity"]]].append(event)
        elif event["kind"] == "visit.recorded":
            data, at = event["data"], datetime.fromisoformat(event["at"])
            visit_at[event["entity"]] = at
            assert all(household_of[p] == data["household_id"] for p in data["people_helped"])
            if data["outcome"] == "not_home":
                assert data["actions"] == [] and data["people_helped"] == []
            if "activation_help" in data["actions"]:
                activations += 1
                assert any(u["device_id"] == event["device_id"]
                           and at - timedelta(hours=1) <= datetime.fromisoformat(u["at"]) <= at
                           and u["data"].get("vneid") in v.ACTIVE_VNEID
                           for u in updates[data["household_id"]]), event
        elif event["kind"] == "review.decided":
            assert datetime.fromisoformat(event["at"]) > visit_at[event["entity"]]
            if event["data"]["decision"] == "returned":
                assert event["data"]["comment"]
    assert activations


def test_spare_codes_enrol_real_devices(seeded) -> None:
    engine, summary = seeded
    assert set(summary.codes) >= {"volunteer 10525-t1", "officer 10525", "officer 10813"}
    with write_transaction(engine) as conn:
        device, _token = enrolment.enrol(conn, summary.codes["officer 10813"])
        assert (device.role, device.commune) == ("officer", "10813")
        device, _token = enrolment.enrol(conn, summary.codes["volunteer 10525-t1"])
        assert device.team_id == "10525-t1"
        scope = enrolment.scope_of(conn, device)
    assert scope.hamlets == frozenset(summary.hamlets_by_commune["10525"][:5])


def test_main_seeds_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/cli.db", public_url="http://127.0.0.1:8000")
    args = argparse.Namespace(seed_only=True, host="127.0.0.1", port=8000, households=1)
    assert demo.main(args, settings) == 0
    first = capsys.readouterr().out
    assert "Phường Hải Dương" in first and "Xã Thanh Hà" in first and "events" in first
    assert demo.main(args, settings) == 0
    assert "already" in capsys.readouterr().out
    engine = make_engine(settings.database_url)
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(t.teams)).scalar_one() == 10
        assert conn.execute(select(func.count()).select_from(t.entities).where(
            t.entities.c.type == "household")).scalar_one() == 50
