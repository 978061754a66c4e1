"""POST /sync/push, GET /sync/pull, GET /sync/receipt."""
from __future__ import annotations

import asyncio
import json
import unicodedata
import zlib
from dataclasses import asdict
from typing import Any
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine

from campaign import events as ev
from campaign.team_settings import TeamSettings

from .. import jsontext
from ..config import MAX_EVENTS, MAX_INFLATED_BYTES, MAX_WIRE_BYTES, PULL_DEFAULT_LIMIT, PULL_MAX_LIMIT
from ..errors import ApiError, responses
from ..services import ingest
from ..services import pull as pulling
from ..store.db import make_way, write_transaction, write_turns
from .deps import Caller, caller, engine_of, reading
from .ratelimit import check_push_rate

router = APIRouter()


class Quarantined(BaseModel):
    seq: int
    reason: str


class TeamSettingsCarried(BaseModel):
    sample_every: int
    lapse_days: int


class PushAnswer(BaseModel):
    acked_seq: int
    quarantined: list[Quarantined]
    # [seq, cursor] of each event of the push the log holds as applied (new, or held from an
    # earlier push of the same seq): the device files them at those cursors and pulls with
    # `mine` so it is not sent them back. Added in issue #16; older devices ignore it.
    cursors: list[tuple[int, int]] = []
    # Asked with ?after=C&mine=N (the device's pull cursor, and the seq up to which its own
    # events will be filed once this answer is): the cursor to pull from when nothing else is
    # new in its scope after C, so its last push needs no pull after it; null otherwise.
    caught_up: int | None = None
    # With caught_up: the settings of the device's team, as a pull's last page carries them,
    # since that pull is not made (a leader's change reaches the phone all the same); null
    # otherwise. Added after issue #16; older devices ignore it.
    team_settings: TeamSettingsCarried | None = None


class PullAnswer(BaseModel):
    events: list[dict[str, Any]]
    next: int
    more: bool
    # On the last page (more false): the settings of the device's team (issue #13; older
    # phones ignore it): the review's sample rate and the walk lists' lapse days.
    team_settings: TeamSettingsCarried | None = None


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
async def push(request: Request, who: Caller = Depends(caller),
               after: int | None = Query(None, ge=0, le=2**63 - 1, description=(
                   "the device's pull cursor: the answer says (caught_up) whether anything else is new")),
               mine: int = Query(0, ge=0, le=2**63 - 1, description=(
                   "with after: the device's own events up to this seq are not news to it"))) -> Response:
    """Store this device's events exactly once, in seq order. The body may be gzip-compressed."""
    check_push_rate(who.device.id)
    raw = await _read_limited(request)
    engine = engine_of(request)
    # Read and worked out in a thread, on a read transaction, while another push writes and the
    # event loop stays free; one push at a time a process (`planners`, below). The write
    # transaction holds the lock for the check and the writes alone. The push waits for its turn
    # to write (store/db.py, WriteTurns) in the event loop, holding no thread of the pool the
    # token lookups and pulls need, and writes in a thread of its own limiter: the turn's holder
    # never waits for a thread behind writers waiting in theirs.
    batch, planned = await to_thread.run_sync(_plan, request, who, raw, limiter=planners())
    async with write_turns(engine).taken_async():
        result = await to_thread.run_sync(_write, engine, who, batch, planned, limiter=CapacityLimiter(1))
    if result.error is not None:  # "gap" | "seq_reused": the lists as the error's fields
        quarantined = _quarantined(result)
        cursors = [list(pair) for pair in result.cursors]
        if result.error == "gap":
            raise ApiError(409, "gap", result.detail, acked_seq=result.acked_seq,
                           expected_seq=result.expected_seq, quarantined=quarantined, cursors=cursors)
        raise ApiError(409, "seq_reused", result.detail, acked_seq=result.acked_seq, quarantined=quarantined,
                       cursors=cursors)
    caught_up, team = None, None
    if after is not None:  # nothing else new after the device's cursor? Then it need not pull
        page = await run_in_threadpool(pulling.pull, engine_of(request), who, after, 1, mine)
        if not page.events and not page.more:
            caught_up = page.next
            team = page.team
    return Response(answer_text(result, caught_up, team), media_type="application/json")


# A worker process plans one push at a time (issue #16). Its threads run Python one at a time
# (the GIL), so a second planner in the same process adds no speed: it only takes turns with the
# first and, worse, with the process's writer, which waits for the GIL while it holds the
# server-wide lock (or has just been handed it). Measured through HTTP, the bench's 500-event
# pushes, 1 worker, two pairs alternated: SQLite 19,659 / 17,672 -> 22,827 / 23,149 events/s,
# PostgreSQL 16,667 / 16,471 -> 17,946 / 18,818, the lock held 19.1 / 19.6 -> 15.8 / 15.1 ms a push
# there; 2 workers SQLite +6 %, PostgreSQL within the noise (BENCHMARKS.md). A push waiting for
# the planner waits in the event loop (the limiter's queue, first come first served), holding no
# thread of the pool that token lookups and pulls need. One limiter per event loop: each worker
# process runs one, and the tests start several in a process, one after another.
_PLANNERS: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


def planners() -> CapacityLimiter:
    """The running event loop's one planner (see above)."""
    loop = asyncio.get_running_loop()
    limiter = _PLANNERS.get(loop)
    if limiter is None:
        limiter = _PLANNERS[loop] = CapacityLimiter(1)
    return limiter


def answer_text(result: ingest.PushResult, caught_up: int | None, team: TeamSettings | None) -> str:
    """PushAnswer's JSON text, written once: built as a model, it was validated and written again
    by FastAPI (response_model), about 4 % of a push's CPU (issue #16). The same keys in the same
    order, written as FastAPI writes them (tests/server/test_push_answer.py)."""
    return jsontext.compact({
        "acked_seq": result.acked_seq,
        "quarantined": _quarantined(result), "cursors": result.cursors, "caught_up": caught_up,
        "team_settings": None if team is None else team.as_wire()})


def _quarantined(result: ingest.PushResult) -> list[dict[str, Any]]:
    """The refusals as the wire spells them, in the answer and in a 409's fields alike."""
    return [{"seq": q.seq, "reason": q.reason} for q in result.quarantined]


def _plan(request: Request, who: Caller, raw: bytes) -> tuple[list[dict[str, Any]], ingest.Plan]:
    """The body read and checked, and the push worked out (ingest.plan), making way event by
    event for this process's writer (store/db.py `make_way`): parsing and validation among the
    work that waits, so the thread that reads the body is a planner like the rest."""
    courtesy = make_way(engine_of(request))
    courtesy()
    body, nfc = _parse(raw, request.headers.get("content-encoding", ""))
    batch = ingest.validate_body(body, who.device.id, nfc=nfc)
    with reading(request) as conn:
        return batch, ingest.plan(conn, who.device, who.scope, batch, courtesy)


def _write(engine: Engine, who: Caller, batch: list[dict[str, Any]], planned: ingest.Plan) -> ingest.PushResult:
    with write_transaction(engine, turn_taken=True) as conn:
        return ingest.push(conn, who.device, who.scope, batch, planned)


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


def _parse(raw: bytes, encoding: str) -> tuple[Any, bool]:
    """The body as JSON, inflated first if it is gzip, and whether every text in it is NFC
    already: true when its UTF-8 text is NFC and spells no character as a \\u escape (a
    string decoded from such a text is a piece of it, its quotes and backslash escapes
    replaced by ASCII characters that combine with no mark, so it is NFC too)."""
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        raw = _inflate(raw)
    elif encoding not in ("", "identity"):
        raise ApiError(415, "bad_encoding", "send the body as plain JSON or with Content-Encoding: gzip")
    try:
        if json.detect_encoding(raw) == "utf-8":  # as json.loads(raw) would decode it (no BOM)
            text = raw.decode("utf-8")
            nfc = b"\\" not in raw or b"\\u" not in raw  # a lone byte is found at C speed, two are not
            return jsontext.loads_utf8(raw, text), nfc and unicodedata.is_normalized("NFC", text)
        return json.loads(raw), False  # UTF-16, UTF-32, a BOM: as before, no shortcut
    except (UnicodeDecodeError, ValueError) as bad:
        raise ApiError(400, "bad_json", f"the body is not JSON: {bad}") from None
    except RecursionError:  # [[[[… 100,000 levels: no event is a tenth as deep
        raise ApiError(400, "bad_json", "the body nests too deeply") from None


@router.get("/api/v1/sync/pull", response_model=PullAnswer, responses=responses(400, 401, 403))
def pull(request: Request, after: int = Query(0, ge=0, le=2**63 - 1),  # a cursor is a 64-bit integer
         limit: int = Query(PULL_DEFAULT_LIMIT, ge=1, le=PULL_MAX_LIMIT),
         mine: int = Query(0, ge=0, le=2**63 - 1, description=(
             "leave out this device's own events up to this seq: it holds them at the cursors its push "
             "answers named (docs/sync.md, \"Own events are not pulled back\")")),
         who: Caller = Depends(caller)) -> Response:
    """Events after a cursor, in the device's scope, page by page; `next` is where to resume."""
    page = pulling.pull(engine_of(request), who, after, limit, mine)
    # The stored bodies are JSON already: splice the cursor in instead of parsing them.
    events = ",".join(f'{body[:-1]},"cursor":{cursor}}}' for cursor, body in page.events)
    team = "" if page.team is None else f',"team_settings":{jsontext.compact(page.team.as_wire())}'  # as the push answer
    text = f'{{"events":[{events}],"next":{page.next},"more":{"true" if page.more else "false"}{team}}}'
    return Response(text, media_type="application/json")


@router.get("/api/v1/sync/receipt", response_model=Receipt, responses=responses(401, 403))
def receipt(request: Request, who: Caller = Depends(caller)) -> Receipt:
    """What the server holds of this device: acknowledged seq, counts per kind, and a digest."""
    with reading(request) as conn:
        return Receipt(**asdict(pulling.receipt(conn, who)))
