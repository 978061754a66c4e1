"""Every error on the wire is {"error": code, "detail": text} with a 4xx status.

`ApiError` is what the HTTP layer itself refuses (a body too large, bad gzip, a
rate limit); the services' refusals (services/errors.py) are answered here too,
each kind with its status (STATUS): the one place a use case's "no" becomes HTTP.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign.wire import VALIDATION_ERROR

from .services import errors as service


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


STATUS: dict[type[service.ServiceError], int] = {
    service.Invalid: 400, service.Unauthenticated: 401, service.Forbidden: 403, service.NotFound: 404,
    service.Conflict: 409, service.Gone: 410, service.TooLarge: 413, service.Unsupported: 415,
    service.Refused: 422,
}


def from_service(refusal: service.ServiceError) -> ApiError:
    """The answer to a service's refusal."""
    answer = ApiError(STATUS[type(refusal)], refusal.code, refusal.detail)
    answer.extra = refusal.extra  # set, not passed: a refused import's report has its own "status"
    return answer


#: a validator's error type -> the rule broken (campaign.wire.RULES), and where its limit is
_RULES: dict[str, tuple[str, str | None]] = {
    "missing": ("missing", None),
    "string_too_long": ("too_long", "max_length"), "too_long": ("too_long", "max_length"),
    "string_too_short": ("too_short", "min_length"), "too_short": ("too_short", "min_length"),
    "less_than_equal": ("too_big", "le"), "less_than": ("too_big", "lt"),
    "greater_than_equal": ("too_small", "ge"), "greater_than": ("too_small", "gt"),
    "int_type": ("not_whole_number", None), "int_parsing": ("not_whole_number", None),
    "int_from_float": ("not_whole_number", None),
    "literal_error": ("not_allowed", None), "enum": ("not_allowed", None),
}


def validation_extra(error: dict[str, Any]) -> dict[str, Any]:
    """What the app needs to say which field broke which rule, in its own words: `field` (the
    innermost named part of the error's place), `rule` (campaign.wire.RULES) and `limit`."""
    names = [str(p) for p in error.get("loc", ()) if isinstance(p, str) and p not in ("body", "query", "path")]
    rule, where = _RULES.get(str(error.get("type", "")), ("wrong_shape", None))
    limit = (error.get("ctx") or {}).get(where) if where else None
    out: dict[str, Any] = {"field": names[-1] if names else "", "rule": rule}
    if isinstance(limit, int | float) and not isinstance(limit, bool):
        out["limit"] = limit
    return out


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.code, exc.detail, **exc.extra), exc.status, headers=headers)

    @app.exception_handler(service.ServiceError)
    async def refused(request: Request, exc: service.ServiceError) -> JSONResponse:
        return await api_error(request, from_service(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(error_body(VALIDATION_ERROR, f"{where}: {first.get('msg', 'invalid')}".strip(": "),
                                       **validation_extra(first)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)


# For OpenAPI: the shape every documented error answer has.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"description": "error", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            for s in statuses}
