"""GET /api/v1/exports/totals.xlsx and totals.csv (every export is audited).

The workbook is written in openpyxl's write-only mode into a spooled temporary
file (memory up to 8 MB, then disk) and streamed from there. Officers: their
commune; leaders: their team's hamlets; admins: any commune.
"""
from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any, BinaryIO, Iterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from campaign.totals import VIETNAM

from ..auth import Caller, require_role
from ..errors import responses
from ..store import exports as store
from ..store import totals as store_totals
from ..store.db import read_transaction
from .audit import COMMUNE_PATTERN, READERS, checked_commune, log, scope_hamlets

router = APIRouter()

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK = 64 * 1024


def _file_chunks(spool: BinaryIO) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def _filename(commune: str, ext: str) -> str:
    return f"gocua-tong-hop-{commune}-{datetime.now(VIETNAM):%Y%m%d-%H%M}.{ext}"


@router.get("/api/v1/exports/totals.xlsx", responses={
    **responses(400, 401, 403), 200: {"content": {store.XLSX_TYPE: {}}, "description": "the workbook"}})
def totals_xlsx(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                who: Caller = Depends(require_role(*READERS))) -> Any:
    """Sheets "Tổng hợp" (totals by hamlet, a total row, charts), "Cần theo dõi" (the follow-up
    lists: personal data) and "Thông tin" (campaign, commune, when and by whom)."""
    checked_commune(who, commune)
    hamlets = scope_hamlets(request, who, commune)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with read_transaction(request.app.state.engine) as conn:
            made = store.write_workbook(conn, commune, who.scope, spool, device_id=who.device.id,  # type: ignore[arg-type]
                                        role=who.device.role, year=datetime.now(VIETNAM).year)
        size = spool.tell()
        log(request, who, "export.totals.xlsx", commune, {"format": "xlsx", "bytes": size, **made}, hamlets)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(_file_chunks(spool), media_type=store.XLSX_TYPE, headers={  # type: ignore[arg-type]
        "Content-Disposition": f'attachment; filename="{_filename(commune, "xlsx")}"',
        "Content-Length": str(size), "Cache-Control": "no-store"})


@router.get("/api/v1/exports/totals.csv", responses={
    **responses(400, 401, 403), 200: {"content": {"text/csv": {}}, "description": "totals by hamlet"}})
def totals_csv(request: Request, commune: str = Query(..., pattern=COMMUNE_PATTERN),
               who: Caller = Depends(require_role(*READERS))) -> Any:
    """Totals by hamlet and a total row, as CSV (UTF-8 with a byte-order mark; Vietnamese headers)."""
    checked_commune(who, commune)
    with read_transaction(request.app.state.engine) as conn:
        totals = store_totals.commune_totals(conn, commune, "hamlet", who.scope)
    log(request, who, "export.totals.csv", commune, {"format": "csv", "hamlets": len(totals["rows"])})
    return StreamingResponse((s.encode("utf-8") for s in store.totals_csv(totals)),
                             media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_filename(commune, "csv")}"', "Cache-Control": "no-store"})
