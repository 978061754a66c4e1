"""The sealed relay's routes: GET /server-key, POST /sync/sign-key, POST /sync/relay
(services/relay.py has the rules; docs/sync.md, "Sealed relay")."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ..errors import responses
from ..services import relay
from .deps import Caller, caller, reading, writing
from .ratelimit import check_push_rate
from .sync import Quarantined, _read_limited

router = APIRouter()


class ServerKey(BaseModel):
    seal: str  # X25519 public key (base64url): a bundle is sealed to it
    sign: str  # Ed25519 public key (base64url): the server's receipts are signed with it


class SignKey(BaseModel):
    sign_key: str = Field(min_length=43, max_length=43)


class RelayAnswer(BaseModel):
    device_id: str
    acked_seq: int
    quarantined: list[Quarantined]
    receipt: dict[str, Any]


RELAY_BODY = {"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
    "type": "string", "format": "binary"}}}}}


@router.get("/api/v1/server-key", response_model=ServerKey)
def server_key(request: Request) -> ServerKey:
    """The server's public keys: phones seal their relay bundles to `seal`, check receipts with `sign`."""
    with reading(request) as conn:
        keys = relay.published(conn)
    if keys is None:
        with writing(request) as conn:
            keys = relay.ensure_keys(conn)
    return ServerKey(seal=keys.seal, sign=keys.sign)


@router.post("/api/v1/sync/sign-key", status_code=204, responses=responses(400, 401, 403, 409))
def sign_key(body: SignKey, request: Request, who: Caller = Depends(caller)) -> None:
    """Register this device's Ed25519 public key (phones enrolled before the relay): once; the
    same key again is fine, another is refused (`key_exists`)."""
    with writing(request) as conn:
        relay.register_key(conn, who.device.id, body.sign_key)


@router.post("/api/v1/sync/relay", response_model=RelayAnswer, openapi_extra=RELAY_BODY,
             responses=responses(400, 401, 403, 404, 409, 413, 429))
async def relay_bundle(request: Request, who: Caller = Depends(caller)) -> RelayAnswer:
    """Upload a sealed bundle another phone made (any enrolled device may carry one): its events
    are applied as that phone's push; the answer holds a receipt signed by the server for it."""
    check_push_rate(who.device.id)
    raw = await _read_limited(request)
    done = await run_in_threadpool(_relay, request, raw)
    return RelayAnswer(device_id=done.device_id, acked_seq=done.acked_seq,
                       quarantined=[Quarantined(seq=q.seq, reason=q.reason) for q in done.quarantined],
                       receipt=done.receipt)


def _relay(request: Request, raw: bytes) -> relay.Relayed:
    with writing(request) as conn:
        return relay.relay(conn, raw)
