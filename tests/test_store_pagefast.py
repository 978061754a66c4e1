"""A pulled page applied on top of the stored state (field_app/store/pagefast.py) leaves the store
exactly as a recompute of every unit from its logs would: random histories of three devices, pages
delivered in order, again (duplicates) and out of order, with and without the reader's own
pending events. See docs/device.md ("A page in order")."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from campaign.events import InvalidEvent
from campaign.ids import uuid7
from field_app.store import Store
from tests.store_support import add_hamlet, problems_of, recompute_all, state_of
from tests.test_store import COMMUNE, RefServer, open_store, random_edit


def _deliver(server: RefServer, reader: Store, first: int, last: int) -> None:
    """The server's events first..last as one page, whatever the reader pulled before."""
    events = [{**e, "cursor": c} for c, e in server.log if first <= c <= last]
    if events:
        reader.apply_pulled(events, events[-1]["cursor"])


def _as_from_scratch(reader: Store) -> None:
    """The reader's entities and problems equal a recompute of every unit from its logs."""
    state, problems = state_of(reader), problems_of(reader)
    recompute_all(reader)
    assert state_of(reader) == state
    assert problems_of(reader) == problems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_page_applied_in_order_equals_a_recompute_from_scratch(data):
    with tempfile.TemporaryDirectory() as tmp:
        server = RefServer()
        writers = [open_store(Path(tmp) / name, name) for name in ("dev-a", "dev-b")]
        reader = open_store(Path(tmp) / "dev-c", "dev-c")
        devices = [*writers, reader]
        hamlets = [add_hamlet(writers[0], COMMUNE, f"Thôn {n}", "thon", "2025-07-01") for n in (1, 2)]
        household = writers[0].add_household(hamlets[0], "Số 1", "given")
        writers[0].add_person(household, "Nguyễn An", 1960)
        for d in devices:
            server.sync(d)
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            step = data.draw(st.sampled_from(["edit", "edit", "edit", "clash", "push", "pull", "pull", "again", "gap", "gap"]),
                              label="step")
            if step == "clash":  # devices change the same field of a person they hold: the order decides
                shared = sorted(set(state_of(reader)) & set(state_of(writers[0])) & set(state_of(writers[1])))
                people = [i for i in shared if state_of(reader)[i]["type"] == "person"]
                if people:
                    person = data.draw(st.sampled_from(people), label="person")
                    cards = data.draw(st.permutations(["none", "cccd_chip", "can_cuoc"]), label="cards")
                    for d, card in zip(devices, cards, strict=True):
                        if data.draw(st.booleans(), label="changes"):
                            d.update_person(person, card=card)
            elif step == "edit":
                d = data.draw(st.sampled_from(devices), label="device")
                with contextlib.suppress(InvalidEvent):  # refused on the spot: nothing written
                    random_edit(data, d, hamlets)
            elif step == "push":
                server.push(data.draw(st.sampled_from(devices), label="pusher"), limit=data.draw(st.integers(1, 5)))
            else:
                for _ in range(data.draw(st.integers(0, 4), label="teammates' edits")):
                    with contextlib.suppress(InvalidEvent):
                        random_edit(data, data.draw(st.sampled_from(writers), label="teammate"), hamlets)
                for d in writers:  # the others' work reaches the server
                    server.push(d)
                if data.draw(st.booleans(), label="reader sends first"):  # else its pending work stays on top
                    server.push(reader)
                after, size = reader.pull_cursor, data.draw(st.integers(1, 6), label="page")
                if step == "pull":
                    _deliver(server, reader, after + 1, after + size)
                elif step == "again":  # a page pulled before, pulled again (a retry after a lost answer)
                    _deliver(server, reader, max(1, after - size + 1), after + size)
                else:  # what is new, split in two: the later part first, then the one before it
                    last = len(server.log)
                    _deliver(server, reader, min(after + size, last) + 1, last)
                    _deliver(server, reader, after + 1, min(after + size, last))
                note(f"{step}: reader pending {reader.pending_count()}, problems {len(problems_of(reader))}")
                _as_from_scratch(reader)
        for d in devices:
            d.close()


def test_a_teammates_page_is_applied_without_a_replay(tmp_path, monkeypatch):
    """The common case, a teammate's visits and people's changes in held households, takes the
    in-order path: no household is replayed; a household with pending work of this device is."""
    server = RefServer()
    mate, reader = open_store(tmp_path / "mate", "mate"), open_store(tmp_path / "reader", "reader")
    hamlet = add_hamlet(mate, COMMUNE, "Thôn 1", "thon", "2025-07-01")
    homes = [mate.add_household(hamlet, f"Số {n}", "given") for n in (1, 2)]
    people = [mate.add_person(h, "Nguyễn An", 1960) for h in homes]
    for d in (mate, reader, mate, reader):
        server.sync(d)
    replayed: list[set[str]] = []
    real = reader.replay.recompute
    monkeypatch.setattr(reader.replay, "recompute", lambda ids: (replayed.append(set(ids)), real(ids))[1])
    mate.record_visit(homes[0], "met", ["explained"], [people[0]])
    mate.update_person(people[1], vneid="l1_active")
    reader.update_household(homes[1], address="Số 9")  # pending here: that household is replayed
    server.sync(mate)
    server.pull(reader)
    assert replayed == [{homes[1]}]
    _as_from_scratch(reader)
    mate.close()
    reader.close()


def test_a_page_older_than_what_is_stored_is_replayed(tmp_path):
    """Out of order (a later page first): the older page's change goes under the stored one."""
    server = RefServer()
    mate, reader = open_store(tmp_path / "mate", "mate"), open_store(tmp_path / "reader", "reader")
    hamlet = add_hamlet(mate, COMMUNE, "Thôn 1", "thon", "2025-07-01")
    home = mate.add_household(hamlet, "Số 1", "given")
    person = mate.add_person(home, "Nguyễn An", 1960)
    for d in (mate, reader):
        server.sync(d)
    mate.update_person(person, card="none")
    mate.update_person(person, card="cccd_chip")
    server.sync(mate)
    last = len(server.log)
    _deliver(server, reader, last, last)
    _deliver(server, reader, last - 1, last - 1)
    assert state_of(reader)[person]["data"]["card"] == "cccd_chip"
    _as_from_scratch(reader)
    mate.close()
    reader.close()


def test_a_refused_event_of_an_in_order_page_gets_the_problem_a_replay_gives(tmp_path):
    """An event the phone's projection refuses (here a not-home visit that helped people, as an
    older server might have let through) leaves the state as it was and its row's problem is
    the full replay's, word for word."""
    server = RefServer()
    mate, reader = open_store(tmp_path / "mate", "mate"), open_store(tmp_path / "reader", "reader")
    hamlet = add_hamlet(mate, COMMUNE, "Thôn 1", "thon", "2025-07-01")
    home = mate.add_household(hamlet, "Số 1", "given")
    for d in (mate, reader):
        server.sync(d)
    mate.record_visit(home, "met", ["explained"], [])
    server.sync(mate)
    cursor, good = server.log[-1]
    bad = {**good, "id": uuid7(), "entity": uuid7(), "seq": good["seq"] + 1,
           "data": {**good["data"], "outcome": "not_home"}}
    reader.apply_pulled([{**good, "cursor": cursor}, {**bad, "cursor": cursor + 1}], cursor + 1)
    assert [(p["cursor"], p["problem"]) for p in problems_of(reader)] == \
        [(cursor + 1, "a visit with outcome not_home helps nobody: no actions or people")]
    assert bad["entity"] not in state_of(reader)
    _as_from_scratch(reader)
    mate.close()
    reader.close()
