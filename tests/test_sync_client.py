"""The sync client against a small fake of the wire contract, used only to inject
faults the real server cannot produce on cue: a request dropped before the server
commits, an answer lost after it commits, 5xx, a 409 gap, a 409 content clash,
revocation, slowness (tests/fake_server.py). The fake answers as the real server does:
tests/test_fake_server_contract.py checks it against a real uvicorn, situation by situation.

Nothing here sleeps: the threaded tests wait on events (a request the fake server holds
until the test releases it), and BackgroundSync's backoff is tiny.
"""
from __future__ import annotations

import gzip
import json
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from campaign.events import canonical, digest, quarantine_line
from campaign.ids import uuid7
from field_app.net.errors import BadAnswer, NotEnrolled, Offline, Rejected, Revoked, SeqConflict, ServerBusy, SyncError
from field_app.net.sync import BackgroundSync, SyncClient, SyncReport
from field_app.store import Receipt, Store

from .fake_server import FakeServer
from .store_support import add_hamlet, household_list, outbox_rows, problems_of, state_of
from .support import hamlet_data, household_data, new_store, offline_store, wait_until, wire_event

VN = timezone(timedelta(hours=7))
URL = "http://gocua.test"
COMMUNE = "10525"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=VN)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now


def enrolled(tmp_path, name: str = "a", device: str = "dev-a", token: str = "tok-a") -> Store:
    return offline_store(tmp_path / name, device=device, token=token, url=URL, clock=Clock())


def work(s: Store, households: int = 3) -> list[str]:
    hamlet = add_hamlet(s, COMMUNE, "Tổ dân phố 1", "to_dan_pho", "2025-07-01")
    out = []
    for n in range(households):
        h = s.add_household(hamlet, f"Số {n + 1} Nguyễn Văn A", "given")
        s.add_person(h, "Trần Thị Lan", 1970 + n % 40)
        out.append(h)
    return out


@pytest.fixture
def fake():
    return FakeServer()


@pytest.fixture
def store(tmp_path):
    s = enrolled(tmp_path)
    yield s
    s.close()


def assert_exactly_once(fake: FakeServer, s: Store) -> None:
    made = [e["seq"] for e in json_rows(s)]
    assert sorted(fake.held) == made  # every event held ...
    stored = fake.seqs_stored()
    assert len(stored) == len(set(stored))  # ... once
    assert s.pending() == []


def json_rows(s: Store) -> list[dict]:
    return [json.loads(r["body"]) for r in outbox_rows(s)]


# ---- push: batches, gzip, acknowledgement ----------------------------------------------------

def test_1201_events_go_in_three_gzip_batches_of_at_most_500(store, fake):
    hamlet = add_hamlet(store, COMMUNE, "Thôn Lớn")
    with store.db.atomic():
        for n in range(1200):
            store.add_household(hamlet, f"Số {n}")
    progress = []
    report = SyncClient(store, fake.client()).sync_once(progress=progress.append)
    pushes = [r for r in fake.requests if r.url.path.endswith("/push")]
    assert [len(batch) for batch in fake.pushes()] == [500, 500, 201]
    for r in pushes:
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Authorization"] == "Bearer tok-a"
        assert len(r.content) < len(gzip.decompress(r.content)) / 4  # it really is compressed
        assert json.loads(gzip.decompress(r.content))["schema"] == 1
    assert [e["seq"] for batch in fake.pushes() for e in batch] == list(range(1, 1202))
    assert [canonical(e) for batch in fake.pushes() for e in batch] == \
        [r["body"] for r in outbox_rows(store)]
    assert (report.pushed, report.acked_seq, report.batches) == (1201, 1201, 3)
    # the push answers named each event's cursor: filed at once, nothing pulled back
    assert report.pulled == 0 and report.cursor == 1201
    assert store.db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1201
    assert store.acked_seq == 1201 and store.pending() == []
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) >= 4
    assert store.last_sync_ok is not None and store.sync.last_error is None
    assert_exactly_once(fake, store)


def test_nothing_pending_means_no_push(store, fake):
    report = SyncClient(store, fake.client()).sync_once()
    assert [r.url.path for r in fake.requests] == ["/api/v1/sync/pull"]
    assert report == SyncReport(cursor=0, pages=1)


def test_quarantined_events_are_reported_acknowledged_and_leave_the_state(store, fake):
    households = work(store, 2)
    fake.quarantine[4] = "hamlet not in your scope"  # the second household's creation
    report = SyncClient(store, fake.client()).sync_once()
    assert report.quarantined == [{"seq": 4, "reason": "hamlet not in your scope"}]
    assert report.acked_seq == 5 and store.pending() == []
    assert [(q.seq, q.kind, q.reason) for q in store.quarantined()] == \
        [(4, "household.created", "hamlet not in your scope")]
    assert store.household(households[1]) is None and store.household(households[0]) is not None
    assert [p["kind"] for p in problems_of(store)] == ["person.added"]  # its person had nowhere to live
    assert store.counts().quarantined == 1


# ---- failures at every point lose nothing and duplicate nothing ------------------------------

def test_request_dropped_before_the_server_commits(store, fake):
    work(store)
    fake.faults = [("/push", "drop_before")]
    client = SyncClient(store, fake.client())
    with pytest.raises(Offline) as caught:
        client.sync_once()
    assert caught.value.retryable
    assert fake.held == {} and store.acked_seq == 0 and len(store.pending()) == 7
    assert "no connection" in store.sync.last_error and store.last_sync_ok is None
    client.sync_once()
    assert_exactly_once(fake, store)
    assert store.sync.last_error is None


def test_answer_lost_after_the_server_commits(store, fake):
    work(store)
    fake.faults = [("/push", "drop_after")]
    client = SyncClient(store, fake.client())
    with pytest.raises(Offline):
        client.sync_once()
    assert fake.acked == 7 and store.acked_seq == 0  # held there, not known here
    report = client.sync_once()  # the resend is answered as already held
    assert report.acked_seq == 7 and report.pushed == 7
    assert [len(b) for b in fake.pushes()] == [7, 7]
    assert_exactly_once(fake, store)


def test_a_timeout_is_offline_and_retryable(store, fake):
    work(store, 1)
    fake.faults = [("/push", "timeout")]
    with pytest.raises(Offline, match="in time"):
        SyncClient(store, fake.client()).sync_once()
    SyncClient(store, fake.client()).sync_once()
    assert_exactly_once(fake, store)


def test_app_killed_between_push_and_acknowledge(tmp_path, fake, monkeypatch):
    store = enrolled(tmp_path)
    work(store)

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt("app killed")  # not an error the client handles: the process dies

    monkeypatch.setattr(Store, "acknowledge", killed)
    with pytest.raises(KeyboardInterrupt):
        SyncClient(store, fake.client()).sync_once()
    monkeypatch.undo()
    store.close()
    assert fake.acked == 7
    reopened = new_store(tmp_path / "a")  # the app starts again
    assert reopened.acked_seq == 0 and len(reopened.pending()) == 7
    SyncClient(reopened, fake.client()).sync_once()
    assert_exactly_once(fake, reopened)
    assert state_of(reopened) == enrolled_state(fake, tmp_path)


def enrolled_state(fake: FakeServer, tmp_path) -> dict:
    """A fresh device that only pulls: what the server's events project to."""
    other = enrolled(tmp_path, "fresh", "dev-fresh", "tok-a")
    SyncClient(other, fake.client()).sync_once()
    return state_of(other)


def test_5xx_in_the_middle_keeps_the_batches_already_acknowledged(store, fake):
    hamlet = add_hamlet(store, COMMUNE, "Thôn Lớn")
    with store.db.atomic():
        for n in range(700):
            store.add_household(hamlet, f"Số {n}")
    fake.faults = [("/push", "ok"), ("/push", "500")]  # the first batch goes, the second meets a 500
    client = SyncClient(store, fake.client())
    with pytest.raises(ServerBusy) as caught:
        client.sync_once()
    assert caught.value.retryable and caught.value.status == 500
    assert store.acked_seq == 500 and len(store.pending(limit=1000)) == 201
    client.sync_once()
    assert [len(b) for b in fake.pushes()] == [500, 201, 201]  # resumed at 501, not from zero
    assert_exactly_once(fake, store)


@pytest.mark.parametrize("fault, wait", [("503", 7), ("429", 12)])
def test_busy_answers_say_how_long_to_wait(store, fake, fault, wait):
    work(store, 1)
    fake.faults = [("/push", fault)]
    with pytest.raises(ServerBusy) as caught:
        SyncClient(store, fake.client()).sync_once()
    assert caught.value.retry_after == wait and caught.value.retryable


def test_409_gap_resends_what_the_server_lost(store, fake):
    work(store)  # seq 1..7
    client = SyncClient(store, fake.client())
    client.sync_once()
    fake.forget_after(3)  # the server was restored from an older backup
    household = household_list(store)[0].id
    store.update_household(household, address="Số 1A")  # seq 8
    report = client.sync_once()
    pushes = fake.pushes()
    assert [e["seq"] for e in pushes[1]] == [8]  # refused: 409, expected 4
    assert [e["seq"] for e in pushes[2]] == [4, 5, 6, 7, 8]
    assert report.acked_seq == 8 and store.acked_seq == 8
    assert sorted(fake.held) == list(range(1, 9))
    assert client.check_receipt().agree


def test_a_server_that_keeps_answering_gap_is_given_up_on(store, fake):
    work(store, 1)

    def always_gap(request):
        fake.requests.append(request)
        return httpx.Response(409, json={"error": "gap", "detail": "expected 1", "acked_seq": 0,
                                         "expected_seq": 1})

    client = SyncClient(store, httpx.Client(transport=httpx.MockTransport(always_gap)))
    with pytest.raises(BadAnswer, match="keeps asking"):
        client.sync_once()
    assert len(fake.requests) == 4 and len(store.pending()) == 3


def test_409_gap_storing_part_of_a_batch(store, fake):
    work(store)
    client = SyncClient(store, fake.client())
    client.sync_once()
    fake.forget_after(5)
    store.update_household(household_list(store)[0].id, consent="declined")  # seq 8, 9
    client.sync_once()
    assert sorted(fake.held) == list(range(1, 10))
    assert_exactly_once(fake, store)


def test_409_different_content_is_reported_not_retried(store, fake):
    work(store, 1)  # seq 1..3
    first = json_rows(store)[0]
    fake.held[1] = canonical(first)
    fake.held[2] = '{"other":"content"}'
    client = SyncClient(store, fake.client())
    with pytest.raises(SeqConflict) as caught:
        client.sync_once()
    assert not caught.value.retryable and caught.value.code == "seq_reused"
    assert len(fake.pushes()) == 1
    assert "different content" in store.sync.last_error
    assert store.acked_seq == 0 and len(store.pending()) == 3  # nothing taken as held, nothing given up


def test_a_server_ahead_of_the_device_is_reported_when_seqs_clash(store, fake):
    """A phone restored from an old backup: the server holds seqs this device no longer has."""
    work(store, 1)  # seq 1..3
    for event in json_rows(store):
        fake.held[event["seq"]] = canonical(event)
    for seq in range(4, 10):
        fake.held[seq] = json.dumps({"seq": seq, "kind": "person.added"})
    client = SyncClient(store, fake.client())
    client.sync_once()
    assert store.acked_seq == 3  # never more than it made
    store.add_household(store.hamlets()[0].id, "Số 50")  # seq 4 again, different content
    with pytest.raises(SeqConflict):
        client.sync_once()
    assert len(store.pending()) == 1  # kept, shown, not dropped


@pytest.mark.parametrize("fault, error", [
    ("revoked", Revoked), ("token", NotEnrolled), ("html", BadAnswer), ("413", Rejected),
])
def test_errors_are_classified(store, fake, fault, error):
    work(store, 1)
    if fault == "revoked":
        fake.revoked = True
    elif fault == "token":
        fake.token = "another"
    elif fault == "html":
        fake.faults = [("/push", "html")]
    elif fault == "413":
        fake.faults = [("/push", "413")] * 20
    with pytest.raises(error) as caught:
        SyncClient(store, fake.client()).sync_once()
    assert store.sync.last_error == str(caught.value)
    assert caught.value.retryable == (fault == "html")


def test_a_4xx_shows_the_servers_detail(store, fake):
    work(store, 1)
    store.db.execute("UPDATE meta SET value = '\"dev-z\"' WHERE key = 'device_id'")
    fake.device_id = "dev-y"
    with pytest.raises(Rejected) as caught:
        SyncClient(store, fake.client()).sync_once()
    assert caught.value.status == 403 and caught.value.code == "wrong_device"
    assert "not this token's device" in str(caught.value)


def test_413_halves_the_batch(store, fake):
    work(store, 4)  # 9 events
    fake.faults = [("/push", "413")]
    SyncClient(store, fake.client()).sync_once()
    assert [len(b) for b in fake.pushes()] == [9, 4, 4, 1]
    assert_exactly_once(fake, store)


def test_not_enrolled_device_does_not_call_the_server(tmp_path, fake):
    s = new_store(tmp_path / "new")
    with pytest.raises(NotEnrolled):
        SyncClient(s, fake.client()).sync_once()
    assert fake.requests == []


# ---- pull: page by page, resumable, idempotent ------------------------------------------------

def foreign_events(n: int, device: str = "dev-b") -> list[dict]:
    hamlet = uuid7()
    events = [wire_event(device, 1, "hamlet.created", hamlet, {**hamlet_data("Thôn Bắc", COMMUNE), "kind": "thon"},
                         at="2026-03-01T08:00:00+07:00")]
    for seq in range(2, n + 1):
        events.append(wire_event(device, seq, "household.created", uuid7(),
                                 household_data(hamlet, f"Số {seq}", consent="unknown"), at="2026-03-01T09:00:00+07:00"))
    return events


def test_pull_goes_page_by_page_and_resumes_where_it_broke(store, fake):
    fake.add_foreign(foreign_events(1200))
    fake.faults = [("/pull", "ok"), ("/pull", "drop_before")]
    client = SyncClient(store, fake.client())
    with pytest.raises(Offline):
        client.sync_once()
    assert store.pull_cursor == 500 and len(household_list(store)) == 499
    report = client.sync_once()
    afters = [parse_qs(r.url.query.decode())["after"][0] for r in fake.requests if r.url.path.endswith("/pull")]
    assert afters == ["0", "500", "500", "1000"]
    assert report.pulled == 700 and report.pages == 2 and store.pull_cursor == 1200
    assert len(household_list(store)) == 1199


def test_each_page_applied_is_reported_for_the_progress_line(store, fake):
    fake.add_foreign(foreign_events(1200))
    seen: list[tuple[int, int]] = []
    statuses = []
    background = BackgroundSync(SyncClient(store, fake.client()), on_change=statuses.append)
    SyncClient(store, fake.client()).sync_once(on_page=lambda pages, n: seen.append((pages, n)))
    assert seen == [(1, 500), (2, 1000), (3, 1200)]  # after each page is stored, never before
    fake.add_foreign(foreign_events(600))
    background.run_once()
    assert list(dict.fromkeys((s.pages, s.pulled) for s in statuses if s.state == "syncing" and s.pages)) == \
        [(1, 500), (2, 600)]


def test_a_pull_page_lost_after_sending_is_applied_once(store, fake):
    fake.add_foreign(foreign_events(30))
    fake.faults = [("/pull", "drop_after")]
    client = SyncClient(store, fake.client(), page_size=10)
    with pytest.raises(Offline):
        client.sync_once()
    client.sync_once()
    assert store.pull_cursor == 30 and len(household_list(store)) == 29
    assert store.db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 30


@pytest.mark.parametrize("names_cursors", [True, False], ids=["push_names_cursors", "older_server"])
def test_own_events_come_back_and_leave_the_pending_layer(store, fake, names_cursors):
    fake.names_cursors = names_cursors  # an older server names no cursors: the pull brings them back
    work(store, 1)
    report = SyncClient(store, fake.client()).sync_once()
    rows = list(store.db.execute("SELECT status, pulled FROM outbox"))
    assert rows == [("acked", 1)] * 3
    assert problems_of(store) == []
    assert report.pulled == (0 if names_cursors else 3)
    assert [r[0] for r in store.db.execute("SELECT cursor FROM inbox ORDER BY cursor")] == [1, 2, 3]


def test_a_last_push_with_nothing_else_new_needs_no_pull(store, fake):
    work(store, 2)
    report = SyncClient(store, fake.client()).sync_once()
    assert [r.url.path.rsplit("/", 1)[1] for r in fake.requests] == ["push"]  # and no pull after it
    assert report.caught_up and store.pull_cursor == len(fake.log) and store.pending() == []
    fake.add_foreign([{**fake.log[0], "id": uuid7(), "device_id": "dev-b", "seq": 1, "kind": "household.updated",
                       "data": {"address": "Số 5"}, "base": None, "entity": fake.log[1]["entity"]}])
    store.add_household(fake.log[0]["entity"], "Số 8")
    fake.requests.clear()
    report = SyncClient(store, fake.client()).sync_once()
    assert [r.url.path.rsplit("/", 1)[1] for r in fake.requests] == ["push", "pull"]  # another's event: pulled
    assert report.pulled == 1 and not report.caught_up


def test_own_events_filed_from_the_push_answer_give_the_state_a_pull_back_gives(store, fake):
    """Others' events arrive between this device's: filed from the push answers (then only the
    others' pulled, with `mine`), the store ends as one that pulled everything back."""
    work(store, 2)
    client = SyncClient(store, fake.client())
    client.push()
    mine = [e for e in fake.log if e["device_id"] == "dev-a"]
    created = [e for e in mine if e["kind"] == "household.created"]
    fake.add_foreign([{**e, "id": uuid7(), "device_id": "dev-b", "seq": n, "kind": "household.updated",
                       "data": {"address": f"Số {n} (sửa)"}, "base": None} for n, e in enumerate(created, 1)])
    work_after = store.add_household(created[0]["data"]["hamlet_id"], "Số 99")  # pushed after the others'
    report = client.sync_once()
    assert report.pulled == 2  # the others' two, none of its own
    assert parse_qs(fake.requests[-1].url.query.decode())["mine"] == [str(store.acked_seq)] == [str(len(mine) + 1)]
    filed = (state_of(store), list(store.db.execute("SELECT cursor, device_id, seq FROM inbox ORDER BY cursor")))
    assert work_after in filed[0] and [e["data"]["address"] for e in fake.log[-3:-1]] == ["Số 1 (sửa)", "Số 2 (sửa)"]
    with store.db.atomic():  # forget the filing, and pull everything back as an older server makes it
        store.db.execute("DELETE FROM inbox")
        store.db.execute("UPDATE outbox SET pulled = 0")
        store.sync.meta.set("pull_cursor", 0)
    fake.names_cursors = False
    assert client.sync_once().pulled == len(fake.log)
    assert (state_of(store), list(store.db.execute("SELECT cursor, device_id, seq FROM inbox ORDER BY cursor"))) \
        == filed


# ---- receipt -------------------------------------------------------------------------------

def test_receipt_agrees_after_sync_and_says_what_differs(store, fake):
    work(store)
    fake.quarantine[2] = "refused"
    client = SyncClient(store, fake.client())
    client.sync_once()
    check = client.check_receipt()
    assert check.agree and check.differences == []
    assert check.local == Receipt(acked_seq=7, counts={"hamlet.created": 1, "household.created": 3,
                                                       "person.added": 3},
                                  digest=digest(quarantine_line(canonical(e)) if e["seq"] == 2 else canonical(e)
                                                for e in json_rows(store)))  # seq 2 as the server keeps it
    fake.forget_after(6)
    check = client.check_receipt()
    assert not check.agree
    assert check.differences[0] == "acked_seq: device 7, server 6"
    assert "counts[person.added]: device 3, server 2" in check.differences
    assert check.differences[-1].startswith("digest")


# ---- revocation ---------------------------------------------------------------------------------

def test_a_revoked_device_pushes_nothing_more(store, fake):
    work(store, 1)
    fake.revoked = True
    with pytest.raises(Revoked, match="revoked"):
        SyncClient(store, fake.client()).sync_once()
    assert fake.held == {}


# ---- BackgroundSync ----------------------------------------------------------------------------

class FlakyClient:
    """A SyncClient stand-in that fails with the given errors, then succeeds."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def sync_once(self, progress=None, on_page=None):
        self.calls += 1
        if progress:
            progress(0.5)
        if self.errors:
            raise self.errors.pop(0)
        return SyncReport(pushed=1)


def test_backoff_doubles_with_jitter_up_to_the_cap():
    bg = BackgroundSync(FlakyClient([]), min_delay=1, max_delay=300, rng=lambda: 1.0)
    assert [bg.backoff(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    low = BackgroundSync(FlakyClient([]), min_delay=1, max_delay=300, rng=lambda: 0.0)
    assert [low.backoff(n) for n in (1, 5, 20)] == [0.5, 8, 150]
    assert low.backoff(10_000) == 150  # no overflow however long it has been failing


def test_every_failure_is_retried_with_backoff_and_a_success_resets_it():
    errors = [Offline("no network"), ServerBusy("503", retry_after=40), RuntimeError("a bug"),
              Revoked("revoked")]
    client = FlakyClient(errors)
    seen = []
    bg = BackgroundSync(client, min_delay=1, max_delay=300, interval=60, on_change=seen.append, rng=lambda: 1.0)
    delays = [bg.run_once() for _ in range(5)]
    assert delays == [1, 40, 4, 300, 60]  # backoff, Retry-After, backoff, needs a person, then the interval
    assert [s.error_kind for s in seen if s.state == "error"] == ["Offline", "ServerBusy", "RuntimeError",
                                                                  "Revoked"]
    assert seen[-1].state == "idle" and seen[-1].failures == 0 and seen[-1].report == SyncReport(pushed=1)
    assert {s.state for s in seen} == {"syncing", "error", "idle"}
    assert any(s.progress == 0.5 for s in seen)


def test_the_loop_waits_the_backoff_between_attempts():
    client = FlakyClient([Offline("x")] * 4)
    waits = []

    def fake_wait(seconds):  # a fake clock: record, stop after a while, never sleep
        waits.append(seconds)
        if len(waits) == 6:
            bg.stop()

    bg = BackgroundSync(client, min_delay=2, max_delay=10, interval=60, rng=lambda: 1.0, wait=fake_wait)
    bg._run()  # the thread's loop, run here
    assert waits == [2, 4, 8, 10, 60, 60]
    assert client.calls == 6


def test_a_broken_on_change_callback_does_not_stop_sync():
    def broken(status):
        raise ValueError("screen gone")

    bg = BackgroundSync(FlakyClient([]), on_change=broken)
    assert bg.run_once() == bg.interval and bg.status.state == "idle"


def test_background_thread_recovers_and_never_blocks_the_caller(store, fake):
    work(store, 2)
    fake.faults = [("/push", "drop_before"), ("/push", "500"), ("/push", "timeout")]
    done = threading.Event()
    states = []

    def on_change(status):
        states.append(status.state)
        if status.state == "idle" and status.report is not None:
            done.set()

    errors = []
    bg = BackgroundSync(SyncClient(store, fake.client()), min_delay=0.01, max_delay=0.05, interval=30,
                        on_change=lambda s: (s.state == "error" and errors.append(s), on_change(s)))
    bg.start()
    assert done.wait(5), states  # the retries came after the backoff, not after the 30 s interval
    assert states.count("error") == 3
    assert all(s.next_in is not None and s.next_in <= 0.05 for s in errors), [s.next_in for s in errors]
    assert_exactly_once(fake, store)
    # on demand while idle for 30 s: trigger() returns while the sync it starts is held at the
    # server (were it to wait for the sync, the request would never be released and time out)
    done.clear()
    states.clear()
    store.add_household(store.hamlets()[0].id, "Số 99")
    fake.faults = [("/push", "hold")]
    bg.trigger()
    assert fake.holding.wait(5)
    assert not done.is_set()
    fake.release.set()
    assert done.wait(5)
    assert "error" not in states, states
    assert_exactly_once(fake, store)
    bg.stop()
    assert not bg.running


def test_trigger_starts_the_thread_if_needed(store, fake):
    bg = BackgroundSync(SyncClient(store, fake.client()), interval=30)
    seen = threading.Event()
    bg.on_change = lambda s: s.state == "idle" and s.report is not None and seen.set()
    bg.trigger()
    assert seen.wait(5)
    bg.stop()


class CountingLock:
    """A lock that counts who asked for it (holding or waiting)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self.asked = 0

    def __enter__(self) -> None:
        with self._count:
            self.asked += 1
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_two_syncs_at_once_are_serialised(store, fake):
    work(store, 3)
    client = SyncClient(store, fake.client())
    client._lock = lock = CountingLock()  # type: ignore[assignment]  # who waits for the one sync at a time
    fake.faults = [("/push", "hold")]
    errors = []

    def run():
        try:
            client.sync_once()
        except SyncError as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    assert fake.holding.wait(5)  # one push is at the server, held
    wait_until(lambda: lock.asked == 3, 5, message="the other two syncs never waited for the first")
    assert len(fake.requests) == 1  # ... and nothing else reached it meanwhile
    fake.release.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fake.pushes()) == 1
    assert_exactly_once(fake, store)
