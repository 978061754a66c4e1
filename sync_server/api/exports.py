"""GET /api/v1/exports/totals.xlsx, totals.csv and walksheet.pdf (every export is audited).

The workbook is written into a spooled temporary file (memory up to 8 MB, then
disk) and streamed from there. Officers: their commune; leaders: their team's
hamlets; admins: any commune.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from campaign.time import now

from ..errors import responses
from ..render.xlsx import XLSX_TYPE
from ..services import clock, exports, walksheet
from .deps import COMMUNE_PATTERN, EXPORTERS, UUID_PATTERN, Caller, engine_of

router = APIRouter()

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024


def file_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def _filename(commune: str, ext: str) -> str:
    return f"gocua-tong-hop-{commune}-{now():%Y%m%d-%H%M}.{ext}"


@router.get("/api/v1/exports/totals.xlsx", responses={
    **responses(400, 401, 403), 200: {"content": {XLSX_TYPE: {}}, "description": "the workbook"}})
def totals_xlsx(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                who: Caller = Depends(EXPORTERS)) -> Any:
    """Sheets "Tổng hợp" (totals by hamlet, a total row, charts), "Cần theo dõi" (the follow-up
    lists: personal data) and "Thông tin" (campaign, commune, when and by whom)."""
    return spooled_xlsx(lambda out: exports.totals_workbook(engine_of(request), who, commune, out),
                        _filename(commune, "xlsx"))


def spooled_xlsx(write: Callable[[IO[bytes]], object], filename: str) -> StreamingResponse:
    """A workbook written by `write` into a spooled temporary file, streamed from there."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - file_chunks closes it once sent
    try:
        write(spool)
        size = spool.tell()
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(file_chunks(spool), media_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Length": str(size), "Cache-Control": "no-store"})


@router.get("/api/v1/exports/totals.csv", responses={
    **responses(400, 401, 403), 200: {"content": {"text/csv": {}}, "description": "totals by hamlet"}})
def totals_csv(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
               who: Caller = Depends(EXPORTERS)) -> Any:
    """Totals by hamlet and a total row, as CSV (UTF-8 with a byte-order mark; Vietnamese headers)."""
    lines = exports.totals_csv(engine_of(request), who, commune)
    return StreamingResponse((s.encode("utf-8") for s in lines), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_filename(commune, "csv")}"', "Cache-Control": "no-store"})


@router.get("/api/v1/exports/walksheet.pdf", responses={
    **responses(400, 401, 403, 404), 200: {"content": {"application/pdf": {}}, "description": "the walk sheet"}})
def walksheet_pdf(request: Request, hamlet: str = Query(..., pattern=UUID_PATTERN),
                  device: str | None = Query(None, min_length=1, max_length=64),
                  who: Caller = Depends(EXPORTERS)) -> Any:
    """An A4 walk sheet of a hamlet (leader of its team, officer of its commune, admin): one row
    per household still to visit or revisit (never visited, or nobody home at the last visit),
    in walking order, with a short code to key the results back in the app, who still needs
    what (people's labels only where the household's consent is `given`), the volunteer
    assigned and boxes to tick. `device`: only the households that device holds."""
    printed = walksheet.walk_sheet(engine_of(request), who, hamlet, device, clock.now())
    name = f"gocua-phieu-di-tham-{now():%Y%m%d-%H%M}.pdf"
    return Response(printed.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
