"""FakeServer: the sync wire contract in miniature (push, pull, receipt), with faults on cue that
the real server cannot produce when asked (a request dropped before it commits, an answer lost
after, 5xx, slowness held on an event). tests/test_sync_client.py drives the client against it;
tests/test_fake_server_contract.py holds it to the real server: the same request gets the same
status, error code and keys from both.
"""
from __future__ import annotations

import gzip
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

import httpx

from campaign.events import MAX_BATCH, canonical, digest, quarantine_line


class FakeServer:
    """The wire contract in miniature (push, pull, receipt), with faults on cue.

    faults: a list of (path, fault) consumed in order by the first request to that path:
    "drop_before" (connection error, nothing committed), "drop_after" (committed, answer
    lost), "timeout", "500", "503", "html" (a captive portal), "413", "hold" (the request waits
    at the server, `holding` set, until the test sets `release`).
    """

    def __init__(self, device_id: str = "dev-a", token: str = "tok-a") -> None:
        self.device_id, self.token = device_id, token
        self.held: dict[int, str] = {}  # this device's seq -> canonical
        self.log: list[dict] = []  # every stored, applied event, with its cursor
        self.quarantine: dict[int, str] = {}  # seqs to refuse, and why
        self.faults: list[tuple[str, str]] = []
        self.requests: list[httpx.Request] = []
        self.revoked = False
        self.holding = threading.Event()  # a "hold" request has reached the server
        self.release = threading.Event()  # ... and may go on
        self.cursor = 0  # never reused, even after a restore
        self.cursor_of: dict[int, int] = {}  # this device's applied seqs: their cursors
        self.names_cursors = True  # False: answers as a server before issue #16 (no cursors, no `mine`)
        self.team_settings = {"sample_every": 10, "lapse_days": 5}  # what the last pull page carries

    def _store(self, event: dict) -> int:
        self.cursor += 1
        self.log.append({**event, "cursor": self.cursor})
        return self.cursor

    @property
    def acked(self) -> int:
        return len(self.held)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def add_foreign(self, events: list[dict]) -> None:
        for e in events:
            self._store(e)

    def forget_after(self, seq: int) -> None:
        """A restore from an older backup: the server lost this device's events after seq."""
        lost = {s for s in self.held if s > seq}
        for s in lost:
            del self.held[s]
            self.cursor_of.pop(s, None)
        self.log = [e for e in self.log if not (e["device_id"] == self.device_id and e["seq"] in lost)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        fault = None
        for i, (where, _what) in enumerate(self.faults):
            if path.endswith(where):
                fault = self.faults.pop(i)[1]
                break
        if fault == "drop_before":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "429":
            return httpx.Response(429, json={"error": "rate_limited", "detail": "wait 12 s", "retry_after": 12})
        if fault in ("500", "503"):
            return httpx.Response(int(fault), json={"error": "internal", "detail": "database is restarting"},
                                  headers={"Retry-After": "7"} if fault == "503" else {})
        if fault == "html":
            return httpx.Response(200, text="<html>Wi-Fi login</html>", headers={"Content-Type": "text/html"})
        if fault == "hold":
            self.holding.set()
            if not self.release.wait(5):
                raise AssertionError("the test never released the held request")
        if "Authorization" not in request.headers:
            return httpx.Response(401, json={"error": "unauthenticated", "detail": "no bearer token"})
        if request.headers["Authorization"] != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": "unknown_token", "detail": "this server gave no such token"})
        if self.revoked:
            return httpx.Response(403, json={"error": "revoked", "detail": "revoked by the commune admin"})
        if path == "/api/v1/sync/push":
            if fault == "413":
                return httpx.Response(413, json={"error": "too_large", "detail": "more than 5 MB"})
            response = self.push(request)
        elif path == "/api/v1/sync/pull":
            query = parse_qs(request.url.query.decode())
            response = self.pull(int(query["after"][0]), int(query["limit"][0]),
                                 int(query.get("mine", ["0"])[0]) if self.names_cursors else 0)
        elif path == "/api/v1/sync/receipt":
            response = self.receipt()
        else:
            response = httpx.Response(404, json={"error": "not_found", "detail": path})
        if fault == "drop_after":
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return response

    def push(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        if body.get("schema") != 1:
            return httpx.Response(400, json={"error": "unknown_schema", "detail": "schema 1 only"})
        if len(body["events"]) > MAX_BATCH:
            return httpx.Response(413, json={"error": "too_many", "detail": "500 events at most"})
        if any(e["device_id"] != self.device_id for e in body["events"]):
            return httpx.Response(403, json={"error": "wrong_device", "detail": "not this token's device"})
        quarantined: list[dict] = []
        cursors: list[list[int]] = []  # [seq, cursor] of the applied events, new or held
        for event in body["events"]:
            seq, text = event["seq"], canonical(event)
            if seq in self.held:
                if self.held[seq] != text:
                    return httpx.Response(409, json={"error": "seq_reused", "acked_seq": self.acked,
                                                     "quarantined": quarantined, "cursors": cursors,
                                                     "detail": f"seq {seq} is held with different content"})
                if seq in self.cursor_of:
                    cursors.append([seq, self.cursor_of[seq]])
                continue
            if seq != self.acked + 1:
                return httpx.Response(409, json={"error": "gap", "detail": f"expected seq {self.acked + 1}",
                                                 "acked_seq": self.acked, "expected_seq": self.acked + 1,
                                                 "quarantined": quarantined, "cursors": cursors})
            self.held[seq] = text
            if seq in self.quarantine:
                quarantined.append({"seq": seq, "reason": self.quarantine[seq]})
            else:
                self.cursor_of[seq] = self._store(json.loads(text))
                cursors.append([seq, self.cursor_of[seq]])
        answer = {"acked_seq": self.acked, "quarantined": quarantined, "cursors": cursors, "caught_up": None,
                  "team_settings": None}
        query = parse_qs(request.url.query.decode())
        if "after" in query:  # nothing new after the device's cursor but its own? (as services/pull.py)
            page = json.loads(self.pull(int(query["after"][0]), 1, int(query.get("mine", ["0"])[0])).content)
            if not page["events"] and not page["more"]:  # and the settings that last page carried
                answer["caught_up"], answer["team_settings"] = page["next"], page.get("team_settings")
        if not self.names_cursors:
            del answer["cursors"], answer["caught_up"], answer["team_settings"]
        return httpx.Response(200, json=answer)

    def pull(self, after: int, limit: int, mine: int = 0) -> httpx.Response:
        top = max((e["cursor"] for e in self.log), default=0)
        later = [e for e in self.log if e["cursor"] > after
                 and not (e["device_id"] == self.device_id and e["seq"] <= mine)]
        page = later[:limit]
        more = len(later) > limit
        reached = page[-1]["cursor"] if page else after
        answer: dict[str, Any] = {"events": page, "next": max(reached, top) if mine and not more else reached,
                                  "more": more}
        if not more:  # the last page carries the team's settings, as the real server's does
            answer["team_settings"] = self.team_settings
        return httpx.Response(200, json=answer)

    def receipt(self) -> httpx.Response:
        texts = [quarantine_line(self.held[s]) if s in self.quarantine else self.held[s] for s in sorted(self.held)]
        counts = Counter(json.loads(t)["kind"] for t in texts)
        return httpx.Response(200, json={"acked_seq": self.acked, "counts": dict(counts), "digest": digest(texts)})

    def pushes(self) -> list[list[dict]]:
        out = []
        for r in self.requests:
            if r.url.path.endswith("/push"):
                out.append(json.loads(gzip.decompress(r.content))["events"])
        return out

    def seqs_stored(self) -> list[int]:
        return [e["seq"] for e in self.log if e["device_id"] == self.device_id]
