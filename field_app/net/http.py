"""One HTTP client for every call the device makes to its server with its identity.

The base URL and the Bearer token are read from the device's credentials at each request
(an enrolment changes them); every failure becomes one of the SyncError family
(errors.py), whichever screen made the call, so every screen catches the same errors.
A `410 purged` answer is handed to `on_purged` before it is raised: whichever call hears
it first (a sync, a receipt, a leader's or an officer's screen), the data goes at once
(SECURITY.md, "Retention").

Issue #12 will add the server's sign-out call (signout.py will make it through this
client); there is none yet.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from .errors import BadAnswer, NotEnrolled, Offline, Purged, PurgeNotice, Rejected, Revoked, ServerBusy

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds per request (connect at most 10)

OnPurged = Callable[[Purged], PurgeNotice]  # deletes the device's data, returns what to tell the person


class Credentials(Protocol):
    """Where the device's server and token are kept (field_app.store.Store)."""

    @property
    def server_url(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...


class HttpClient:
    """Requests to the device's server with its Bearer token, mapped to the SyncError family.

    timeout: seconds per request (connect at most 10). Default `default_timeout` with the
    httpx client made here; a client passed in keeps its own timeouts unless one is given
    (and is not closed by `close`)."""

    def __init__(self, credentials: Credentials, on_purged: OnPurged, client: httpx.Client | None = None,
                 timeout: float | None = None, default_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.credentials = credentials
        self.on_purged = on_purged
        self._own_client = client is None
        if client is None:
            timeout = default_timeout if timeout is None else timeout
        self.timeout = None if timeout is None else httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.http = client if client is not None else httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        if self._own_client:
            self.http.close()

    def request(self, method: str, path: str, *, allow: tuple[int, ...] = (), **kw: Any) -> httpx.Response:
        """One request; an answer of 400 or more raises unless its status is in `allow`."""
        base, token = self.credentials.server_url, self.credentials.token
        if not base or not token:
            raise NotEnrolled("this device is not enrolled")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **kw.pop("headers", {})}
        if self.timeout is not None and not self._own_client:
            kw["timeout"] = self.timeout
        try:
            response = self.http.request(method, base + path, headers=headers, **kw)
        except httpx.TimeoutException as exc:
            raise Offline(f"the server did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Offline(f"no connection to the server ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPError as exc:
            raise BadAnswer(f"the server's answer could not be read ({type(exc).__name__}: {exc})") from exc
        status = response.status_code
        if status < 400 or status in allow:
            return response
        error, detail = error_of(response)
        if status == 401:
            raise NotEnrolled(f"the server does not know this device: {detail}", code=error, status=status)
        if status == 403 and error == "revoked":
            raise Revoked(f"this device was revoked: {detail}", code=error, status=status)
        if status == 410 and error == "purged":
            purged = _purged_answer(response, detail)
            try:
                purged.notice = self.on_purged(purged)
            except Exception:  # the identity stays if the purge failed: the next request is told again
                log.exception("deleting the personal data of a purged campaign failed")
            raise purged
        if status == 429 or status >= 500:
            raise ServerBusy(f"the server is unavailable ({status}): {detail}", code=error, status=status,
                             retry_after=_retry_after(response))
        raise Rejected(f"the server refused the request ({status} {error}): {detail}", code=error, status=status,
                       answer=answer_of(response))

    def get_json(self, path: str, **params: Any) -> dict[str, Any]:
        """GET with query parameters; the answer must be a JSON object."""
        return json_object(self.request("GET", path, params=params))


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or BadAnswer (a captive portal's page, a proxy's error)."""
    try:
        body = response.json()
    except ValueError:
        raise BadAnswer(f"the server's answer is not JSON ({response.status_code})") from None
    if not isinstance(body, dict):
        raise BadAnswer("the server's answer is not a JSON object")
    return body


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The server's error code and detail (sync_server/errors.py's shape), or the HTTP status's."""
    try:
        body = response.json()
    except ValueError:
        return "http_" + str(response.status_code), response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail")
        return str(body.get("error") or "http_" + str(response.status_code)), \
            detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)[:300]
    return "http_" + str(response.status_code), str(body)[:200]


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The error answer's JSON object (empty if it is none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait: the JSON's retry_after (what sync_server sends with 429) or a Retry-After header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    candidates = [body.get("retry_after") if isinstance(body, dict) else None,
                  response.headers.get("Retry-After")]
    for value in candidates:
        try:
            if value is not None and not isinstance(value, bool):
                return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return None


def _purged_answer(response: httpx.Response, detail: str) -> Purged:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    commune, purged_at = body.get("commune"), body.get("purged_at")
    commune = commune if isinstance(commune, str) and commune else None
    purged_at = purged_at if isinstance(purged_at, str) and purged_at else None
    return Purged(f"the campaign{' in commune ' + commune if commune else ''} is over and its retention "
                  f"period has passed: the server purged its personal data"
                  f"{' at ' + purged_at if purged_at else ''} ({detail})",
                  code="purged", status=410, commune=commune, purged_at=purged_at)


def same_server(known: str | None, other: str) -> bool:
    """Whether two server addresses are the same origin: scheme, host and port (the default
    port of the scheme when none is written)."""
    if not known:
        return False
    a, b = urlsplit(known), urlsplit(other)
    defaults = {"http": 80, "https": 443}
    try:
        return (a.scheme.lower(), (a.hostname or "").lower(), a.port or defaults.get(a.scheme.lower())) == \
            (b.scheme.lower(), (b.hostname or "").lower(), b.port or defaults.get(b.scheme.lower()))
    except ValueError:
        return False
