"""The one sign-out (field_app/signout.py): send what is pending, then purge; forced, purge whatever
the sending did; refused, nothing is touched. Every path of the app that signs out goes through it:
Settings and the lock screen through `Device.sign_out`, the retention purge through `forget_purged`
(the HTTP client's default `on_purged`, and `Device.purged`), `--enrol` at start directly
(tests/test_purged_device.py drives those against the real server).
"""
from __future__ import annotations

import httpx
import pytest

from campaign.ids import uuid7
from field_app.app_state import Device, enrol
from field_app.net.errors import NotAllSent, Offline, Purged, Revoked
from field_app.net.sync import SyncClient, SyncReport
from field_app.signout import forget_purged, purge_notice, sign_out
from field_app.store import Store

from .fake_server import FakeServer
from .store_support import outbox_rows, state_digest
from .support import HTTP, Server, hamlet_data
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


# ---- L4 (issue #12): the server hears the sign-out, against the real server ---------------------

@pytest.fixture(scope="module")
def real(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real `gocua-server serve` (SQLite: the client does not see the backend), a hamlet of
    Phường Hải Dương and a team on it."""
    from sync_server.services import team as teams
    from sync_server.store import migrate
    srv = Server(f"sqlite:///{tmp_path_factory.mktemp('signout') / 'server.db'}")
    migrate.upgrade(srv.engine)
    srv.start()
    admin = srv.enroll("admin")
    hamlet = uuid7()
    assert admin.push([admin.event("hamlet.created", hamlet, hamlet_data("Tổ Đăng Xuất"))]).json()["quarantined"] == []
    with srv.engine.begin() as conn:
        teams.create_team(conn, "team-signout", "Tổ đăng xuất", "10525", [hamlet])
    yield srv
    srv.close()


def _code(real: Server) -> str:
    return real.code("volunteer", team="team-signout")


def _alive(real: Server, token: str) -> int:
    return HTTP.get(real.url + "/api/v1/sync/receipt", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize("force", [False, True], ids=["settings", "tenth wrong PIN (forced)"])
def test_signing_out_kills_the_token_on_the_server(tmp_path, real, force):
    device = Device(tmp_path / "phone", key=b"k" * 32, http=httpx.Client(timeout=15), autosync=False)
    device.enrol(real.url, _code(real))
    token = device.store.token
    assert token and _alive(real, token) == 200
    device.sign_out(force=force)
    assert not device.store.signed_in
    assert _alive(real, token) == 403  # revoked
    assert device.store.previous_token is None  # heard: nothing to carry to the next enrolment
    device.close()


def test_offline_the_purge_happens_and_the_next_enrolment_revokes_the_old_token(tmp_path, real):
    path = tmp_path / "phone"
    with Store(path, key=b"k" * 32) as s:
        enrol(s, real.url, _code(real))
        old = s.token
        assert old
        client = SyncClient(s, unreachable())
        sign_out(s, client.push, force=True, tell=client.tell_sign_out)  # the tenth wrong PIN, offline
        assert not s.signed_in and s.token is None
        assert s.previous_token == old  # sealed under the new key …
        assert leaks(s.path, [old]) == []  # … never in the file's bytes
        assert _alive(real, old) == 200  # the server never heard: the token still works there
        enrol(s, real.url, _code(real))  # the enrolment carries it
        assert s.previous_token is None and s.signed_in
        assert _alive(real, old) == 403  # revoked with the new enrolment
        assert _alive(real, s.token) == 200


def test_a_tell_that_fails_never_blocks_the_purge(store):
    work(store, 1)
    token = store.token

    def broken() -> bool:
        raise RuntimeError("a bug in the telling")

    sign_out(store, None, force=True, tell=broken)
    assert_purged(store)
    assert store.previous_token == token


def test_the_old_token_goes_only_to_the_server_it_came_from(tmp_path, real):
    path = tmp_path / "phone"
    with Store(path, key=b"k" * 32) as s:
        enrol(s, real.url, _code(real))
        old = s.token
        client = SyncClient(s, unreachable())
        sign_out(s, client.push, force=True, tell=client.tell_sign_out)
        seen: list[httpx.Request] = []

        def other_server(request: httpx.Request) -> httpx.Response:  # a fake QR's server
            seen.append(request)
            return httpx.Response(200, json={"device_id": "d-other", "token": "t-other", "role": "volunteer",
                                             "scope": {}})

        enrol(s, "http://203.0.113.9:8000", "ABCD-EFGH-JKMN", http=httpx.Client(
            transport=httpx.MockTransport(other_server)))
        # the enrolment, and the relay's public keys asked after it (no token with either)
        assert [r.url.path for r in seen] == ["/api/v1/enroll", "/api/v1/server-key"]
        assert all("authorization" not in r.headers and old not in r.content.decode() for r in seen)
