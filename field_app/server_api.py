"""The leader's online-only calls: open conflicts, the team's devices, quarantined events.

    api = ServerApi(store)            # the device's server and Bearer token
    api.conflicts("10525")            # [{"id", "entity", "type", "field", "values": [earlier, later], ...}]
    api.team_devices()                # [{"device_id", "role", "last_push_at", "quarantined", ...}]
    api.quarantined(device_id)        # [{"seq", "kind", "reason", "received_at"}]

Requests and failures go through the sync client's one HTTP path, so every
answer maps to the same errors as a sync (`Offline`, `ServerBusy`,
`NotEnrolled`, `Revoked`, `Rejected`, `BadAnswer`: see docs/device.md).
These calls block: screens run them off the event loop.
"""
from __future__ import annotations

from typing import Any

import httpx

from .store import Store
from .sync import BadAnswer, SyncClient

CONFLICTS = "/api/v1/conflicts"
TEAM_DEVICES = "/api/v1/team/devices"
TEAM_QUARANTINED = "/api/v1/team/quarantined"
DEFAULT_TIMEOUT = 15.0  # a person is waiting for the answer


class ServerApi:
    def __init__(self, store: Store, client: httpx.Client | None = None, timeout: float | None = None) -> None:
        self.store = store
        self._http = SyncClient(store, client=client,
                                timeout=DEFAULT_TIMEOUT if client is None and timeout is None else timeout)

    def close(self) -> None:
        self._http.close()

    def _list(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        body = self._http._json(self._http._request("GET", path, params=params))
        rows = body.get(key)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadAnswer(f"the server's answer has no list {key!r}")
        return rows

    def conflicts(self, commune: str) -> list[dict[str, Any]]:
        """Open conflicts of a commune, in the caller's scope, oldest first."""
        return self._list(CONFLICTS, "conflicts", commune=commune)

    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]:
        """The devices this caller may see (a leader: the team's), with their sync bookkeeping."""
        return self._list(TEAM_DEVICES, "devices", **({"commune": commune} if commune else {}))

    def quarantined(self, device_id: str) -> list[dict[str, Any]]:
        """A member device's quarantined events: seq, kind, reason, received_at."""
        return self._list(TEAM_QUARANTINED, "quarantined", device_id=device_id)
