"""The sync side of the store: what to push, what the server acknowledged or quarantined, the
pulled pages, households that moved away, and the receipt. See docs/device.md ("Sync
bookkeeping in the store", "Households that move away").

Every step is stored in one transaction with what it changes, so a sync killed at any
point resumes from what was stored.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from campaign.events import ENVELOPE, canonical, digest, normalize, quarantine_line

from .clock import Clock, stamp
from .entities import Entities
from .errors import StoreError
from .log import last_seq, related
from .meta import Meta, MetaValue
from .pagefast import Pulled, apply_in_order
from .replay import Replay
from .rows import QuarantinedEvent, Receipt, Work, work_of
from .sealed import SealedDatabase, locked
from .sql import chunks, marks

IN_ORDER = True  # False: every page replayed in full (the property test's reference)


class SyncState:
    pull_cursor = MetaValue[int]("pull_cursor", int, 0)
    acked_seq = MetaValue[int]("acked_seq", int, 0)
    last_sync_ok = MetaValue[str | None]("last_sync_ok")
    last_error = MetaValue[str | None]("last_error")
    last_error_at = MetaValue[str | None]("last_error_at")

    def __init__(self, sealed: SealedDatabase, meta: Meta, entities: Entities, replay: Replay, clock: Clock) -> None:
        self.sealed = sealed
        self.meta = meta
        self.entities = entities
        self.replay = replay
        self.clock = clock

    @property
    def last_seq(self) -> int:
        with self.sealed.lock:
            return last_seq(self.sealed)

    @locked
    def record_sync_success(self, at: str | None = None) -> None:
        with self.sealed.db.atomic():
            self.meta.set("last_sync_ok", at or stamp(self.clock))
            self.meta.set("last_error", None)
            self.meta.set("last_error_at", None)

    @locked
    def record_sync_error(self, text: str) -> None:
        with self.sealed.db.atomic():
            self.meta.set("last_error", str(text))
            self.meta.set("last_error_at", stamp(self.clock))

    # ---- push ------------------------------------------------------------------------------

    @locked
    def pending(self, limit: int = 500) -> list[dict[str, Any]]:
        """Events the server has not acknowledged, in seq order, exactly as their canonical JSON."""
        rows = self.sealed.db.execute("SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                                      [self.acked_seq, limit]).fetchall()
        return [json.loads(self.sealed.unseal("outbox", "body", seq, body)) for seq, body in rows]

    @locked
    def pending_count(self) -> int:
        return int(self.sealed.db.execute("SELECT count(*) FROM outbox WHERE seq > ?",
                                          [self.acked_seq]).fetchone()[0])

    @locked
    def work(self, which: str = "pending") -> Work:
        """This device's events as visits, reviews, households and people (rows.Work):
        `pending` (not acknowledged yet), `sent` (acknowledged and applied) or `quarantined`."""
        where = {"pending": "seq > ?", "sent": "seq <= ? AND status != 'quarantined'",
                 "quarantined": "status = 'quarantined' AND ? IS NOT NULL"}[which]
        return work_of(self.sealed.db.execute(f"SELECT kind, entity, related FROM outbox WHERE {where}",
                                              [self.acked_seq]).fetchall())

    @locked
    def work_between(self, first: int, last: int) -> Work:
        """The events first..last (a relay bundle's seq range) as visits, households and people."""
        return work_of(self.sealed.db.execute("SELECT kind, entity, related FROM outbox WHERE seq BETWEEN ? AND ?",
                                              [first, last]).fetchall())

    @locked
    def acknowledge(self, acked_seq: int, quarantined: Iterable[Mapping[str, Any]] = (),
                    cursors: Iterable[tuple[int, int]] = ()) -> None:
        """The server holds every seq up to acked_seq; the quarantined ones ({seq, reason}) leave the state.
        Never beyond the last seq made, never backwards; a quarantined seq reported again is idempotent.
        `cursors` ((seq, cursor) of the events the server applied: its push answer) files those
        events where the log holds them, as pulling them back would (`_file_own`)."""
        db = self.sealed.db
        with db.atomic():
            previous = self.acked_seq
            acked = min(int(acked_seq), last_seq(self.sealed))
            reasons = {int(q["seq"]): str(q.get("reason") or "") for q in quarantined}
            touched: set[str] = set()
            settled: set[str] = set()  # what the acknowledged events were about
            for seq, status, entity, about in db.execute(
                    "SELECT seq, status, entity, related FROM outbox WHERE seq > ? AND seq <= ?",
                    [previous, acked]).fetchall():
                settled.add(about or entity)
                if seq in reasons:
                    if status != "quarantined":
                        touched.add(about or entity)
                    self._quarantine(seq, reasons[seq])
                else:
                    if status == "quarantined":  # resent after a gap and accepted this time
                        touched.add(about or entity)
                    db.execute("UPDATE outbox SET status = 'acked', reason = NULL WHERE seq = ?", [seq])
            for seq in reasons:  # reported again for an already acknowledged seq
                if seq <= previous:
                    row = db.execute("SELECT status, entity, related FROM outbox WHERE seq = ?", [seq]).fetchone()
                    if row is not None and row[0] != "quarantined":
                        touched.add(row[2] or row[1])
                        self._quarantine(seq, reasons[seq])
            if acked > previous:
                self.meta.set("acked_seq", acked)
            touched |= self._file_own(cursors, acked)
            if touched:
                self.replay.recompute(touched)
            if settled:  # a household kept after it moved away only for these events can go now
                self.drop_moved_away(settled | touched)

    def _file_own(self, cursors: Iterable[tuple[int, int]], acked: int) -> set[str]:
        """This device's acknowledged events into the inbox at the cursors the server gave them,
        marked pulled: exactly what apply_pulled does when a pull brings them back, so the pull
        may leave them out (`own_filed_upto`). Returns what they are about, to recompute."""
        db = self.sealed.db
        me = self.meta.get("device_id")
        touched: set[str] = set()
        if me is None:
            return touched
        for seq, cursor in cursors:
            if isinstance(seq, bool) or not isinstance(seq, int) or isinstance(cursor, bool) \
                    or not isinstance(cursor, int) or cursor < 1 or seq > acked:
                raise StoreError(f"the server's cursors name seq {seq!r} at {cursor!r}: not an acknowledged event")
            row = db.execute("SELECT id, kind, entity, related, body FROM outbox "
                             "WHERE seq = ? AND status = 'acked' AND pulled = 0", [seq]).fetchone()
            if row is None:
                continue  # filed already, quarantined, or dropped with a household that moved away
            event_id, kind, entity, about, sealed = row
            body = self.sealed.unseal("outbox", "body", seq, sealed)
            db.execute("INSERT OR IGNORE INTO inbox (cursor, id, device_id, seq, kind, entity, related, body) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [cursor, event_id, me, seq, kind, entity, about, self.sealed.seal("inbox", "body", cursor, body)])
            db.execute("UPDATE outbox SET pulled = 1 WHERE seq = ?", [seq])
            touched.add(about or entity)
        return touched

    @locked
    def own_filed_upto(self) -> int:
        """The highest seq up to which every acknowledged event of this device is filed at its
        cursor (pulled, or named by a push answer): a pull may leave those out (`mine`)."""
        db = self.sealed.db
        first = db.execute("SELECT min(seq) FROM outbox WHERE status = 'acked' AND pulled = 0").fetchone()[0]
        return self.acked_seq if first is None else min(self.acked_seq, int(first) - 1)

    def _quarantine(self, seq: int, reason: str) -> None:
        self.sealed.db.execute("UPDATE outbox SET status = 'quarantined', reason = ? WHERE seq = ?",
                               [self.sealed.seal("outbox", "reason", seq, reason), seq])

    @locked
    def resend_from(self, expected_seq: int) -> None:
        """The server is missing events from expected_seq on (it lost them): send them again."""
        with self.sealed.db.atomic():
            acked = max(0, int(expected_seq) - 1)
            if acked < self.acked_seq:
                self.meta.set("acked_seq", acked)
                self.sealed.db.execute("UPDATE outbox SET status = 'pending' WHERE seq > ? AND status = 'acked'",
                                       [acked])

    # ---- pull ------------------------------------------------------------------------------

    @locked
    def apply_pulled(self, events: list[dict[str, Any]], next_cursor: int) -> None:
        """Store one page of the server's events, advance the cursor, recompute: one transaction."""
        db = self.sealed.db
        with db.atomic():
            me = self.meta.get("device_id")
            page: dict[str, str] = {}
            touched: set[str] = set()
            moves: set[str] = set()  # households a household.updated of this page may have moved
            pulled: list[Pulled] = []
            for raw in events:
                if not isinstance(raw, dict) or isinstance(raw.get("cursor"), bool) \
                        or not isinstance(raw.get("cursor"), int) or not isinstance(raw.get("entity"), str) \
                        or not isinstance(raw.get("device_id"), str) or not isinstance(raw.get("seq"), int) \
                        or not isinstance(raw.get("kind"), str) or not isinstance(raw.get("id"), str):
                    raise StoreError(f"malformed event from the server: {str(raw)[:200]}")
                event = normalize({key: raw[key] for key in ENVELOPE if key in raw})
                about = related(self.sealed, event, page)
                if about is not None:
                    page[event["entity"]] = about
                inserted = db.execute(
                    "INSERT OR IGNORE INTO inbox (cursor, id, device_id, seq, kind, entity, related, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [raw["cursor"], event["id"], event["device_id"], event["seq"], event["kind"],
                     event["entity"], about, self.sealed.seal("inbox", "body", raw["cursor"], canonical(event))])
                if me is not None and event["device_id"] == me:
                    db.execute("UPDATE outbox SET pulled = 1 WHERE seq = ? AND id = ?", [event["seq"], event["id"]])
                touched.add(about or event["entity"])
                pulled.append(Pulled(raw["cursor"], event, about or event["entity"], inserted.rowcount == 1))
                if event["kind"] == "household.updated" and isinstance(event.get("data"), dict) \
                        and "hamlet_id" in event["data"]:
                    moves.add(event["entity"])
            if int(next_cursor) > self.pull_cursor:
                self.meta.set("pull_cursor", int(next_cursor))
            if touched:  # on top of the stored state where that is the same (pagefast.py), else replayed
                rest = apply_in_order(self.sealed, self.entities, self.replay, pulled, me) if IN_ORDER else touched
                if rest:
                    self.replay.recompute(rest)
            if moves:
                self.drop_moved_away(moves)

    def drop_moved_away(self, candidates: Iterable[str]) -> None:
        """Forget the households among `candidates` that now stand in a hamlet this device does not
        hold, with their people, visits and the server's events about them: they are another
        team's work now, and data minimisation says this phone should not keep them. A household
        with events of this device not yet acknowledged is kept until they are (acknowledge()
        calls this again): they must reach the server first, and the state shows them until
        then. The outbox keeps this device's own events (the receipt is their digest); they stop
        being replayed on top of the state."""
        db = self.sealed.db
        acked = self.acked_seq
        for household_id in sorted(set(candidates)):
            row = db.execute("SELECT hamlet_id FROM entities WHERE id = ? AND type = 'household'",
                             [household_id]).fetchone()
            if row is None or db.execute("SELECT 1 FROM entities WHERE id = ? AND type = 'hamlet'",
                                         [row[0]]).fetchone() is not None:
                continue  # unknown here, or in one of this device's hamlets
            ids = [household_id] + [r[0] for r in db.execute("SELECT id FROM entities WHERE parent_id = ?",
                                                             [household_id])]
            about = f"(entity IN ({marks(ids)}) OR related = ?)"
            if db.execute(f"SELECT 1 FROM outbox WHERE seq > ? AND {about} LIMIT 1",
                          [acked, *ids, household_id]).fetchone() is not None:
                continue  # pending: kept until acknowledged
            db.execute(f"UPDATE outbox SET pulled = 1 WHERE pulled = 0 AND {about}", [*ids, household_id])
            db.execute(f"DELETE FROM inbox WHERE {about}", [*ids, household_id])
            self.entities.delete(ids)

    # ---- proof and what went wrong ---------------------------------------------------------

    @locked
    def local_receipt(self) -> Receipt:
        """What the server's receipt must say: acknowledged events (quarantined too), in seq order."""
        acked = self.acked_seq
        counts: Counter[str] = Counter()
        lines = []
        for seq, kind, body, status in self.sealed.db.execute(
                "SELECT seq, kind, body, status FROM outbox WHERE seq <= ? ORDER BY seq", [acked]):
            counts[kind] += 1
            line = self.sealed.unseal("outbox", "body", seq, body)
            # the server keeps a refused event's envelope and digest only (docs/sync.md): so does the count
            lines.append(quarantine_line(line) if status == "quarantined" else line)
        return Receipt(acked, dict(sorted(counts.items())), digest(lines))

    @locked
    def quarantined(self) -> list[QuarantinedEvent]:
        return [QuarantinedEvent(seq, kind, self.sealed.unseal_or_null("outbox", "reason", seq, reason), at, entity)
                for seq, kind, reason, at, entity in self.sealed.db.execute(
                    "SELECT seq, kind, reason, at, entity FROM outbox WHERE status = 'quarantined' ORDER BY seq")]

    @locked
    def quarantined_count(self) -> int:
        return int(self.sealed.db.execute("SELECT count(*) FROM outbox WHERE status = 'quarantined'").fetchone()[0])

    @locked
    def event_times(self, event_ids: Iterable[Any]) -> dict[str, str]:
        """When each event was made (its `at`, device time), for the events held here (inbox or outbox)."""
        ids = sorted({i for i in event_ids if isinstance(i, str)})
        out: dict[str, str] = {}
        for chunk in chunks(ids):
            for cursor, event_id, body in self.sealed.db.execute(
                    f"SELECT cursor, id, body FROM inbox WHERE id IN ({marks(chunk)})", chunk):
                out[event_id] = json.loads(self.sealed.unseal("inbox", "body", cursor, body))["at"]
            for event_id, at in self.sealed.db.execute(
                    f"SELECT id, at FROM outbox WHERE id IN ({marks(chunk)})", chunk):
                out.setdefault(event_id, at)
        return out
