"""Property (issue #15): any mix of direct syncs and relayed bundles (delayed, duplicated,
reordered, lost, tampered) leaves the server exactly as direct sync alone would; totals equal a
recount; a tampered bundle changes nothing; receipts agree with what the server holds."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from campaign import relay as fmt
from campaign.ids import uuid7
from field_app.relay import new_sign_key, read_receipt, seal_bundle
from sync_server.services import enrolment, ingest, recount, relay
from sync_server.services.errors import ServiceError
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction
from sync_server.store.devices import Scope

from .support import hamlet_data, household_data, person_data, wire_event

AT = "2026-11-20T09:00:00+07:00"
HAMLET = "01900000-0000-7000-8000-000000000001"
HAMLET_EVENT = "01900000-0000-7000-8000-000000000002"


def _history(device_id: str, n: int) -> list[dict[str, Any]]:
    """n households with a person each; every third person is refused (quarantined) by the rules."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        household = uuid7()
        person = {**person_data(household, f"Người {i}"), **({"phone": "0912"} if i % 3 == 2 else {})}
        events += [wire_event(device_id, len(events) + 1, "household.created", household,
                              household_data(HAMLET, f"Số {i}"), at=AT),
                   wire_event(device_id, len(events) + 2, "person.added", uuid7(), person, at=AT)]
    return events


def _server(path: Path) -> tuple[Engine, Any, str, relay.ServerKeys, str]:
    engine = make_engine(f"sqlite:///{path}")
    t.metadata.create_all(engine)
    with write_transaction(engine) as conn:
        admin = enrolment.enrol(conn, enrolment.create_enrolment(conn, "admin").code).device
        ingest.push(conn, admin, Scope(hamlets=None),
                    [{**wire_event(admin.id, 1, "hamlet.created", HAMLET, hamlet_data("Tổ 1"), at=AT),
                      "id": HAMLET_EVENT}])
        phone = enrolment.enrol(conn, enrolment.create_enrolment(conn, "volunteer", hamlets=[HAMLET]).code).device
        key = new_sign_key()
        relay.register_key(conn, phone.id, key.public)
        keys = relay.ensure_keys(conn)
    return engine, phone, key.private, keys, admin.id


def _state(engine: Engine, device_id: str) -> tuple[Any, ...]:
    with read_transaction(engine) as conn:
        log = conn.execute(select(t.events.c.seq, t.events.c.status, t.events.c.body)
                           .where(t.events.c.device_id == device_id).order_by(t.events.c.seq)).all()
        entities = conn.execute(select(t.entities.c.id, t.entities.c.body).order_by(t.entities.c.id)).all()
        totals = conn.execute(select(t.totals.c.hamlet_id, t.totals.c.day, t.totals.c.metric, t.totals.c.n)
                              .where(t.totals.c.n != 0).order_by(t.totals.c.hamlet_id, t.totals.c.day,
                                                                  t.totals.c.metric)).all()
        assert recount.recount(conn) == []
    return [tuple(r) for r in log], [tuple(r) for r in entities], [tuple(r) for r in totals]


def _rebase(events: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
    return [{**e, "device_id": device_id} for e in events]


step = st.one_of(
    st.tuples(st.just("sync"), st.integers(1, 4)),
    st.tuples(st.just("bundle"), st.integers(1, 6)),
    st.tuples(st.just("deliver"), st.integers(0, 9), st.booleans()),  # keep it (to deliver again) or not
    st.tuples(st.just("tamper"), st.integers(0, 9), st.integers(0, 10**6)),
    st.tuples(st.just("lose"), st.integers(0, 9)),
    st.tuples(st.just("receipt"), st.integers(0, 9)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households=st.integers(1, 4), steps=st.lists(step, max_size=14))
def test_relayed_and_direct_syncs_converge_like_direct_sync(households: int, steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine, phone, private, keys, admin = _server(Path(tmp) / "mixed.db")
        ref_engine, ref_phone, _, _, ref_admin = _server(Path(tmp) / "direct.db")
        history = _history(phone.id, households)
        known = 0  # what the phone knows the server holds (direct answers, receipts carried back)
        flight: list[bytes] = []  # bundles made and not yet lost
        receipts: list[bytes] = []  # receipts on their way back
        for op in steps:
            if op[0] == "sync":
                batch = history[known:known + op[1]]
                if batch:
                    with write_transaction(engine) as conn:
                        result = ingest.push(conn, phone, Scope(hamlets=frozenset({HAMLET})), batch)
                    assert result.error is None
                    known = result.acked_seq
            elif op[0] == "bundle" and known < len(history):
                flight.append(seal_bundle(history[known:known + op[1]], phone.id, private, keys.seal))
            elif op[0] in ("deliver", "tamper") and flight:
                raw = flight[op[1] % len(flight)]
                before = _state(engine, phone.id)
                if op[0] == "tamper":
                    bits = bytearray(raw)
                    bits[op[2] % len(raw)] ^= 1 << (op[2] // len(raw) % 8)
                    raw = bytes(bits)
                try:
                    with write_transaction(engine) as conn:
                        done = relay.relay(conn, raw)
                    assert op[0] == "deliver", "a tampered bundle was taken"
                    receipts.append(fmt.canonical(done.receipt))
                except ServiceError as refused:
                    assert op[0] == "tamper" or refused.code == "gap", refused.code
                    assert _state(engine, phone.id) == before  # refused whole: nothing stored
                if op[0] == "deliver" and not op[2]:
                    flight.remove(flight[op[1] % len(flight)])
            elif op[0] == "lose" and flight:
                flight.pop(op[1] % len(flight))
            elif op[0] == "receipt" and receipts:
                receipt = read_receipt(receipts.pop(op[1] % len(receipts)), keys.sign, phone.id)
                known = max(known, receipt["acked_seq"])
        with write_transaction(engine) as conn:  # the phone's next direct sync: all it does not know held
            final = ingest.push(conn, phone, Scope(hamlets=frozenset({HAMLET})), history[known:])
            assert final.error is None
        with write_transaction(ref_engine) as conn:
            ingest.push(conn, ref_phone, Scope(hamlets=frozenset({HAMLET})), _rebase(history, ref_phone.id))
        mixed, direct = _state(engine, phone.id), _state(ref_engine, ref_phone.id)
        assert [(seq, status) for seq, status, _ in mixed[0]] == [(seq, status) for seq, status, _ in direct[0]]
        assert len(mixed[0]) == len(history)
        assert mixed[2] == direct[2]  # totals
        assert [body for _, body in mixed[1]] == [
            body.replace(ref_phone.id, phone.id).replace(ref_admin, admin) for _, body in direct[1]]
        with read_transaction(engine) as conn:
            assert relay.signed_receipt(conn, phone, Scope(hamlets=frozenset({HAMLET})))["acked_seq"] == len(history)
        engine.dispose()
        ref_engine.dispose()


def test_every_single_bit_flip_of_a_bundle_is_refused(tmp_path: Path) -> None:
    engine, phone, private, keys, _ = _server(tmp_path / "flip.db")
    raw = seal_bundle(_history(phone.id, 1), phone.id, private, keys.seal)
    taken = []
    with read_transaction(engine) as conn:
        relay.open_bundle(conn, raw)  # the bundle as made opens
        for bit in range(len(raw) * 8):
            flipped = bytearray(raw)
            flipped[bit // 8] ^= 1 << (bit % 8)
            try:
                relay.open_bundle(conn, bytes(flipped))
                taken.append(bit)
            except ServiceError:
                pass
    engine.dispose()
    assert taken == []
