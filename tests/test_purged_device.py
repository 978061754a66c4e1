"""A device whose campaign the server purged (`410 purged`), against the real server.

The server side is proven in tests/server/test_purge.py; here, what the device does when it is
told (SECURITY.md, "Retention"): `Purged` from whichever request hears it first, no retry and
no push after it, the personal data deleted at once (read in the database file's own bytes, the
key destroyed), a small notice kept for the screens, the background sync stopped for good, and
the same through a leader's online call, a sign-out and `gocua-app --enrol` at start.

One real `gocua-server serve` per module (tests/conftest.py), on SQLite only: the client does not
see the backend. Each test purges Phường Hải Dương again; the campaign stays due, so every run
retires the devices enrolled since.
"""
from __future__ import annotations

import contextlib
import io
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaign.ids import uuid7
from campaign.time import local_date, now
from field_app.app_state import Device, default_key
from field_app.cli import enrol_at_start
from field_app.keys import KEY_FILE, FileKeyProvider
from field_app.net.errors import Purged, PurgeNotice
from field_app.net.server_api import ServerApi
from field_app.net.sync import BackgroundSync, SyncClient, SyncStatus
from field_app.signout import purge_notice, sign_out
from field_app.store import Store, WrongKey, file_for
from sync_server.services import purge
from sync_server.services import team as teams
from sync_server.store.db import read_transaction, write_transaction

from .store_support import household_list
from .support import HTTP, Server, enrolled_store, hamlet_data, wait_until
from .test_store_encryption import file_bytes, leaks

on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

WARD = "10525"  # Phường Hải Dương
ADDRESS = "Số 88, ngõ Bí Mật, phố Riêng Tư"
PERSON = "Nguyễn Thị Riêng Tư"
LATE_PERSON = "Trần Văn Đến Muộn"  # recorded after the purge: never delivered
SECRETS = (ADDRESS, PERSON, LATE_PERSON)


class Requests:
    """Every request a client makes, as (method, path)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=15, event_hooks={"request": [self._record]})

    def _record(self, request: httpx.Request) -> None:
        self.seen.append((request.method, request.url.path))


def ended_campaign() -> dict[str, Any]:
    """Ended 40 days ago, kept 30: due for the purge."""
    ends = local_date(now()) - timedelta(days=40)
    return {"name": "Chiến dịch đã xong", "target_kind": "percent", "target_value": 80,
            "start": (ends - timedelta(days=90)).isoformat(), "deadline": (ends - timedelta(days=10)).isoformat(),
            "ends": ends.isoformat(), "retention_days": 30}


def purge_due(server: Server) -> list[dict[str, Any]]:
    """What `gocua-server purge` does (sync_server/cli.py cmd_purge), in this process."""
    with read_transaction(server.engine) as conn:
        due = purge.due(conn)
    reports = []
    for campaign in due:
        with write_transaction(server.engine) as conn:
            reports.append(purge.purge(conn, campaign))
    purge.compact(server.engine)
    return reports


class CampaignHamlet:
    """A hamlet of Phường Hải Dương made by an admin, and a way to enrol devices in it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.admin = server.enroll("admin")
        self.hamlet = uuid7()
        answer = self.admin.push([self.admin.event("hamlet.created", self.hamlet, hamlet_data(f"Tổ {self.hamlet[-6:]}"))])
        assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text

    def code(self, role: str = "volunteer", **scope: Any) -> str:
        if role == "volunteer" and not scope:
            scope = {"hamlets": (self.hamlet,)}
        return self.server.code(role, **scope)

    def store(self, path: Path, role: str = "volunteer", **scope: Any) -> Store:
        """An enrolled device store that has pulled its scope (the hamlet)."""
        store = enrolled_store(path, self.server.url, self.code(role, **scope))
        synced(store)
        return store

    def purge(self) -> None:
        answer = HTTP.put(self.server.url + f"/api/v1/campaigns/{WARD}", json=ended_campaign(),
                          headers=self.admin.headers)
        assert answer.status_code == 200, answer.text
        reports = purge_due(self.server)
        assert any(r.commune == WARD and r.devices for r in reports), reports


@pytest.fixture()
def campaign_hamlet(server: Server) -> CampaignHamlet:
    return CampaignHamlet(server)


def record_work(store: Store, hamlet: str) -> str:
    household = store.add_household(hamlet, ADDRESS, "given")
    store.add_person(household, PERSON, 1975, card="none", vneid="no_app")
    return household


def synced(store: Store) -> None:
    client = SyncClient(store)
    try:
        client.sync_once()
    finally:
        client.close()
    assert store.pending_count() == 0


def assert_purged(store: Store, path: Path) -> None:
    """Nothing personal left, in the API and in the file's own bytes (and its WAL)."""
    assert not store.signed_in and store.token is None and store.device_id is None
    assert store.pending_count() == 0 and store.hamlets() == []
    assert leaks(file_for(path), SECRETS) == []


# ---- the sync path ----------------------------------------------------------------------------

@on_sqlite
def test_a_sync_is_told_once_deletes_everything_and_keeps_a_notice(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    path = tmp_path / "phone"
    store = campaign_hamlet.store(path)
    household = record_work(store, campaign_hamlet.hamlet)
    synced(store)
    old_key = (path / KEY_FILE).read_bytes()
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stolen = tmp_path / "stolen"  # a copy of the file taken before the purge
    stolen.mkdir()
    (stolen / "gocua.db").write_bytes(file_for(path).read_bytes())
    campaign_hamlet.purge()
    store.add_person(household, LATE_PERSON, 1990)  # made after the purge: can never be delivered
    store.record_visit(household, "not_home")
    assert store.pending_count() == 2

    requests = Requests()
    client = SyncClient(store, client=requests.client())
    with pytest.raises(Purged) as told:
        client.sync_once()
    client.close()
    assert requests.seen == [("POST", "/api/v1/sync/push")]  # told once: no retry, no pull, no second push
    exc = told.value
    assert not exc.retryable and exc.status == 410 and exc.code == "purged"
    assert exc.commune == WARD and exc.purged_at
    assert "2 unsent events dropped" in str(exc)

    assert_purged(store, path)
    assert store.sync.last_error is None  # nothing of the failed run was written into the emptied store
    notice = purge_notice(store)
    assert notice == exc.notice
    assert (notice.commune, notice.purged_at, notice.dropped) == (WARD, exc.purged_at, 2)
    # the key is destroyed: the copy taken before cannot be opened with what the device holds now
    assert (path / KEY_FILE).read_bytes() != old_key
    assert old_key not in b"".join(file_bytes(file_for(path)).values())
    with pytest.raises(WrongKey):
        Store(stolen, key=FileKeyProvider(path / KEY_FILE))
    # the notice names nobody, and a restart still has it
    store.close()
    with Store(path, key=default_key(path)) as again:
        assert purge_notice(again) == notice and not again.signed_in
        assert again.server_url == campaign_hamlet.server.url  # kept: the next enrolment is to the same server


@on_sqlite
def test_with_nothing_pending_the_pull_is_told_and_nothing_is_pushed(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    store = campaign_hamlet.store(tmp_path / "phone")
    record_work(store, campaign_hamlet.hamlet)
    synced(store)
    campaign_hamlet.purge()
    requests = Requests()
    client = SyncClient(store, client=requests.client())
    with pytest.raises(Purged):
        client.sync_once()
    with pytest.raises(Exception) as after:  # the identity is gone: nothing more is sent
        client.sync_once()
    client.close()
    assert type(after.value).__name__ == "NotEnrolled"
    assert requests.seen == [("GET", "/api/v1/sync/pull")]
    assert purge_notice(store).dropped == 0
    assert_purged(store, tmp_path / "phone")


@on_sqlite
@pytest.mark.parametrize("call, request_made", [
    (SyncClient.check_receipt, ("GET", "/api/v1/sync/receipt")),  # no push to "save" the pending ones
    (lambda client: sign_out(client.store, client.push), ("POST", "/api/v1/sync/push")),  # told; nothing follows
], ids=["receipt check", "sign-out"])
def test_a_receipt_check_or_a_sign_out_is_told_too(campaign_hamlet: CampaignHamlet, tmp_path: Path, call, request_made) -> None:
    store = campaign_hamlet.store(tmp_path / "phone")
    record_work(store, campaign_hamlet.hamlet)
    campaign_hamlet.purge()
    requests = Requests()
    client = SyncClient(store, client=requests.client())
    with pytest.raises(Purged):
        call(client)
    client.close()
    assert requests.seen == [request_made]
    assert purge_notice(store).dropped == 2
    assert_purged(store, tmp_path / "phone")


# ---- the background sync and the Device ------------------------------------------------------------

@on_sqlite
def test_the_background_sync_stops_for_good_and_the_device_tells_its_sessions(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    requests = Requests()
    http = requests.client()
    device = Device(tmp_path / "phone", http=http, sync_interval=0.2)
    statuses: list[SyncStatus] = []
    seen_signed_in: list[bool] = []

    def listener(status: SyncStatus) -> None:  # what each session of the app gets
        statuses.append(status)
        seen_signed_in.append(device.store.signed_in)

    device.subscribe(listener)
    device.enrol(campaign_hamlet.server.url, campaign_hamlet.code())
    wait_until(lambda: bool(device.store.hamlets()))  # the first sync brought the hamlet
    record_work(device.store, campaign_hamlet.hamlet)
    device.changed()
    wait_until(lambda: device.store.pending_count() == 0 and device.status.state == "idle")
    background = device.background
    assert background is not None and background.running

    campaign_hamlet.purge()
    device.store.add_person(household_list(device.store)[0].id, LATE_PERSON)
    device.sync_now()
    wait_until(lambda: not device.store.signed_in)
    wait_until(lambda: not background.running, timeout=5)
    assert background.purged and device.background is None and device.client is None
    assert device.purge_notice is not None and device.purge_notice.dropped == 1
    assert device.purge_notice.commune == WARD
    assert any(s is False for s in seen_signed_in)  # the sessions were told once the data was gone
    # Nothing more can go out, not even a retry: the one thread that sends has ended, and no
    # other is started (waiting a few intervals instead would prove nothing more, only slower).
    told = len(requests.seen)
    assert requests.seen[-1] == ("POST", "/api/v1/sync/push")  # the one told: the pending change was not retried
    device.sync_now()  # asking again does nothing: nothing is enrolled
    device.changed()
    assert device.background is None and not background.running
    assert len(requests.seen) == told
    assert_purged(device.store, tmp_path / "phone")
    # a new code starts over, and the notice has been read
    device.enrol(campaign_hamlet.server.url, campaign_hamlet.code())
    assert device.store.signed_in and device.purge_notice is None
    device.close()
    http.close()


@on_sqlite
def test_background_sync_on_its_own_stops_at_purged(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    store = campaign_hamlet.store(tmp_path / "phone")
    campaign_hamlet.purge()
    changes: list[SyncStatus] = []
    done = threading.Event()
    client = SyncClient(store)
    background = BackgroundSync(client, min_delay=0.01, max_delay=0.05, interval=0.05,
                                on_change=lambda s: (changes.append(s), s.error_kind == "Purged" and done.set()))
    background.start()
    assert done.wait(10)
    wait_until(lambda: not background.running, timeout=5)
    assert changes[-1].error_kind == "Purged" and changes[-1].next_in is None
    background.start()  # for good: a start does nothing
    assert not background.running
    background.trigger()
    assert not background.running
    client.close()
    assert_purged(store, tmp_path / "phone")


@on_sqlite
def test_a_leaders_online_call_purges_the_device_and_stops_its_sync(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    team = f"t-{uuid7()[-8:]}"
    with write_transaction(campaign_hamlet.server.engine) as conn:
        teams.create_team(conn, team, "Tổ 9", WARD, [campaign_hamlet.hamlet])
    device = Device(tmp_path / "leader", sync_interval=60)
    device.enrol(campaign_hamlet.server.url, campaign_hamlet.code("leader", team=team))
    wait_until(lambda: device.store.last_sync_ok is not None)
    sessions: list[SyncStatus] = []
    device.subscribe(sessions.append)
    campaign_hamlet.purge()
    api = device.server_api()  # as the leader's screens make it (app_state.server_api): the device's identity
    with pytest.raises(Purged) as told:
        api.team_devices()
    api.close()
    assert told.value.notice is not None and told.value.notice.commune == WARD
    assert device.background is None and not device.store.signed_in  # the Device took it over
    assert sessions and device.purge_notice == told.value.notice
    assert_purged(device.store, tmp_path / "leader")
    device.close()


@on_sqlite
def test_a_store_without_a_device_is_purged_by_the_client_itself(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    """(A script, `--enrol` at start.) A client given an `on_purged` (a Device's) calls that instead."""
    store = campaign_hamlet.store(tmp_path / "phone")
    calls: list[Purged] = []
    campaign_hamlet.purge()
    owned = ServerApi(store, on_purged=lambda p: calls.append(p) or PurgeNotice(None, None, "x", 0))
    with pytest.raises(Purged) as told:
        owned.conflicts(WARD)
    owned.close()
    assert calls == [told.value] and store.signed_in  # the owner's callback was the one to act
    with pytest.raises(Purged):
        ServerApi(store).conflicts(WARD)
    assert purge_notice(store) is not None
    assert_purged(store, tmp_path / "phone")


@on_sqlite
def test_enrol_at_start_purges_and_enrols_again(campaign_hamlet: CampaignHamlet, tmp_path: Path) -> None:
    path = tmp_path / "web"
    store = campaign_hamlet.store(path)
    record_work(store, campaign_hamlet.hamlet)
    synced(store)
    store.close()
    campaign_hamlet.purge()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert enrol_at_start(path, campaign_hamlet.server.url, campaign_hamlet.code(), wait=5) == "enrolled"
    assert "purged" in err.getvalue() and WARD in err.getvalue()
    with Store(path, key=default_key(path)) as again:
        assert again.signed_in and again.hamlets() == [] and purge_notice(again) is None
        assert leaks(file_for(path), SECRETS) == []


def test_the_notice_tolerates_what_it_does_not_know() -> None:
    assert PurgeNotice.from_json(None) is None
    assert PurgeNotice.from_json({"commune": WARD}) is None
    odd = PurgeNotice.from_json({"deleted_at": "2026-03-02T08:00:00+07:00", "dropped": "many", "commune": 5})
    assert odd == PurgeNotice(None, None, "2026-03-02T08:00:00+07:00", 0)
    notice = PurgeNotice(WARD, "2026-03-01T00:00:00+00:00", "2026-03-02T08:00:00+07:00", 3)
    assert PurgeNotice.from_json(notice.to_json()) == notice
