"""The retention purge: after a campaign's end date plus its retention days,
`gocua-server purge` removes personal fields and keeps every count.

Proven here: the totals are the same before and after (by hamlet, team and day),
a recount from the rewritten log agrees, no personal field remains (SQLite: in the
database file's own bytes; PostgreSQL: in any row), the other commune is untouched,
the commune's devices are told `purged` (410) on their next request, a device
enrolled afterwards pulls the purged log, and a second run changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from campaign.events import GENERIC_LABEL, canonical, check_event
from campaign.ids import uuid7
from campaign.time import local_date, now
from sync_server.store import schema as t

from ..support import Device, household_data, person_data
from .reporting import RURAL, WARD, World, audit_rows, build_world, engine_for, ok, put, run_cli

# Personal data of Phường Hải Dương that must go (long enough to be unmistakable in raw bytes).
WARD_SECRETS = ("Nguyễn Thị Riêng Tư", "Trần Văn Kín Đáo", "Số 88, ngõ Bí Mật",
                "Gặp cô Riêng Tư lúc năm giờ", "Xác minh lại với ông Kín Đáo", "Kín Đáo Xung Đột",
                "Số 1, phố Lê Lợi", "Số 3, phố Trần Phú", "Hẹn quay lại", "Trùng lượt của ông Bí Ẩn")
RURAL_KEPT = ("Xóm 1, thôn Đông", "Phạm Văn Nông Thôn")  # Xã Thanh Hà's campaign is not over
NEVER_STORED = "Lê Thị Từ Chối"  # a name refused consent_declined: the refusal keeps no data (issue #12, M2)


@dataclass
class Purgeable:
    world: World
    riêng: str  # person ids
    kín: str
    declined: str  # household
    visit: str


def _campaign(days_ago_ended: int, retention: int) -> dict[str, Any]:
    ends = local_date(now()) - timedelta(days=days_ago_ended)
    return {"name": "Chiến dịch đã xong", "target_kind": "percent", "target_value": 80,
            "start": (ends - timedelta(days=90)).isoformat(), "deadline": (ends - timedelta(days=10)).isoformat(),
            "ends": ends.isoformat(), "retention_days": retention}


@pytest.fixture(scope="module")
def purgeable(server: Any) -> Purgeable:
    world = build_world(server, "pu")
    v, leader = world.volunteer, world.leader
    household, declined, visit, voided = uuid7(), uuid7(), uuid7(), uuid7()
    riêng, kín = uuid7(), uuid7()
    batch = [
        v.event("household.created", household, household_data(world.hamlet_a, "Số 88, ngõ Bí Mật")),
        v.event("person.added", riêng, person_data(household, "Nguyễn Thị Riêng Tư", 1975, "none", "no_app")),
        v.event("person.added", kín, person_data(household, "Trần Văn Kín Đáo", 1950, "cmnd_only", "no_app")),
        v.event("visit.recorded", visit, {"household_id": household, "outcome": "met", "actions": ["l1_help"],
                                          "people_helped": [riêng], "note": "Gặp cô Riêng Tư lúc năm giờ"}),
        v.event("visit.recorded", voided, {"household_id": household, "outcome": "met", "actions": [],
                                           "people_helped": [], "note": ""}),
        v.event("visit.voided", voided, {"reason": "Trùng lượt của ông Bí Ẩn"}),  # a reason is free text
        v.event("household.created", declined, household_data(world.hamlet_a, "Số 90, ngõ Bí Mật", "declined")),
        v.event("person.added", uuid7(), person_data(declined, "Người 1", 1990, "cccd_chip", "l2_active")),
        v.event("person.added", uuid7(), person_data(declined, "Lê Thị Từ Chối")),  # quarantined: its name never stored
    ]
    answer = ok(v.push(batch))
    assert [q["reason"].split(":")[0] for q in answer["quarantined"]] == ["consent_declined"]
    answer = ok(leader.push([
        leader.event("review.decided", visit, {"decision": "returned", "comment": "Xác minh lại với ông Kín Đáo"}),
        leader.event("person.updated", kín, {"label": "Kín Đáo Xung Đột"}),  # a conflict: the leader had not seen it
    ]))
    assert answer["quarantined"] == []
    vb = world.volunteer_b
    rural_household = world.households["h4"]
    assert ok(vb.push([vb.event("person.added", uuid7(), person_data(rural_household, "Phạm Văn Nông Thôn"))]))[
        "quarantined"] == []
    with engine_for(server).connect() as conn:
        assert conn.execute(select(t.conflicts).where(t.conflicts.c.entity == kín)).first() is not None
    assert ok(put(world.admin, f"/api/v1/campaigns/{WARD}", _campaign(days_ago_ended=40, retention=30)))
    assert ok(put(world.admin, f"/api/v1/campaigns/{RURAL}", _campaign(days_ago_ended=40, retention=365)))
    assert world.admin.get("/api/v1/sync/pull").status_code == 200  # an admin that has pulled: it holds names
    return Purgeable(world, riêng, kín, declined, visit)


def _totals(device: Device, commune: str) -> dict[str, Any]:
    return {by: ok(device.get("/api/v1/totals", commune=commune, by=by)) for by in ("hamlet", "team", "day")}


def _database_text(server: Any) -> str:
    """SQLite: the bytes of the database file and its WAL, as text. PostgreSQL: every text
    column of every table, as the server would read them."""
    if server.backend == "sqlite":
        path = Path(server.db_url.removeprefix("sqlite:///"))
        data = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                                    if path.with_name(path.name + "-wal").exists() else b"")
        return data.decode("utf-8", errors="replace")
    out = []
    with engine_for(server).connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                out.extend(str(v) for v in row)
    return "\n".join(out)


@dataclass
class Purged:
    before: dict[str, Any]  # totals by commune, then by hamlet/team/day
    progress: dict[str, Any]
    text_before: str
    dry: Any  # CliRun
    text_after_dry: str
    done: Any
    second: Any
    audit_after_first: int


@pytest.fixture(scope="module")
def purged(server: Any, purgeable: Purgeable) -> Purged:
    world = purgeable.world
    before = {WARD: _totals(world.admin, WARD), RURAL: _totals(world.admin, RURAL)}
    progress = ok(world.admin.get("/api/v1/progress", commune=WARD))
    assert run_cli(server, "recount").returncode == 0
    text_before = _database_text(server)
    dry = run_cli(server, "purge", "--dry-run")
    text_after_dry = _database_text(server)
    assert world.officer.get("/api/v1/sync/receipt").status_code == 200  # a dry run retires nobody
    done = run_cli(server, "purge")
    audit_after_first = len(audit_rows(server, "retention.purge"))
    second = run_cli(server, "purge")
    return Purged(before, progress, text_before, dry, text_after_dry, done, second, audit_after_first)


def test_a_dry_run_changes_nothing(purged: Purged) -> None:
    assert all(s in purged.text_before for s in WARD_SECRETS + RURAL_KEPT)  # the check sees them while there
    assert NEVER_STORED not in purged.text_before
    assert purged.dry.returncode == 0 and f"would purge {WARD}" in purged.dry.stdout, purged.dry
    assert RURAL not in purged.dry.stdout
    assert all(s in purged.text_after_dry for s in WARD_SECRETS)


def test_totals_are_unchanged_and_a_recount_agrees(server: Any, purgeable: Purgeable, purged: Purged) -> None:
    assert purged.done.returncode == 0 and f"purged {WARD}" in purged.done.stdout, purged.done
    fresh_admin = server.enroll("admin")
    assert _totals(fresh_admin, WARD) == purged.before[WARD]
    assert _totals(fresh_admin, RURAL) == purged.before[RURAL]
    again = ok(fresh_admin.get("/api/v1/progress", commune=WARD))
    keys = ("households", "visited", "revisit", "people", "eid_active", "chip_card", "days")
    assert {k: again[k] for k in keys} == {k: purged.progress[k] for k in keys}
    recount = run_cli(server, "recount")
    assert recount.returncode == 0, recount.stdout


def test_no_personal_field_remains_in_the_database(server: Any, purged: Purged) -> None:
    """SQLite: the database file's own bytes (the purge VACUUMs and truncates the WAL);
    PostgreSQL: every row of every table."""
    text = _database_text(server)
    for secret in WARD_SECRETS:
        assert secret not in text, f"{secret!r} is still in the database"
    for kept in RURAL_KEPT:
        assert kept in text, kept


def test_the_state_and_the_log_are_generic(server: Any, purgeable: Purgeable, purged: Purged) -> None:
    with engine_for(server).connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t.entities).where(t.entities.c.commune == WARD))}
        quarantined = conn.execute(select(t.events.c.body, t.events.c.reason).where(
            t.events.c.status == "quarantined", t.events.c.device_id == purgeable.world.volunteer.id)).all()
    bodies = {i: json.loads(r.body)["data"] for i, r in rows.items()}
    people = [d for i, d in bodies.items() if rows[i].type == "person"]
    assert people and all(GENERIC_LABEL.match(d["label"]) for d in people)
    assert bodies[purgeable.riêng]["label"] in ("Người 1", "Người 2") and bodies[purgeable.riêng]["card"] == "none"
    assert all(d["address"] == "(đã xoá)" for i, d in bodies.items() if rows[i].type == "household")
    assert bodies[purgeable.visit]["note"] == "" and bodies[purgeable.visit]["review_comment"] == "(đã xoá)"
    assert bodies[purgeable.visit]["review"] == "returned"  # what was decided stays, not what was said
    # a refused event never kept its data, nor more of its reason than the code (issue #12, M2)
    assert quarantined and all("data" not in json.loads(b) and r == "consent_declined" for b, r in quarantined)
    # every rewritten event still passes the wire's own validation, and is canonical
    with engine_for(server).connect() as conn:
        applied = conn.execute(select(t.events.c.body).where(
            t.events.c.commune == WARD, t.events.c.status == "applied")).scalars().all()
    for body in applied:
        check_event(json.loads(body))
        assert canonical(json.loads(body)) == body


def test_the_commune_s_devices_are_told_purged(server: Any, purgeable: Purgeable, purged: Purged) -> None:
    world = purgeable.world
    for device in (world.volunteer, world.leader, world.officer, world.volunteer_b, world.admin):
        answer = device.get("/api/v1/sync/pull")
        assert answer.status_code == 410 and answer.json()["error"] == "purged", answer.text
        assert answer.json()["commune"] == WARD and answer.json()["purged_at"]
        assert device.push([]).json()["error"] == "purged"
    assert world.other_officer.get("/api/v1/sync/receipt").status_code == 200


def test_the_purge_is_on_the_record(server: Any, purgeable: Purgeable, purged: Purged) -> None:
    world = purgeable.world
    [row] = audit_rows(server, "retention.purge")
    detail = json.loads(row.detail)
    assert row.commune == WARD and detail["events"] > 0 and detail["entities"] > 0 and detail["conflicts"] == 1
    assert detail["quarantined"] == 0  # nothing left to cut: ingest kept no data (issue #12, M2)
    assert world.volunteer.id in detail["devices"] and world.other_officer.id not in detail["devices"]
    entries = ok(server.enroll("officer", commune=WARD).get("/api/v1/audit", commune=WARD))["entries"]
    assert "retention.purge" in [e["action"] for e in entries]


def test_a_second_run_changes_nothing(purged: Purged) -> None:
    assert purged.second.returncode == 0, purged.second
    assert "0 entities, 0 events, 0 quarantined, 0 conflicts, 0 imports, 0 devices retired" in purged.second.stdout
    assert purged.audit_after_first == 1


def test_a_device_enrolled_afterwards_pulls_the_purged_log(server: Any, purgeable: Purgeable, purged: Purged) -> None:
    newcomer = server.enroll("volunteer", hamlets=(purgeable.world.hamlet_a,))
    events = newcomer.pull_all()
    labels = [e["data"]["label"] for e in events if e["kind"] in ("person.added", "person.updated")
              and "label" in e["data"]]
    assert labels and all(GENERIC_LABEL.match(label) for label in labels)
    assert all(e["data"]["address"] == "(đã xoá)" for e in events if e["kind"] == "household.created")
    assert ok(newcomer.get("/api/v1/sync/receipt"))["acked_seq"] == 0


def test_purge_by_commune_says_when_it_is_not_due(server: Any, purged: Purged) -> None:
    answer = run_cli(server, "purge", "--commune", RURAL)
    assert answer.returncode == 1 and "not due" in answer.stdout
    assert run_cli(server, "purge", "--commune", "10526").returncode == 2
