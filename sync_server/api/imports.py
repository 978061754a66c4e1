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
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from ..errors import ApiError, responses
from ..render.xlsx import XLSX_TYPE
from ..services import access, imports
from ..services.import_file import MAX_BYTES
from .deps import COMMUNE_PATTERN, IMPORTERS, Caller, engine_of, reading

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
    # added with issue #14: rows that name their commune (old or new names), and how each was read
    resolutions: list[dict[str, Any]] = []


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
    limit = MAX_BYTES + MULTIPART_SLACK
    declared = request.headers.get("content-length")
    too_big = ApiError(413, "too_large", f"a list is at most {MAX_BYTES // 2**20} MB")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _importer(commune: str = Query(..., pattern=COMMUNE_PATTERN), who: Caller = Depends(IMPORTERS)) -> Caller:
    """A manager of this commune: checked before the body is read."""
    access.checked_commune(who, commune)
    return who


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
                      who: Caller = Depends(_importer)) -> ImportReport:
    """Check (and unless dry_run, import) a list of households and people: .xlsx or .csv, as the
    multipart field `file` or as the raw body. Columns and rules: GET /api/v1/imports/template.xlsx
    and docs/reports.md."""
    raw = await _read_body(request)
    checked = await run_in_threadpool(imports.submit, engine_of(request), who, commune, raw,
                                      request.headers.get("content-type", ""), dry_run=dry_run)
    if checked.status == "running":
        response.status_code = 202
    return ImportReport(**checked.report())


@router.get("/api/v1/imports/template.xlsx", responses={
    **responses(400, 401, 403), 200: {"content": {XLSX_TYPE: {}}, "description": "the template"}})
def import_template(request: Request, commune: str | None = Query(None, pattern=COMMUNE_PATTERN,
                                                                  description="list this commune's hamlets in it"),
                    who: Caller = Depends(IMPORTERS)) -> Any:
    """The import template: sheet "Danh sách" (the columns), "Giá trị" (allowed values, the
    commune's hamlets), "Hướng dẫn" (the rules, in Vietnamese)."""
    out = io.BytesIO()
    with reading(request) as conn:
        imports.template(conn, who, commune, out)
    return StreamingResponse(iter([out.getvalue()]), media_type=XLSX_TYPE, headers={
        "Content-Disposition": 'attachment; filename="gocua-mau-nhap-danh-sach.xlsx"'})


@router.get("/api/v1/imports/{import_id}", response_model=ImportState, responses=responses(400, 401, 403, 404))
def import_state(request: Request, import_id: str = Path(..., max_length=36),
                 who: Caller = Depends(IMPORTERS)) -> ImportState:
    """An import's state: status, rows done of rows total, what it created, its errors."""
    with reading(request) as conn:
        return ImportState(**asdict(imports.state(conn, who, import_id)))
