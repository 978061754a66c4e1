"""Property (issue #15, "leader bundles"): two volunteers' phones that sync directly, send their
visits up in sealed bundles their leader uploads, and get the server's changes down in sealed
bundles their leader carries to them, in any mix (bundles delayed, duplicated, reordered, lost and
tampered, both ways), end exactly where direct sync alone ends: every phone holds the server's
state, every visit is held once, receipts agree, totals equal a recount. Along the way a phone's
pull cursor never moves backwards and a tampered bundle changes nothing.

The server is the real application on a SQLite file, reached in-process (tests/test_convergence.py
does the same with a faulty network); the phones are real stores enrolled the way the app enrols
(so each registers its signing and box keys), and bundles go through the real routes.
"""
from __future__ import annotations

import contextlib
import random
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign import relay as fmt
from field_app import relay
from field_app.net.sync import SyncClient
from field_app.store import Store
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.services import team as teams
from sync_server.store.db import make_engine, write_transaction

from .store_support import add_hamlet, state_of
from .support import migrated_sqlite
from .test_convergence import World, _edit, assert_converged

DOWN_PAGE = 2  # small pages: a phone's changes take several bundles, which then come out of order


class RelayWorld(World):
    """Two volunteers (0, 1) and their leader (2), who carries bundles both ways."""

    def __init__(self, root: Path) -> None:  # World's, without the faulty links: the bundles are the faults
        self.engine = make_engine(migrated_sqlite(root / "server.db"))
        self.app = create_app(Settings(database_url="unused", public_url="http://testserver"), self.engine)
        self.crash = {"on": False}
        self.http = TestClient(self.app, raise_server_exceptions=False)
        with write_transaction(self.engine) as conn:
            teams.create_team(conn, "t1", "Tổ 1", "10525", [])
        admin = self._enrol("admin", root / "admin")
        self.hamlet = add_hamlet(admin, "10525", "Tổ dân phố 7", "to_dan_pho", "2025-07-01")
        SyncClient(admin, client=self.http).sync_once()
        admin.close()
        with write_transaction(self.engine) as conn:
            teams.add_team_hamlets(conn, "t1", [self.hamlet])
        self.stores = [self._enrol(role, root / f"d{i}") for i, role in enumerate(("volunteer", "volunteer", "leader"))]
        self.clients = [SyncClient(store, client=self.http) for store in self.stores]
        for client in self.clients:
            client.sync_once()
        for n in range(3):  # work phone 1 has not pulled yet: its bundles come in several pages
            _edit(self.stores[0], self.hamlet, "household", random.Random(n))
        self.clients[0].sync_once()
        self.up: list[bytes] = []  # up bundles in the leader's hands
        self.down: list[tuple[int, bytes]] = []  # down bundles (for phone i) in the leader's hands
        self.receipts: list[tuple[int, bytes]] = []  # receipts on their way back to phone i
        self.next_after: dict[int, int] = {}  # where the leader's next bundle for phone i starts ("more")

    def leader_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stores[2].token}"}

    def sync(self, i: int, faults: list[str] | None = None) -> None:
        self.clients[i].sync_once()

    def heal(self) -> None:
        for _round in range(3):
            for client in self.clients:
                client.sync_once()


def _state(store: Store) -> tuple[Any, ...]:
    return state_of(store), store.pull_cursor, store.acked_seq, store.pending_count()


def _flip(raw: bytes, seed: int) -> bytes:
    bits = bytearray(raw)
    bits[seed % len(raw)] ^= 1 << (seed // len(raw) % 8)
    return bytes(bits)


def _up(world: RelayWorld, i: int) -> None:
    with contextlib.suppress(relay.RelayUnavailable):
        raw = relay.make_bundle(world.stores[i])
        if raw is not None:
            world.up.append(raw)


def _carry_up(world: RelayWorld, pick: int, keep: bool, tamper: int | None) -> None:
    raw = world.up[pick % len(world.up)]
    if not keep:
        world.up.remove(raw)
    sent = raw if tamper is None else _flip(raw, tamper)
    before = world.server_state()
    answer = world.http.post("/api/v1/sync/relay", content=sent,
                             headers={**world.leader_headers(), "Content-Type": "application/octet-stream"})
    if tamper is not None or answer.status_code != 200:
        assert tamper is not None or answer.json()["error"] == "gap", answer.text
        assert answer.status_code >= 400, "a tampered bundle was taken"
        assert world.server_state() == before  # refused whole
        return
    origin = next(i for i, s in enumerate(world.stores) if s.device_id == answer.json()["device_id"])
    world.receipts.append((origin, fmt.canonical(answer.json()["receipt"])))


def _make_down(world: RelayWorld, i: int, chained: bool) -> None:
    """The leader asks for phone i's bundle: from where the server knows the phone stands, or
    (chained) from where the leader's last bundle for it ended, as when the server said "more"."""
    params: dict[str, Any] = {"device": world.stores[i].device_id, "limit": DOWN_PAGE}
    if chained and i in world.next_after:
        params["after"] = world.next_after[i]
    answer = world.http.get("/api/v1/sync/relay-down", params=params, headers=world.leader_headers())
    assert answer.status_code == 200, answer.text
    world.next_after[i] = int(answer.headers["X-Gocua-Next"])
    world.down.append((i, answer.content))


def _carry_down(world: RelayWorld, pick: int, keep: bool, tamper: int | None, wrong: bool) -> None:
    i, raw = world.down[pick % len(world.down)]
    if not keep:
        world.down.remove((i, raw))
    target = 1 - i if wrong else i  # handed to the other volunteer's phone by mistake
    store = world.stores[target]
    before = _state(store)
    try:
        done = relay.accept_down(store, raw if tamper is None else _flip(raw, tamper))
    except relay.TooNew:  # an earlier bundle was lost: nothing applied, the phone's sync fills it
        assert tamper is None and not wrong
        assert _state(store) == before
        return
    except fmt.BadFile:
        assert tamper is not None or wrong, "a good bundle was refused"
        assert _state(store) == before  # refused whole
        return
    assert tamper is None and not wrong, "a tampered bundle, or another phone's, was taken"
    assert store.pull_cursor >= before[1]  # forward only
    assert done.fresh == (store.pull_cursor > before[1])


def _receipt(world: RelayWorld, pick: int) -> None:
    i, raw = world.receipts.pop(pick % len(world.receipts))
    relay.accept_receipt(world.stores[i], raw)


make_down = st.tuples(st.just("make_down"), st.integers(0, 1), st.sampled_from([True, True, False]))  # chained: "more"
carry_down = st.tuples(st.just("carry_down"), st.integers(0, 9), st.booleans(), st.none() | st.integers(0, 10**6),
                       st.booleans())
step = st.one_of(  # the down road drawn more often: its faults need a few bundles in hand
    make_down, make_down, carry_down, carry_down,
    st.tuples(st.just("work"), st.integers(0, 1), st.integers(0, 2**32 - 1)),  # an edit, synced at once
    st.tuples(st.just("edit"), st.integers(0, 1), st.sampled_from(["household", "person", "update", "visit"]),
              st.integers(0, 2**32 - 1)),
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(st.just("up"), st.integers(0, 1)),
    st.tuples(st.just("carry_up"), st.integers(0, 9), st.booleans(), st.none() | st.integers(0, 10**6)),
    st.tuples(st.just("lose_up"), st.integers(0, 9)),
    st.tuples(st.just("receipt"), st.integers(0, 9)),
    st.tuples(st.just("lose_down"), st.integers(0, 9)),
    st.tuples(st.just("lose_down"), st.integers(0, 9)),
)


def run(world: RelayWorld, steps: list[tuple[Any, ...]]) -> None:
    from campaign.events import InvalidEvent

    for op in steps:
        cursors = [s.pull_cursor for s in world.stores]
        if op[0] == "edit":
            with contextlib.suppress(InvalidEvent):
                _edit(world.stores[op[1]], world.hamlet, op[2], random.Random(op[3]))
        elif op[0] == "work":
            with contextlib.suppress(InvalidEvent):
                _edit(world.stores[op[1]], world.hamlet, "household", random.Random(op[2]))
            world.sync(op[1])
        elif op[0] == "sync":
            world.sync(op[1])
        elif op[0] == "up":
            _up(world, op[1])
        elif op[0] == "carry_up" and world.up:
            _carry_up(world, op[1], op[2], op[3])
        elif op[0] == "lose_up" and world.up:
            world.up.pop(op[1] % len(world.up))
        elif op[0] == "receipt" and world.receipts:
            _receipt(world, op[1])
        elif op[0] == "make_down":
            _make_down(world, op[1], op[2])
        elif op[0] == "carry_down" and world.down:
            _carry_down(world, op[1], op[2], op[3], op[4])
        elif op[0] == "lose_down" and world.down:
            world.down.pop(op[1] % len(world.down))
        assert all(s.pull_cursor >= c for s, c in zip(world.stores, cursors, strict=True)), "a cursor went back"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=5, max_size=30))
def test_leader_bundles_both_ways_converge_like_direct_sync(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = RelayWorld(Path(tmp))
        try:
            run(world, steps)
            for _ in range(2):  # what is left in the leader's hands arrives late: still harmless
                for i, raw in list(world.down):
                    with contextlib.suppress(relay.TooNew):
                        relay.accept_down(world.stores[i], raw)
            world.heal()
            assert_converged(world)
        finally:
            world.close()


def test_a_bundle_after_a_lost_one_is_refused_and_the_phone_s_sync_fills_the_gap(tmp_path: Path) -> None:
    world = RelayWorld(tmp_path)
    try:
        phone = world.stores[1]
        _make_down(world, 1, chained=True)  # lost on the way
        _make_down(world, 1, chained=True)
        before = _state(phone)
        try:
            relay.accept_down(phone, world.down[1][1])
            raise AssertionError("a bundle starting past the phone's cursor was applied")
        except relay.TooNew:
            pass
        assert _state(phone) == before
        world.sync(1)
        assert state_of(phone) == world.server_state()
    finally:
        world.close()


def test_a_chain_of_down_bundles_brings_a_phone_what_its_pull_would(tmp_path: Path) -> None:
    """Without any direct pull: the leader's bundles alone (made in a chain, applied in order)
    bring the phone exactly the server's state; applied again, or an old one, nothing changes."""
    world = RelayWorld(tmp_path)
    try:
        for n in range(4):
            _edit(world.stores[0], world.hamlet, "household" if n % 2 == 0 else "person", random.Random(n))
        world.sync(0)
        phone = world.stores[1]
        made = []
        for _ in range(10):
            _make_down(world, 1, chained=True)
            made.append(world.down[-1][1])
            if relay.accept_down(phone, made[-1]).more is False:
                break
        assert state_of(phone) == world.server_state()
        settled = _state(phone)
        for raw in made:  # replayed, stale: harmless
            assert relay.accept_down(phone, raw).fresh is False
        assert _state(phone) == settled
    finally:
        world.close()


def test_every_single_bit_flip_of_a_down_bundle_is_refused() -> None:
    from field_app.relay import new_box_key, new_sign_key, open_down
    from sync_server.services.relay_down import seal_down
    from tests.support import household_data

    box, server = new_box_key(), new_sign_key()  # an Ed25519 pair stands for the server's
    event = {"id": "01900000-0000-7000-8000-000000000009", "device_id": "other", "seq": 1, "cursor": 7,
             "kind": "household.created", "entity": "01900000-0000-7000-8000-000000000008", "base": None,
             "at": "2026-11-20T09:00:00+07:00", "schema": 1, "data": household_data("h", "Số 7")}
    raw = seal_down({"after": 0, "next": 7, "more": False, "events": [event]}, "phone", box.public, server.private)
    assert open_down(raw, server.public, "phone", box.private).events == [event]
    taken = []
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            open_down(bytes(flipped), server.public, "phone", box.private)
            taken.append(bit)
        except fmt.BadFile:
            pass
    assert taken == []
