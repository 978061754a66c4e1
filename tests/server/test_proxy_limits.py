"""Hardening (issue #12): X-Forwarded-For and X-Forwarded-Proto are believed only from a
configured proxy (GOCUA_TRUSTED_PROXIES; by default nobody's: the socket's peer is the
client), and requests refused for their token (none, unknown, revoked) are limited per
client address like unknown tokens.

Two real servers over the module's database: the module's (no proxy configured) and one
that trusts 127.0.0.12 as its reverse proxy. Each client leaves from a loopback address of
its own (127.0.0.0/8 is all loopback on Linux), so each has its own buckets.
"""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sync_server.services import enrolment

from ..support import Server
from .reporting import engine_for

PROXY = "127.0.0.12"


def from_address(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


@pytest.fixture(scope="module")
def proxied(server) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    behind = Server(server.db_url, env={"GOCUA_TRUSTED_PROXIES": PROXY}).start()
    yield behind
    behind.close()


def _guess_until_limited(client: httpx.Client, url: str, forwarded: list[str] | None) -> list[int]:
    """Wrong enrolment codes, each from the next X-Forwarded-For (rotating) if given, until a
    429 or 20 tries (the bucket: 10 at once, one more every 6 s)."""
    statuses = []
    for i in range(20):
        headers = {"X-Forwarded-For": forwarded[i % len(forwarded)]} if forwarded else {}
        answer = client.post(url + "/api/v1/enroll", json={"code": f"ZZZZ-YYYY-{i:04d}"}, headers=headers)
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            break
    return statuses


ROTATING = [f"198.51.100.{i}" for i in range(1, 21)]


def test_a_rotating_x_forwarded_for_does_not_escape_the_enrolment_limit(server):
    with from_address("127.0.0.1") as guesser:  # the address uvicorn used to believe the header from
        statuses = _guess_until_limited(guesser, server.url, ROTATING)
    assert statuses[-1] == 429 and set(statuses[:10]) == {400}, statuses


def test_x_forwarded_proto_is_not_believed_without_a_proxy(server):
    answer = httpx.get(server.url + "/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in answer.headers


def test_behind_the_configured_proxy_the_forwarded_client_is_believed(proxied):
    with from_address(PROXY) as proxy:
        # one client behind the proxy guesses until it is limited …
        statuses = _guess_until_limited(proxy, proxied.url, ["203.0.113.5"])
        assert statuses[-1] == 429 and set(statuses[:10]) == {400}, statuses
        # … another client behind the same proxy is not held back
        answer = proxy.post(proxied.url + "/api/v1/enroll", json={"code": "ZZZZ-XXXX-0000"},
                            headers={"X-Forwarded-For": "203.0.113.6"})
        assert answer.status_code == 400 and answer.json()["error"] == "unknown_code"
        # and the scheme the proxy says the client used turns HSTS on
        answer = proxy.get(proxied.url + "/healthz", headers={"X-Forwarded-Proto": "https"})
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
    with from_address("127.0.0.13") as stranger:  # not the proxy: its header is not believed
        statuses = _guess_until_limited(stranger, proxied.url, ROTATING)
        assert statuses[-1] == 429, statuses


def _enrol_from(client: httpx.Client, server: Server) -> dict[str, str]:
    """An admin enrolled from `client`'s address (127.0.0.1's enrolment bucket is spent above)."""
    with engine_for(server).begin() as conn:
        code, _ = enrolment.create_enrolment(conn, "admin")
    body = client.post(server.url + "/api/v1/enroll", json={"code": code}).json()
    return {"device_id": body["device_id"], "Authorization": f"Bearer {body['token']}"}


def _until_limited(client: httpx.Client, url: str, headers: dict[str, str]) -> list[int]:
    statuses = []
    for _ in range(130):  # 60 at once, then one a second
        statuses.append(client.get(url + "/api/v1/sync/receipt", headers=headers).status_code)
        if statuses[-1] == 429:
            break
    return statuses


@pytest.mark.parametrize("kind", ["no token", "revoked"])
def test_requests_refused_for_their_token_are_limited_per_address(server, kind):
    address = "127.0.0.14" if kind == "revoked" else "127.0.0.15"
    with from_address(address) as client:
        headers: dict[str, str] = {}
        refusal = 401
        if kind == "revoked":
            device = _enrol_from(client, server)
            with engine_for(server).begin() as conn:
                enrolment.revoke(conn, device.pop("device_id"))
            headers, refusal = device, 403
        statuses = _until_limited(client, server.url, headers)
        assert statuses[-1] == 429 and set(statuses[:60]) == {refusal}, statuses
        assert client.get(server.url + "/api/v1/sync/receipt", headers=headers).status_code == 429
        # a working token from the same address is never held back
        working = _enrol_from(client, server)
        working.pop("device_id")
        assert client.get(server.url + "/api/v1/sync/receipt", headers=working).status_code == 200
