"""Push: exactly once per (device, seq), in order, quarantine without blocking."""
from __future__ import annotations

import gzip
import json
import threading
from unittest.mock import ANY

import httpx
import pytest

from campaign.ids import uuid7

from ..support import household_data, person_data


def test_push_acknowledges_in_order_and_is_idempotent(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household, person = uuid7(), uuid7()
    batch = [volunteer.event("household.created", household, household_data(hamlet)),
             volunteer.event("person.added", person, person_data(household))]
    first = volunteer.push(batch)
    assert first.status_code == 200
    assert first.json() == {"acked_seq": 2, "quarantined": [], "cursors": ANY, "caught_up": None,
            "team_settings": None}
    assert [seq for seq, _cursor in first.json()["cursors"]] == [1, 2]
    again = volunteer.push(batch)
    assert again.json() == first.json()  # a retry: the same answer, the same cursors
    receipt = volunteer.get("/api/v1/sync/receipt").json()
    assert receipt["acked_seq"] == 2
    assert receipt["counts"] == {"household.created": 1, "person.added": 1}
    # the volunteer's scope is this fresh hamlet: its creation and the two events, each once
    pulled = [(e["kind"], e["entity"]) for e in volunteer.pull_all()]
    assert pulled == [("hamlet.created", hamlet), ("household.created", household), ("person.added", person)]


def test_gzip_push_equals_plain_push(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    batch = [volunteer.event("household.created", uuid7(), household_data(hamlet))]
    body = gzip.compress(json.dumps({"schema": 1, "events": batch}).encode())
    answer = httpx.post(server.url + "/api/v1/sync/push", content=body,
                        headers={**volunteer.headers, "Content-Encoding": "gzip",
                                 "Content-Type": "application/json"})
    assert answer.json() == {"acked_seq": 1, "quarantined": [], "cursors": ANY, "caught_up": None,
            "team_settings": None}


def test_same_seq_with_other_content_is_409_and_changes_nothing(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    event = volunteer.event("household.created", uuid7(), household_data(hamlet))
    assert volunteer.push([event]).status_code == 200
    before = volunteer.get("/api/v1/sync/receipt").json()
    changed = {**event, "data": {**event["data"], "address": "Số 99 khác"}}
    answer = volunteer.push([changed])
    assert answer.status_code == 409
    assert answer.json()["error"] == "seq_reused"
    assert volunteer.get("/api/v1/sync/receipt").json() == before


def test_gap_stores_what_came_before_and_names_the_expected_seq(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    e1 = volunteer.event("household.created", uuid7(), household_data(hamlet))
    volunteer.event("household.created", uuid7(), household_data(hamlet))  # seq 2: never sent
    e3 = volunteer.event("household.created", uuid7(), household_data(hamlet))
    answer = volunteer.push([e1, e3])
    assert answer.status_code == 409
    assert answer.json()["error"] == "gap"
    assert answer.json()["acked_seq"] == 1
    assert answer.json()["expected_seq"] == 2
    assert volunteer.get("/api/v1/sync/receipt").json()["acked_seq"] == 1


def test_bad_event_is_quarantined_acknowledged_and_does_not_block(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    good1 = volunteer.event("household.created", household, household_data(hamlet))
    bad = volunteer.event("person.added", uuid7(), person_data(household, vneid="level_9"))
    good2 = volunteer.event("person.added", uuid7(), person_data(household))
    answer = volunteer.push([good1, bad, good2]).json()
    assert answer["acked_seq"] == 3
    assert [q["seq"] for q in answer["quarantined"]] == [2]
    assert "vneid" in answer["quarantined"][0]["reason"]
    # a lost answer is retried: the quarantine is reported again, by its code (the server keeps no more)
    assert volunteer.push([good1, bad, good2]).json()["quarantined"] == [{"seq": 2, "reason": "bad_code"}]
    pulled = {e["id"] for e in volunteer.pull_all()}
    assert good2["id"] in pulled and bad["id"] not in pulled
    assert volunteer.get("/api/v1/sync/receipt").json()["counts"]["person.added"] == 2


def test_events_of_another_device_refuse_the_whole_request(server, hamlet):
    a = server.enroll("volunteer", hamlets=(hamlet,))
    b = server.enroll("volunteer", hamlets=(hamlet,))
    mine = a.event("household.created", uuid7(), household_data(hamlet))
    theirs = {**b.event("household.created", uuid7(), household_data(hamlet))}
    answer = a.push([mine, theirs])
    assert answer.status_code == 403
    assert answer.json()["error"] == "wrong_device"
    assert a.get("/api/v1/sync/receipt").json()["acked_seq"] == 0


def test_volunteer_outside_their_hamlet_is_quarantined(server, admin, hamlet):
    other = uuid7()
    from ..support import hamlet_data
    admin.push([admin.event("hamlet.created", other, hamlet_data("Tổ khác"))])
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    answer = volunteer.push([volunteer.event("household.created", uuid7(), household_data(other))]).json()
    assert answer["acked_seq"] == 1
    assert answer["quarantined"][0]["reason"].startswith("forbidden")


def test_volunteer_cannot_review_or_create_hamlets(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    from ..support import hamlet_data
    answer = volunteer.push([volunteer.event("hamlet.created", uuid7(), hamlet_data("Tổ mới"))]).json()
    assert answer["quarantined"][0]["reason"].startswith("forbidden")


def test_concurrent_identical_pushes_store_each_event_once(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    households = [uuid7() for _ in range(60)]
    batch = [volunteer.event("household.created", h, household_data(hamlet, f"Số {i}"))
             for i, h in enumerate(households)]
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(volunteer.push(batch))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(a.status_code == 200 and a.json()["acked_seq"] == 60 for a in answers)
    receipt = volunteer.get("/api/v1/sync/receipt").json()
    assert receipt["counts"] == {"household.created": 60}
    ids = [e["entity"] for e in volunteer.pull_all() if e["device_id"] == volunteer.id]
    assert sorted(ids) == sorted(households)


@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf8", "u_escapes"])
def test_nfd_text_is_stored_nfc(server, hamlet, ascii_only):
    # Both spellings of JSON text: the server skips normalising a body whose text is NFC,
    # and NFD spelled as \u escapes is ASCII (so NFC) text: it must still be normalised.
    import unicodedata
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    nfd = unicodedata.normalize("NFD", "Số 3, phố Nguyễn Trãi")
    event = volunteer.event("household.created", uuid7(), household_data(hamlet, nfd))
    body = json.dumps({"schema": 1, "events": [event]}, ensure_ascii=ascii_only).encode()
    assert (b"\\u" in body) == ascii_only
    answer = httpx.post(server.url + "/api/v1/sync/push", content=body,
                        headers={**volunteer.headers, "Content-Type": "application/json"})
    assert answer.json()["quarantined"] == []
    stored = next(e for e in volunteer.pull_all() if e["id"] == event["id"])
    assert stored["data"]["address"] == unicodedata.normalize("NFC", nfd)
    # the NFD spelling of the same event is the same content: a retry, not a conflict
    assert volunteer.push([event]).status_code == 200
