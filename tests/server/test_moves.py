"""A household moved between hamlets reaches both: the hamlet it left pulls the move once (its
devices then drop it), and the hamlet it joined pulls it with its whole history (docs/sync.md,
"Households that move"), on every pull guarantee: cursor order, pages, continuous pullers,
scopes with hamlets and communes, moves across communes."""
from __future__ import annotations

from typing import Any

from campaign.ids import uuid7
from sync_server.services import team as teams
from sync_server.store.db import write_transaction

from ..support import hamlet_data, household_data, person_data

OTHER_COMMUNE = "10813"


def _pull_pages(device, after: int = 0, limit: int = 500) -> tuple[list[dict[str, Any]], int]:  # type: ignore[no-untyped-def]
    """Every page from `after`, as a device walks them; checks `next` on each. (events, cursor reached)"""
    out: list[dict[str, Any]] = []
    while True:
        page = device.get("/api/v1/sync/pull", after=after, limit=limit).json()
        if page["events"]:
            assert page["next"] == page["events"][-1]["cursor"] > after
        assert len({e["cursor"] for e in page["events"]}) == len(page["events"]), "an event twice in a page"
        out += page["events"]
        after = page["next"]
        if not page["more"]:
            return out, after


class Village:
    """Hamlets A and B of one commune, C of another; a team (and its leader) over A and B;
    one volunteer in A, one in B; a household in A with two people, a visit and an update."""

    def __init__(self, server, admin) -> None:  # type: ignore[no-untyped-def]
        self.server, self.admin = server, admin
        self.a, self.b, self.c = uuid7(), uuid7(), uuid7()
        answer = admin.push([admin.event("hamlet.created", self.a, hamlet_data("Tổ A")),
                             admin.event("hamlet.created", self.b, hamlet_data("Tổ B")),
                             admin.event("hamlet.created", self.c, hamlet_data("Thôn C", OTHER_COMMUNE))])
        assert answer.json()["quarantined"] == []
        team = f"t-{uuid7()[-8:]}"
        with write_transaction(server.engine) as conn:
            teams.create_team(conn, team, "Tổ 1", "10525", [self.a, self.b])
        self.leader = server.enroll("leader", team=team)
        self.in_a = server.enroll("volunteer", hamlets=(self.a,))
        self.in_b = server.enroll("volunteer", hamlets=(self.b,))
        self.home, self.other = uuid7(), uuid7()
        self.p1, self.p2, self.visit = uuid7(), uuid7(), uuid7()
        v = self.in_a
        answer = v.push([
            v.event("household.created", self.home, household_data(self.a)),
            v.event("person.added", self.p1, person_data(self.home, "An")),
            v.event("person.added", self.p2, person_data(self.home, "Bình", vneid="no_app")),
            v.event("visit.recorded", self.visit, {"household_id": self.home, "outcome": "met",
                                                   "actions": ["l1_help"], "people_helped": [self.p1], "note": ""}),
            v.event("person.updated", self.p2, {"card": "applied_waiting"}),
            v.event("household.created", self.other, household_data(self.a, "Số 99")),
        ])
        assert answer.json()["quarantined"] == [], answer.text
        self.history = {self.home, self.p1, self.p2, self.visit}

    def move(self, who, household: str, hamlet_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        event = who.event("household.updated", household, {"hamlet_id": hamlet_id})
        answer = who.push([event])
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
        return event


def _ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in events]


def test_the_old_hamlet_pulls_the_move_once_and_the_new_one_the_household_with_its_history(server, admin):
    w = Village(server, admin)
    before_a, cursor_a = _pull_pages(w.in_a)  # continuous pullers: caught up before the move
    before_b, cursor_b = _pull_pages(w.in_b)
    assert w.home in {e["entity"] for e in before_a}
    assert not w.history & {e["entity"] for e in before_b}

    move = w.move(w.leader, w.home, w.b)
    later = w.in_b.event("person.added", uuid7(), person_data(w.home, "Cường"))  # B's work from now on
    assert w.in_b.push([later]).json()["quarantined"] == []
    also_a = w.in_a.event("visit.recorded", uuid7(), {"household_id": w.other, "outcome": "not_home",
                                                      "actions": [], "people_helped": [], "note": ""})
    assert w.in_a.push([also_a]).json()["quarantined"] == []

    # A: the move, once, between its own events, and nothing of the household after it
    new_a, _ = _pull_pages(w.in_a, cursor_a)
    assert _ids(new_a) == [move["id"], also_a["id"]]
    cursors = [e["cursor"] for e in new_a]
    assert cursors == sorted(cursors) and cursors[0] > cursor_a

    # B: the household's history (lower cursors, in order), then the move, then what followed
    new_b, _ = _pull_pages(w.in_b, cursor_b)
    history = new_b[:_ids(new_b).index(move["id"])]
    assert {e["entity"] for e in history} == w.history
    assert [e["kind"] for e in history] == ["household.created", "person.added", "person.added",
                                            "visit.recorded", "person.updated"]
    assert [e["cursor"] for e in history] == sorted(e["cursor"] for e in history)
    assert _ids(new_b)[len(history):] == [move["id"], later["id"]]
    assert w.other not in {e["entity"] for e in new_b}

    # A device pulling from the start sees the same: the history once, just before the move
    whole_b, _ = _pull_pages(w.in_b)
    assert [e for e in whole_b if e["entity"] in w.history or e["id"] == move["id"]] == [*history, new_b[len(history)]]
    assert len(_ids(whole_b)) == len(set(_ids(whole_b)))
    whole_a, _ = _pull_pages(w.in_a)
    assert _ids(whole_a).count(move["id"]) == 1 and later["id"] not in _ids(whole_a)

    # Pages of any size walk the same events, the history never split from its move
    for device in (w.in_a, w.in_b, w.leader):
        whole, _ = _pull_pages(device)
        for limit in (1, 2, 3):
            assert _pull_pages(device, limit=limit)[0] == whole
        assert len(_ids(whole)) == len(set(_ids(whole)))

    # The leader holds both hamlets: the move once, no history again
    leader_all, _ = _pull_pages(w.leader)
    assert _ids(leader_all).count(move["id"]) == 1
    assert [e["cursor"] for e in leader_all] == sorted(e["cursor"] for e in leader_all)


def test_a_move_to_another_commune_reaches_both_officers(server, admin):
    w = Village(server, admin)
    officer_here = server.enroll("officer", commune="10525")
    officer_there = server.enroll("officer", commune=OTHER_COMMUNE)
    _, here_cursor = _pull_pages(officer_here)
    _, there_cursor = _pull_pages(officer_there)

    move = w.move(admin, w.home, w.c)  # only an admin holds both communes

    here, _ = _pull_pages(officer_here, here_cursor)
    assert _ids(here) == [move["id"]]
    there, _ = _pull_pages(officer_there, there_cursor)
    assert {e["entity"] for e in there[:-1]} == w.history and there[-1]["id"] == move["id"]
    for officer in (officer_here, officer_there):
        whole, _ = _pull_pages(officer)
        assert _pull_pages(officer, limit=1)[0] == whole
        assert len(_ids(whole)) == len(set(_ids(whole)))
    assert _ids(_pull_pages(w.in_a, 0)[0]).count(move["id"]) == 1
    # the admin sees everything once, in plain cursor order: no history is ever sent twice
    everything, _ = _pull_pages(admin)
    assert len(_ids(everything)) == len(set(_ids(everything)))
    assert [e["cursor"] for e in everything] == sorted(e["cursor"] for e in everything)


def test_a_household_moved_back_and_forth_comes_back_with_everything(server, admin):
    w = Village(server, admin)
    first = w.move(w.leader, w.home, w.b)
    note = w.in_b.event("visit.recorded", uuid7(), {"household_id": w.home, "outcome": "not_home",
                                                    "actions": [], "people_helped": [], "note": ""})
    assert w.in_b.push([note]).json()["quarantined"] == []
    back = w.move(w.leader, w.home, w.a)
    seen_a, _ = _pull_pages(w.in_a)
    ids = _ids(seen_a)
    # the first move, then, with the move back, everything the household had in B too
    assert ids.count(first["id"]) == 1 and ids.count(back["id"]) == 1
    assert ids.index(first["id"]) < ids.index(note["id"]) < ids.index(back["id"])
    seen_b, _ = _pull_pages(w.in_b)
    assert _ids(seen_b).count(back["id"]) == 1
    assert _pull_pages(w.in_b, limit=1)[0] == seen_b
    # A's devices dropped the household when it left: coming back, it is sent whole again, so
    # small pages repeat in the history what an earlier page held (a device ignores a cursor it
    # holds); the events are the same
    paged, _ = _pull_pages(w.in_a, limit=1)
    assert set(_ids(paged)) == set(ids) and _ids(paged)[-1] == back["id"]
