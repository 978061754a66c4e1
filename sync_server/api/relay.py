"""The sealed relay's routes: GET /server-key, POST /sync/sign-key, POST /sync/relay, and the
down road's POST /sync/box-key, GET /sync/relay-down (services/relay.py and relay_down.py have
the rules; docs/sync.md, "Sealed relay")."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ..config import PULL_DEFAULT_LIMIT, PULL_MAX_LIMIT
from ..errors import responses
from ..services import relay, relay_down
from .deps import TEAM_REVIEWERS, Caller, caller, engine_of, reading, writing
from .ratelimit import check_push_rate
from .sync import Quarantined, _read_limited

router = APIRouter()


class ServerKey(BaseModel):
    seal: str  # X25519 public key (base64url): a bundle is sealed to it
    sign: str  # Ed25519 public key (base64url): the server's receipts are signed with it


class SignKey(BaseModel):
    sign_key: str = Field(min_length=43, max_length=43)


class BoxKey(BaseModel):
    box_key: str = Field(min_length=43, max_length=43)


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


@router.post("/api/v1/sync/box-key", status_code=204, responses=responses(400, 401, 403, 409))
def box_key(body: BoxKey, request: Request, who: Caller = Depends(caller)) -> None:
    """Register this device's X25519 public key (phones enrolled before the down road): leaders'
    bundles for it are sealed to it. Once; the same key again is fine, another is `key_exists`."""
    with writing(request) as conn:
        relay_down.register_box_key(conn, who.device.id, body.box_key)


DOWN_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                     "description": "the down bundle (gocua-down/1): sealed to the phone, signed by the server"}}


@router.get("/api/v1/sync/relay-down", response_class=Response,
            responses={**DOWN_ANSWER, **responses(400, 401, 403, 404, 409)})
def relay_down_bundle(request: Request, device: str = Query(..., min_length=1, max_length=64),
                      after: int | None = Query(None, ge=0, le=2**63 - 1, description=(
                          "start after this cursor; by default the cursor the phone is known to hold")),
                      limit: int = Query(PULL_DEFAULT_LIMIT, ge=1, le=PULL_MAX_LIMIT),
                      who: Caller = Depends(TEAM_REVIEWERS)) -> Response:
    """A down bundle for a phone of the caller's team (an officer: of the commune; an admin: any):
    the pull page that phone would get, sealed to its box key and signed by the server, for the
    caller to carry to it. `X-Gocua-More: 1` when its pull would have more: the next bundle starts
    `after` its `X-Gocua-Next` (the cursors are in these headers for the caller, not in the file)."""
    made = relay_down.down_bundle(engine_of(request), who, device, after, limit)
    return Response(made.raw, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{relay_down.file_name(made.device_id, made.next)}"',
        "X-Gocua-Events": str(made.events), "X-Gocua-After": str(made.after), "X-Gocua-Next": str(made.next),
        "X-Gocua-More": "1" if made.more else "0"})
