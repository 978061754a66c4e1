"""The receipt proves what the server holds of a device."""
from __future__ import annotations

from campaign import events as ev
from campaign.ids import uuid7

from ..support import household_data, person_data


def test_receipt_digest_is_the_canonical_log_in_seq_order(server, hamlet):
    volunteer = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    events = [volunteer.event("household.created", household, household_data(hamlet)),
              volunteer.event("person.added", uuid7(), person_data(household, vneid="nope")),
              volunteer.event("person.added", uuid7(), person_data(household))]
    assert volunteer.push(events).status_code == 200
    receipt = volunteer.get("/api/v1/sync/receipt").json()
    assert receipt["acked_seq"] == 3
    assert receipt["counts"] == {"household.created": 1, "person.added": 2}  # quarantined included
    # a quarantined event counts as the record the server keeps of it (issue #12, M2)
    assert receipt["digest"] == ev.digest([ev.canonical(events[0]), ev.quarantine_line(ev.canonical(events[1])),
                                           ev.canonical(events[2])])


def test_empty_receipt(server):
    volunteer = server.enroll("volunteer", hamlets=(uuid7(),))
    assert volunteer.get("/api/v1/sync/receipt").json() == {
        "acked_seq": 0, "counts": {}, "digest": ev.digest([])}
