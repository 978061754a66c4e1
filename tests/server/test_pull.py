"""Pull: in cursor order, only the device's scope, paged and resumable."""
from __future__ import annotations

from campaign.ids import uuid7

from ..support import hamlet_data, household_data


def _two_hamlets(admin):  # type: ignore[no-untyped-def]
    a, b = uuid7(), uuid7()
    admin.push([admin.event("hamlet.created", a, hamlet_data("Tổ A")),
                admin.event("hamlet.created", b, hamlet_data("Tổ B"))])
    return a, b


def test_pull_is_scoped_to_the_volunteers_hamlets(server, admin):
    a, b = _two_hamlets(admin)
    in_a = server.enroll("volunteer", hamlets=(a,))
    in_b = server.enroll("volunteer", hamlets=(b,))
    in_a.push([in_a.event("household.created", uuid7(), household_data(a))])
    in_b.push([in_b.event("household.created", uuid7(), household_data(b))])
    seen_by_a = in_a.pull_all()
    assert {e["entity"] for e in seen_by_a if e["kind"] == "hamlet.created"} == {a}
    assert all(e["data"].get("hamlet_id", e["entity"]) == a for e in seen_by_a)
    officer = server.enroll("officer", commune="10525")
    seen_by_officer = {e["entity"] for e in officer.pull_all()}
    assert {a, b} <= seen_by_officer
    other_officer = server.enroll("officer", commune="10813")
    assert not {a, b} & {e["entity"] for e in other_officer.pull_all()}


def test_team_scope_follows_the_team(server, admin):
    a, _b = _two_hamlets(admin)
    from ..support import cli
    team = f"t-{uuid7()[-8:]}"
    cli(server.db_url, "team", team, "--name", "Tổ 1", "--commune", "10525", "--hamlet", a)
    leader = server.enroll("leader", team=team)
    volunteer = server.enroll("volunteer", team=team)
    hamlets_seen = {e["entity"] for e in leader.pull_all() if e["kind"] == "hamlet.created"}
    assert hamlets_seen == {a}
    assert {e["entity"] for e in volunteer.pull_all() if e["kind"] == "hamlet.created"} == {a}


def test_pages_resume_from_next_and_cursors_increase(server, admin, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    volunteer.push([volunteer.event("household.created", uuid7(), household_data(hamlet, f"Số {i}"))
                    for i in range(25)])
    whole = volunteer.pull_all(limit=1000)
    paged, after, pages = [], 0, 0
    while True:
        page = volunteer.get("/api/v1/sync/pull", after=after, limit=7).json()
        pages += 1
        paged += page["events"]
        assert page["next"] == (page["events"][-1]["cursor"] if page["events"] else after)
        after = page["next"]
        if not page["more"]:
            break
    assert paged == whole
    assert pages == len(whole) // 7 + 1
    cursors = [e["cursor"] for e in whole]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    # a page asked for again gives the same events: a broken pull just resumes
    assert volunteer.get("/api/v1/sync/pull", after=cursors[3], limit=5).json()["events"] == whole[4:9]


def test_pull_limit_is_bounded(server, admin):
    answer = admin.get("/api/v1/sync/pull", after=0, limit=100000)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_request"


def test_a_push_names_the_cursors_and_a_pull_with_mine_leaves_them_out(server, admin, hamlet):
    """Issue #16 item 3: the push answer names where the log holds each applied event (again
    on a retry), and `mine` leaves the device's own events out of its pull; the last page
    resumes past them, so they are not walked again."""
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    other = server.enroll("volunteer", hamlets=(hamlet,))
    households = [uuid7(), uuid7()]
    batch = [volunteer.event("household.created", h, household_data(hamlet)) for h in households]
    batch.append(volunteer.event("household.created", uuid7(), household_data(uuid7())))  # quarantined: no cursor
    answer = volunteer.push(batch).json()
    assert [seq for seq, _ in answer["cursors"]] == [1, 2] and [q["seq"] for q in answer["quarantined"]] == [3]
    assert volunteer.push(batch).json()["cursors"] == answer["cursors"]  # a retry names them again
    theirs = other.event("household.updated", households[0], {"address": "Số 7"})
    assert other.push([theirs]).status_code == 200
    everything = volunteer.pull_all()
    assert [e["cursor"] for e in everything if e["device_id"] == volunteer.id] == [c for _, c in answer["cursors"]]
    page = volunteer.get("/api/v1/sync/pull", after=0, limit=500, mine=3).json()
    assert volunteer.id not in {e["device_id"] for e in page["events"]}
    assert theirs["id"] in {e["id"] for e in page["events"]}
    assert page["more"] is False and page["next"] == max(e["cursor"] for e in everything)
    again = volunteer.get("/api/v1/sync/pull", after=0, limit=500, mine=1).json()  # only seq 1 filed
    assert [e["seq"] for e in again["events"] if e["device_id"] == volunteer.id] == [2]
    mine_last = volunteer.event("household.updated", households[1], {"address": "Số 9"})
    cursor = volunteer.push([mine_last]).json()["cursors"][0][1]
    tail = volunteer.get("/api/v1/sync/pull", after=page["next"], limit=500, mine=4).json()
    assert tail == {"events": [], "next": cursor, "more": False,  # past its own event at the end
                    "team_settings": {"sample_every": 10, "lapse_days": 5}}  # the last page carries them


def test_a_last_push_says_when_nothing_else_is_new(server, admin, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    other = server.enroll("volunteer", hamlets=(hamlet,))
    cursor = volunteer.pull_all()[-1]["cursor"]
    household = uuid7()
    answer = volunteer.push([volunteer.event("household.created", household, household_data(hamlet))],
                            params={"after": cursor, "mine": 1}).json()
    assert answer["caught_up"] == answer["cursors"][0][1]  # only its own event is new: no pull needed
    assert volunteer.push([], params={"after": cursor, "mine": 0}).json()["caught_up"] is None  # its own is news
    other.push([other.event("household.updated", household, {"address": "Số 3"})])
    answer = volunteer.push([volunteer.event("household.updated", household, {"consent": "declined"})],
                            params={"after": answer["caught_up"], "mine": 2}).json()
    assert answer["caught_up"] is None  # another device's event is new to it
    assert volunteer.push([]).json()["caught_up"] is None  # not asked
