"""The one sign-out (field_app/signout.py): send what is pending, then purge; forced, purge whatever
the sending did; refused, nothing is touched. Every path of the app that signs out goes through it:
Settings and the lock screen through `Device.sign_out`, the retention purge through `forget_purged`
(the HTTP client's default `on_purged`, and `Device.purged`), `--enrol` at start directly
(tests/test_purged_device.py drives those against the real server).
"""
from __future__ import annotations

import httpx
import pytest

from field_app.app_state import Device
from field_app.net.errors import NotAllSent, Offline, Purged, Revoked
from field_app.net.sync import SyncClient, SyncReport
from field_app.signout import forget_purged, purge_notice, sign_out
from field_app.store import Store

from .fake_server import FakeServer
from .store_support import outbox_rows, state_digest
from .test_store_encryption import leaks
from .test_sync_client import URL, enrolled, work

SECRET = "Trần Thị Lan"  # the label work() gives everyone


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[misc]  # a generator fixture
    s = enrolled(tmp_path)
    yield s
    s.close()


def unreachable() -> httpx.Client:
    """No network: every request fails to connect."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)
    return httpx.Client(transport=httpx.MockTransport(refuse))


def everything(s: Store) -> tuple[object, ...]:
    """All a sign-out could touch: the identity, the logs, the state, the cursors."""
    return (s.signed_in, s.device_id, s.token, s.role, s.server_url, s.acked_seq, s.pull_cursor,
            outbox_rows(s), state_digest(s), s.pending())


def assert_purged(s: Store) -> None:
    assert not s.signed_in and s.device_id is None and s.token is None
    assert s.pending_count() == 0 and s.hamlets() == [] and outbox_rows(s) == []
    assert leaks(s.path, [SECRET]) == []


def test_pending_events_are_pushed_before_the_purge(store, fake):
    work(store, 2)
    made = [r["body"] for r in outbox_rows(store)]
    client = SyncClient(store, fake.client())
    sign_out(store, client.push)
    assert [fake.held[seq] for seq in sorted(fake.held)] == made  # all of them, byte for byte
    assert_purged(store)
    assert store.server_url == URL  # kept for the next enrolment


@pytest.mark.parametrize("push", ["unreachable", "no client"])
def test_a_forced_sign_out_purges_without_the_network(store, push):
    work(store, 2)
    client = SyncClient(store, unreachable())
    sign_out(store, client.push if push == "unreachable" else None, force=True)
    assert_purged(store)


@pytest.mark.parametrize("fault", ["offline", "revoked", "nothing sent", "no client"])
def test_a_failure_to_push_leaves_everything_in_place(store, fake, fault, monkeypatch):
    work(store, 2)
    before = everything(store)
    client = SyncClient(store, fake.client())
    if fault == "offline":
        fake.faults = [("/push", "drop_before")]
        expected: type[Exception] = Offline
    elif fault == "revoked":
        fake.revoked = True
        expected = Revoked
    else:  # the push "succeeds" and yet every event is still pending
        monkeypatch.setattr(client, "push", lambda: SyncReport())
        expected = NotAllSent
    with pytest.raises(expected):
        sign_out(store, None if fault == "no client" else client.push)
    assert everything(store) == before
    assert store.pending_count() == 5 and not fake.held


def test_a_purge_answer_to_a_forced_sign_out_purges_even_when_its_own_deletion_failed(store):
    """(The lock's tenth wrong PIN.) The request told `410 purged` deletes the data itself; should
    that have failed, the forced sign-out deletes it, and still says why."""
    work(store, 1)

    def told() -> None:
        raise Purged("the campaign is over", code="purged", status=410)  # and nothing was deleted

    with pytest.raises(Purged):
        sign_out(store, told, force=True)
    assert_purged(store)


def test_a_purge_answer_to_a_sign_out_that_is_not_forced_deletes_nothing_more(store):
    work(store, 1)
    before = everything(store)

    def told() -> None:
        raise Purged("the campaign is over", code="purged", status=410)

    with pytest.raises(Purged):
        sign_out(store, told)
    assert everything(store) == before  # the request's own on_purged decides, not the sign-out


def test_the_retention_purge_signs_out_without_sending_and_keeps_a_notice(store, fake):
    work(store, 1)
    notice = forget_purged(store, Purged("over", code="purged", status=410, commune="10525",
                                         purged_at="2026-03-01T00:00:00+00:00"))
    assert not fake.requests  # nothing was sent: the server refuses this identity
    assert (notice.commune, notice.dropped) == ("10525", 3)
    assert purge_notice(store) == notice
    assert_purged(store)


def test_the_device_signs_out_through_it_and_stops_its_sync(tmp_path, fake):
    path = tmp_path / "phone"
    with Store(path, key=b"k" * 32) as s:
        s.enrol(URL, fake.device_id, fake.token, "volunteer", {"hamlets": []})
        work(s, 1)
    device = Device(path, key=b"k" * 32, http=fake.client(), autosync=False)
    assert device.client is not None  # enrolled: its sync client is made
    fake.faults = [("/push", "drop_before")]
    with pytest.raises(Offline):
        device.sign_out()
    assert device.store.signed_in and device.store.pending_count() == 3
    device.sign_out()
    assert sorted(fake.held) == [1, 2, 3]
    assert device.client is None and device.background is None
    assert_purged(device.store)
    device.close()
