"""What a request to the server can end in: the SyncError family (what the screen says, and
whether waiting helps), and the notice kept when the server says the campaign was purged.
See docs/device.md ("The sync client") for which answer raises which."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SyncError(Exception):
    """A sync did not finish. `retryable`: trying again later may succeed on its own."""
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 answer: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        #: the server's error answer (its `field`, `rule`, `limit` …): what the screen's sentence needs
        self.answer = answer or {}


class Retryable(SyncError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class Offline(Retryable):
    """No answer: no network, connection dropped, timed out."""


class ServerBusy(Retryable):
    """The server answered 5xx or 429: it is there but cannot take the request now."""


class BadAnswer(Retryable):
    """An answer that is not the sync API's (a captive portal, a proxy, a broken server)."""


class NotEnrolled(SyncError):
    """No identity, or the server does not know the token (401): enrol again."""


class Revoked(SyncError):
    """The device was revoked (403, "revoked"): the app says so and purges."""


class Rejected(SyncError):
    """Any other 4xx: the screen says the code's sentence (i18n.refusal_text), never the detail."""


class SeqConflict(Rejected):
    """The server holds one of our seqs with different content (409): a bug to report, not to retry."""


class NotAllSent(SyncError):
    """Sign-out refused: events are still waiting to be sent."""


@dataclass(frozen=True)
class PurgeNotice:
    """What the app tells the person after a `410 purged`, even after a restart. Nothing personal: a
    commune code, two times and a count, so it is kept in clear beside the settings."""
    commune: str | None  # the campaign's commune (5-digit code), as the server said
    purged_at: str | None  # when the server purged it (ISO 8601)
    deleted_at: str  # when this device deleted its own copy (its clock, ISO 8601)
    dropped: int  # events made here that can never be delivered: deleted with the rest

    def to_json(self) -> dict[str, Any]:
        return {"commune": self.commune, "purged_at": self.purged_at, "deleted_at": self.deleted_at,
                "dropped": self.dropped}

    @classmethod
    def from_json(cls, value: Any) -> PurgeNotice | None:
        """None for anything that is not a notice (a setting written by a newer or broken app)."""
        if not isinstance(value, dict) or not isinstance(value.get("deleted_at"), str):
            return None
        dropped = value.get("dropped")
        texts = {k: value.get(k) if isinstance(value.get(k), str) else None for k in ("commune", "purged_at")}
        return cls(texts["commune"], texts["purged_at"], value["deleted_at"],
                   dropped if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0 else 0)


class Purged(SyncError):
    """410 "purged": the campaign's retention period is over; the server removed its personal data and
    retired this device. Never retried and never followed by a push (the server refuses this identity for
    good): the device deletes its own personal data at once (the client's `on_purged`, SECURITY.md
    "Retention"). `notice` is set once that is done."""

    def __init__(self, message: str, *, commune: str | None = None, purged_at: str | None = None,
                 code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.commune = commune
        self.purged_at = purged_at
        self.notice: PurgeNotice | None = None

    def __str__(self) -> str:
        text = super().__str__()
        if self.notice is not None:
            text += (f"; this device deleted its personal data at {self.notice.deleted_at}"
                     f" ({self.notice.dropped} unsent events dropped)")
        return text
