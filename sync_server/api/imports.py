"""Import of a target list: POST /api/v1/imports, GET /api/v1/imports/{id}, the template.

POST checks the whole file at once and answers with every bad row. A dry run
stops there (200). A real import of a file with any bad row is refused whole
(422, nothing stored). A real import of a good file is accepted (202) and
written in a background thread, in one transaction: GET /api/v1/imports/{id}
follows it (rows done of rows total) to "done" or "failed".
Officers (their commune) and admins; leaders and volunteers get 403.
"""
from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from campaign.ids import uuid7

from ..auth import Caller, require_role
from ..errors import ApiError, responses
from ..store import audit as store_audit
from ..store import imports as store
from ..store.db import read_transaction, write_transaction
from ..store.devices import Scope
from ..store.exports import XLSX_TYPE
from ..store.totals import hamlets_of
from .audit import COMMUNE_PATTERN, MANAGERS, checked_commune

router = APIRouter()

MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in a multipart body


class ImportReport(BaseModel):
    import_id: str
    status: str  # checked | running | refused
    dry_run: bool
    rows: int
    households: int
    people: int
    existing_households: int
    skipped: int
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    ignored_columns: list[str]


class ImportState(BaseModel):
    import_id: str
    commune: str
    status: str  # checked | refused | running | done | failed
    dry_run: bool
    rows_total: int
    rows_done: int
    households: int
    people: int
    skipped: int
    errors: list[dict[str, Any]]
    import_device_id: str | None
    requested_by: str | None
    created_at: str
    finished_at: str | None


async def _read_body(request: Request) -> bytes:
    limit = store.MAX_BYTES + MULTIPART_SLACK
    declared = request.headers.get("content-length")
    too_big = ApiError(413, "too_large", f"a list is at most {store.MAX_BYTES // 2**20} MB")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


UPLOAD = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    "text/csv": {"schema": {"type": "string", "format": "binary"}}}}}


@router.post("/api/v1/imports", response_model=ImportReport, status_code=200, openapi_extra=UPLOAD,
             responses={**responses(400, 401, 403, 413, 415, 422), 202: {"model": ImportReport,
                                                                         "description": "accepted: running"}})
async def post_import(request: Request, response: Response, commune: str = Query(..., pattern=COMMUNE_PATTERN),
                      dry_run: bool = Query(True, description="true: check only (the default); false: import"),
                      who: Caller = Depends(require_role(*MANAGERS))) -> ImportReport:
    """Check (and unless dry_run, import) a list of households and people: .xlsx or .csv, as the
    multipart field `file` or as the raw body. Columns and rules: GET /api/v1/imports/template.xlsx
    and docs/reports.md."""
    checked_commune(who, commune)
    raw = await _read_body(request)
    return await run_in_threadpool(_post, request, response, who, commune, dry_run, raw)


def _post(request: Request, response: Response, who: Caller, commune: str, dry_run: bool,
          raw: bytes) -> ImportReport:
    engine = request.app.state.engine
    try:
        data = store.split_upload(raw, request.headers.get("content-type", ""))
        parsed = store.read(data)
    except store.FileError as bad:
        raise ApiError(bad.status, bad.code, bad.detail) from None
    with read_transaction(engine) as conn:
        plan = store.check(parsed, store.load_world(conn, commune))
    import_id = uuid7()
    report = plan.report()
    detail = {"dry_run": dry_run, "format": parsed.format, "bytes": len(data), "rows": plan.rows,
              "households": plan.new_households, "people": plan.people, "skipped": len(plan.skipped),
              "errors": len(plan.errors)}
    status = "checked" if dry_run else ("refused" if plan.errors else "running")
    with write_transaction(engine) as conn:
        store.record(conn, plan, import_id=import_id, device_id=who.device.id, dry_run=dry_run, status=status)
        if status != "running":
            store_audit.record(conn, device_id=who.device.id, role=who.device.role, action="import.check",
                               commune=commune, detail={**detail, "import_id": import_id})
    answer = ImportReport(import_id=import_id, status=status, dry_run=dry_run, **report)
    if status == "refused":
        refused = ApiError(422, "bad_rows", f"{len({e['row'] for e in plan.errors})} rows have errors: nothing "
                           "was imported; correct them and send the whole file again")
        refused.extra = answer.model_dump()  # the report, beside "error" and "detail"
        raise refused
    if status == "running":
        store.start(engine, plan, import_id=import_id, device_id=who.device.id, role=who.device.role,
                    detail={"format": parsed.format, "bytes": len(data)})
        response.status_code = 202
    return answer


@router.get("/api/v1/imports/template.xlsx", responses={
    **responses(400, 401, 403), 200: {"content": {XLSX_TYPE: {}}, "description": "the template"}})
def import_template(request: Request, commune: str | None = Query(None, pattern=COMMUNE_PATTERN,
                                                                  description="list this commune's hamlets in it"),
                    who: Caller = Depends(require_role(*MANAGERS))) -> Any:
    """The import template: sheet "Danh sách" (the columns), "Giá trị" (allowed values, the
    commune's hamlets), "Hướng dẫn" (the rules, in Vietnamese)."""
    hamlets = None
    if commune is not None:
        checked_commune(who, commune)
        with read_transaction(request.app.state.engine) as conn:
            hamlets = list(hamlets_of(conn, commune, Scope(hamlets=None)).values())
    out = io.BytesIO()
    store.template(out, hamlets)
    return StreamingResponse(iter([out.getvalue()]), media_type=XLSX_TYPE, headers={
        "Content-Disposition": 'attachment; filename="gocua-mau-nhap-danh-sach.xlsx"'})


@router.get("/api/v1/imports/{import_id}", response_model=ImportState, responses=responses(400, 401, 403, 404))
def import_state(request: Request, import_id: str = Path(..., max_length=36),
                 who: Caller = Depends(require_role(*MANAGERS))) -> ImportState:
    """An import's state: status, rows done of rows total, what it created, its errors."""
    with read_transaction(request.app.state.engine) as conn:
        found = store.state(conn, import_id)
    if found is None:
        raise ApiError(404, "unknown_import", f"no import {import_id}")
    checked_commune(who, found["commune"])
    return ImportState(**found)
