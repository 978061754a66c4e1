"""POST /sync/push, GET /sync/pull, GET /sync/receipt."""
from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from campaign import events as ev

from .. import clock
from ..auth import Caller, caller
from ..config import MAX_EVENTS, MAX_INFLATED_BYTES, MAX_WIRE_BYTES, PULL_DEFAULT_LIMIT, PULL_MAX_LIMIT
from ..errors import ApiError, responses
from ..ratelimit import check_push_rate
from ..store import devices
from ..store import events as log
from ..store.db import read_transaction, write_transaction

router = APIRouter()


class Quarantined(BaseModel):
    seq: int
    reason: str


class PushAnswer(BaseModel):
    acked_seq: int
    quarantined: list[Quarantined]


class PullAnswer(BaseModel):
    events: list[dict[str, Any]]
    next: int
    more: bool


class Receipt(BaseModel):
    acked_seq: int
    counts: dict[str, int]
    digest: str


PUSH_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["schema", "events"],
    "properties": {"schema": {"type": "integer", "enum": [ev.PROTOCOL]},
                   "events": {"type": "array", "maxItems": MAX_EVENTS, "items": {"type": "object"}}}}}}}}


@router.post("/api/v1/sync/push", response_model=PushAnswer, openapi_extra=PUSH_BODY,
             responses=responses(400, 401, 403, 409, 413, 415, 429))
async def push(request: Request, who: Caller = Depends(caller)) -> PushAnswer:
    """Store this device's events exactly once, in seq order. The body may be gzip-compressed."""
    check_push_rate(who.device.id)
    raw = await _read_limited(request)
    batch = _parse_batch(raw, request.headers.get("content-encoding", ""), who.device.id)
    result = await run_in_threadpool(_push, request, who, batch)
    if result.error == "gap":
        raise ApiError(409, "gap", result.detail, acked_seq=result.acked_seq,
                       expected_seq=result.expected_seq, quarantined=result.quarantined)
    if result.error == "seq_reused":
        raise ApiError(409, "seq_reused", result.detail, acked_seq=result.acked_seq,
                       quarantined=result.quarantined)
    return PushAnswer(acked_seq=result.acked_seq,
                      quarantined=[Quarantined(**q) for q in result.quarantined])


def _push(request: Request, who: Caller, batch: list[dict[str, Any]]) -> log.PushResult:
    with write_transaction(request.app.state.engine) as conn:
        return log.push(conn, who.device, who.scope, batch)


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
        raise ApiError(413, "too_large", f"a push is at most {MAX_WIRE_BYTES // 2**20} MB on the wire")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WIRE_BYTES:
            raise ApiError(413, "too_large", f"a push is at most {MAX_WIRE_BYTES // 2**20} MB on the wire")
        chunks.append(chunk)
    return b"".join(chunks)


def _inflate(raw: bytes) -> bytes:
    """gunzip with a ceiling: a gzip bomb is refused while inflating, not after."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        data = raw
        while data:
            out += inflater.decompress(data, MAX_INFLATED_BYTES + 1 - len(out))
            if len(out) > MAX_INFLATED_BYTES:
                raise ApiError(413, "too_large", f"a push inflates to at most {MAX_INFLATED_BYTES // 2**20} MB")
            data = inflater.unconsumed_tail
        out += inflater.flush()
    except zlib.error as bad:
        raise ApiError(400, "bad_gzip", f"the body is not valid gzip: {bad}") from None
    if not inflater.eof:
        raise ApiError(400, "bad_gzip", "the gzip body is cut short")
    if len(out) > MAX_INFLATED_BYTES:
        raise ApiError(413, "too_large", f"a push inflates to at most {MAX_INFLATED_BYTES // 2**20} MB")
    return bytes(out)


def _parse_batch(raw: bytes, encoding: str, device_id: str) -> list[dict[str, Any]]:
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        raw = _inflate(raw)
    elif encoding not in ("", "identity"):
        raise ApiError(415, "bad_encoding", "send the body as plain JSON or with Content-Encoding: gzip")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as bad:
        raise ApiError(400, "bad_json", f"the body is not JSON: {bad}") from None
    if not isinstance(body, dict) or "events" not in body or "schema" not in body:
        raise ApiError(400, "bad_request", 'the body must be {"schema": 1, "events": [...]}')
    if body["schema"] != ev.PROTOCOL or isinstance(body["schema"], bool):
        raise ApiError(400, "unknown_schema", f"protocol schema {body['schema']!r} is not known: this server speaks {ev.PROTOCOL}")
    events = body["events"]
    if not isinstance(events, list):
        raise ApiError(400, "bad_request", "events must be a list")
    if len(events) > MAX_EVENTS:
        raise ApiError(413, "too_many", f"at most {MAX_EVENTS} events a push; got {len(events)}")
    for i, event in enumerate(events):
        try:
            ev.check_envelope_keys(event)
        except ev.InvalidEvent as bad:
            raise ApiError(400, bad.code, f"event {i}: {bad.detail}") from None
        if event["device_id"] != device_id:
            raise ApiError(403, "wrong_device", f"event {i} belongs to device {event['device_id']!r}, not this one")
    return [ev.normalize(event) for event in events]


@router.get("/api/v1/sync/pull", response_model=PullAnswer, responses=responses(400, 401, 403))
def pull(request: Request, after: int = Query(0, ge=0, le=2**63 - 1),  # a cursor is a 64-bit integer
         limit: int = Query(PULL_DEFAULT_LIMIT, ge=1, le=PULL_MAX_LIMIT),
         who: Caller = Depends(caller)) -> Response:
    """Events after a cursor, in the device's scope, page by page; `next` is where to resume."""
    with read_transaction(request.app.state.engine) as conn:
        rows, more = log.pull(conn, who.scope, after, limit)
    if not more:  # caught up: worth telling the team leader
        with read_transaction(request.app.state.engine) as conn:
            devices.touch_pull(conn, who.device.id, clock.now_iso())
    # The stored bodies are JSON already: splice the cursor in instead of parsing them.
    events = ",".join(f'{body[:-1]},"cursor":{cursor}}}' for cursor, body in rows)
    next_cursor = rows[-1][0] if rows else after
    text = f'{{"events":[{events}],"next":{next_cursor},"more":{"true" if more else "false"}}}'
    return Response(text, media_type="application/json")


@router.get("/api/v1/sync/receipt", response_model=Receipt, responses=responses(401, 403))
def receipt(request: Request, who: Caller = Depends(caller)) -> Receipt:
    """What the server holds of this device: acknowledged seq, counts per kind, and a digest."""
    with read_transaction(request.app.state.engine) as conn:
        return Receipt(**log.receipt(conn, who.device))
