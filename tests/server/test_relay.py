"""The sealed relay over the wire (issue #15): a phone's events carried by another device."""
from __future__ import annotations

import httpx
import pytest

from campaign import relay as fmt
from campaign.ids import uuid7
from field_app.relay import new_sign_key, read_receipt, seal_bundle

from ..support import cli, household_data, person_data

LABEL, ADDRESS = "Trần Thị Bích Ngọc", "Số 77, ngõ 9, phố Hàng Gà"


def _origin(server, hamlet):  # type: ignore[no-untyped-def]
    """A volunteer with a registered signing key, and its private key."""
    phone = server.enroll("volunteer", hamlets=(hamlet,))
    key = new_sign_key()
    answer = httpx.post(server.url + "/api/v1/sync/sign-key", json={"sign_key": key.public}, headers=phone.headers)
    assert answer.status_code == 204, answer.text
    return phone, key


def _visits(phone, hamlet, n: int = 1):  # type: ignore[no-untyped-def]
    events = []
    for _ in range(n):
        household = uuid7()
        events += [phone.event("household.created", household, household_data(hamlet, ADDRESS)),
                   phone.event("person.added", uuid7(), person_data(household, LABEL))]
    return events


def _keys(server):  # type: ignore[no-untyped-def]
    return httpx.get(server.url + "/api/v1/server-key").json()


def _relay(carrier, raw: bytes) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(carrier.server.url + "/api/v1/sync/relay", content=raw,
                      headers={**carrier.headers, "Content-Type": "application/octet-stream"}, timeout=60)


def test_a_carried_bundle_is_applied_once_and_answered_with_a_signed_receipt(server, hamlet):
    phone, key = _origin(server, hamlet)
    carrier = server.enroll("volunteer", hamlets=(hamlet,))
    keys = _keys(server)
    assert _keys(server) == keys  # made once
    events = _visits(phone, hamlet, 2)
    raw = seal_bundle(events, phone.id, key.private, keys["seal"])
    assert LABEL.encode() not in raw and ADDRESS.encode() not in raw and b"person.added" not in raw
    first = _relay(carrier, raw)
    assert first.status_code == 200, first.text
    assert first.json()["acked_seq"] == 4 and first.json()["quarantined"] == []
    receipt = read_receipt(fmt.canonical(first.json()["receipt"]), keys["sign"], phone.id)
    held = phone.get("/api/v1/sync/receipt").json()
    assert receipt["acked_seq"] == 4 and receipt["digest"] == held["digest"] and receipt["counts"] == held["counts"]
    again = _relay(carrier, raw)  # replayed: harmless
    assert again.status_code == 200 and again.json()["acked_seq"] == 4
    assert phone.push(events).json()["acked_seq"] == 4  # and the phone's own sync of them after: nothing twice
    assert phone.get("/api/v1/sync/receipt").json() == held
    with pytest.raises(fmt.BadFile):  # a receipt is checked against the server's key
        read_receipt(fmt.canonical(first.json()["receipt"]), new_sign_key().public, phone.id)


def test_a_receipt_names_every_quarantined_visit_of_the_phone_not_only_the_bundles(server, hamlet):
    phone, key = _origin(server, hamlet)
    carrier = server.enroll("volunteer", hamlets=(hamlet,))
    household = uuid7()
    first = [phone.event("household.created", household, household_data(hamlet, ADDRESS)),
             phone.event("person.added", uuid7(), {**person_data(household, LABEL), "phone": "0912"})]
    pushed = phone.push(first)
    assert pushed.json()["quarantined"][0]["seq"] == 2, pushed.text  # its answer lost, say
    answer = _relay(carrier, seal_bundle(_visits(phone, hamlet), phone.id, key.private, _keys(server)["seal"]))
    assert answer.json()["receipt"]["acked_seq"] == 4
    assert answer.json()["receipt"]["quarantined"] == [[2, "unknown_field"]]


def test_a_bundle_altered_by_one_bit_is_refused_whole(server, hamlet):
    phone, key = _origin(server, hamlet)
    carrier = server.enroll("volunteer", hamlets=(hamlet,))
    raw = seal_bundle(_visits(phone, hamlet), phone.id, key.private, _keys(server)["seal"])
    # a sample over the wire (the push rate allows some); every bit: tests/test_relay_convergence.py
    for i, at in enumerate([*range(0, len(raw), max(1, len(raw) // 20)), len(raw) - 1]):
        tampered = bytearray(raw)
        tampered[at] ^= 1 << (i % 7)
        answer = _relay(carrier, bytes(tampered))
        assert answer.status_code in (400, 404, 409), (at, answer.text)
    assert phone.get("/api/v1/sync/receipt").json()["acked_seq"] == 0
    assert _relay(carrier, raw).status_code == 200


def test_a_revoked_phone_a_phone_without_key_and_a_gap_are_refused(server, hamlet):
    phone, key = _origin(server, hamlet)
    carrier = server.enroll("volunteer", hamlets=(hamlet,))
    seal = _keys(server)["seal"]
    events = _visits(phone, hamlet, 2)
    later = _relay(carrier, seal_bundle(events[2:], phone.id, key.private, seal))
    assert later.status_code == 409 and later.json()["error"] == "gap" and later.json()["expected_seq"] == 1
    forged = _relay(carrier, seal_bundle(events, phone.id, new_sign_key().private, seal))
    assert forged.status_code == 400 and forged.json()["error"] == "bad_bundle"
    keyless = server.enroll("volunteer", hamlets=(hamlet,))
    answer = _relay(carrier, seal_bundle(_visits(keyless, hamlet), keyless.id, key.private, seal))
    assert answer.status_code == 409 and answer.json()["error"] == "no_sign_key"
    assert cli(server.db_url, "revoke", phone.id).returncode == 0
    refused = _relay(carrier, seal_bundle(events, phone.id, key.private, seal))
    assert refused.status_code == 403 and refused.json()["error"] == "origin_revoked"
    assert carrier.get("/api/v1/sync/receipt").status_code == 200  # the carrier is not the one refused


def test_enrolment_registers_the_key_and_a_bad_key_spends_no_code(server, hamlet):
    code = server.code("volunteer", hamlets=(hamlet,))
    bad = httpx.post(server.url + "/api/v1/enroll", json={"code": code, "sign_key": "B" * 43})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_key", bad.text
    key = new_sign_key()
    good = httpx.post(server.url + "/api/v1/enroll", json={"code": code, "sign_key": key.public})
    assert good.status_code == 200, good.text
    headers = {"Authorization": f"Bearer {good.json()['token']}"}
    same = httpx.post(server.url + "/api/v1/sync/sign-key", json={"sign_key": key.public}, headers=headers)
    assert same.status_code == 204
    other = httpx.post(server.url + "/api/v1/sync/sign-key", json={"sign_key": new_sign_key().public},
                       headers=headers)
    assert other.status_code == 409 and other.json()["error"] == "key_exists"


def test_relay_import_at_the_commune_office(server, hamlet, tmp_path):
    phone, key = _origin(server, hamlet)
    path = tmp_path / "gui-nho.gocua"
    path.write_bytes(seal_bundle(_visits(phone, hamlet), phone.id, key.private, _keys(server)["seal"]))
    done = cli(server.db_url, "relay", "import", str(path))
    assert "acked_seq 2" in done.stdout, done.stdout
    receipt = read_receipt((tmp_path / "gui-nho.gocua.receipt").read_bytes(), _keys(server)["sign"], phone.id)
    assert receipt["acked_seq"] == 2
    path.write_bytes(path.read_bytes().replace(b'"seq_to":2', b'"seq_to":3'))
    refused = cli(server.db_url, "relay", "import", str(path), check=False)
    assert refused.returncode != 0 and "bad_bundle" in refused.stderr


def test_the_app_registers_its_key_at_enrolment_or_on_its_next_sync(server, hamlet, tmp_path):
    from sqlalchemy import select

    from field_app.net.sync import SyncClient
    from field_app.relay import public_of
    from sync_server.store import schema as t

    from ..support import enrolled_store

    def registered(device_id: str) -> str | None:
        with server.engine.connect() as conn:
            return conn.execute(select(t.devices.c.sign_key).where(t.devices.c.id == device_id)).scalar()

    new = enrolled_store(tmp_path / "new.db", server.url, server.code("volunteer", hamlets=(hamlet,)))
    assert new.sign_key_registered and registered(new.device_id) == public_of(new.sign_key)
    assert new.sign_key.encode() not in (tmp_path / "new.db").read_bytes()  # sealed at rest
    old = enrolled_store(tmp_path / "old.db", server.url, server.code("volunteer", hamlets=(hamlet,)))
    with server.engine.begin() as conn:  # as a phone enrolled before the relay: no key anywhere
        conn.execute(t.devices.update().where(t.devices.c.id == old.device_id).values(sign_key=None))
    old.meta.set("sign_key", None)
    old.meta.set("sign_key_registered", None)
    SyncClient(old).sync_once()
    assert old.sign_key_registered and registered(old.device_id) == public_of(old.sign_key)
    assert old.server_keys == new.server_keys == _keys(server)  # learnt at enrolment, or then


def test_a_phone_bundles_its_unsent_visits_and_a_carried_back_receipt_settles_them(server, hamlet, tmp_path):
    from field_app.net.sync import SyncClient
    from field_app.relay import accept_receipt, make_bundle

    from ..support import enrolled_store

    phone = enrolled_store(tmp_path / "phone.db", server.url, server.code("volunteer", hamlets=(hamlet,)))
    SyncClient(phone).sync_once()  # the hamlet comes down; then the phone goes out of reach
    household = phone.add_household(hamlet, ADDRESS)
    phone.add_person(household, LABEL, 1990)
    raw = make_bundle(phone)
    assert raw is not None and LABEL.encode() not in raw and ADDRESS.encode() not in raw
    assert phone.pending_count() == 2  # a bundle made settles nothing
    carrier = server.enroll("volunteer", hamlets=(hamlet,))
    answer = _relay(carrier, raw)
    assert answer.status_code == 200, answer.text
    receipt = fmt.canonical(answer.json()["receipt"])
    with pytest.raises(fmt.BadFile):
        accept_receipt(phone, receipt.replace(b'"acked_seq":2', b'"acked_seq":3'))
    assert phone.pending_count() == 2
    accept_receipt(phone, receipt)
    assert phone.pending_count() == 0 and phone.acked_seq == 2
    assert make_bundle(phone) is None
