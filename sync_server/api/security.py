"""Hardening every answer: headers, CORS, body limits, rate limits, logs without personal data.

`install(app)` (called from app.create_app) sets up, for every HTTP answer:

- headers: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
  `Referrer-Policy: no-referrer`, `Cross-Origin-Resource-Policy: same-origin`,
  `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; ...`
  (an API answers JSON, CSV or a workbook: nothing in it may load or frame
  anything); `Cache-Control: no-store` on /api/* (tokens, personal lists);
  `Strict-Transport-Security` when the request came over https (the scheme from
  X-Forwarded-Proto only behind a proxy listed in GOCUA_TRUSTED_PROXIES) or when
  GOCUA_PUBLIC_URL (settings.public_url) is https.
- /docs and /redoc (Swagger UI, ReDoc: scripts from a CDN) are served only with
  GOCUA_DOCS=1 (settings.docs), under a CSP that allows that CDN for those two pages alone.
  /openapi.json is always published.
- CORS: denied by default. No browser talks to this API: the field app's web
  mode (`gocua-app --web`) calls it from its own Python process (httpx in
  field_app/sync.py and field_app/server_api.py), and the browser only talks to
  that process. GOCUA_ALLOWED_ORIGINS (settings.allowed_origins) allows those
  origins; a preflight from any other origin gets 403 `cors_denied`.
- body limits: 64 KiB for every request body, except the two endpoints that
  stream and limit their own (push: 5 MB on the wire, 20 MB inflated; imports:
  the list's limit). Content-Length is checked first, then the bytes as they
  arrive: 413 `too_large`.
- rate limits: the app's buckets (ratelimit.Limits, in app.state.limits), used
  by api/deps.caller (per device, and unknown tokens per address) and by POST
  /enroll (failed codes per address).
- logs: a filter on the server's log handlers that redacts Bearer tokens and
  the values of personal or secret fields (label, address, note, comment,
  token, code) wherever a log line would carry them. By design no URL carries
  personal data (query parameters are commune codes, cursors, ids, list names).
- OpenAPI: every /api/ operation documents 429, every operation with a body 413,
  every operation behind a token 410 (`purged`): what this layer may answer.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..config import Settings
from ..errors import ERROR_SCHEMA
from .ratelimit import Limits

logger = logging.getLogger("gocua.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BYTES = 64 * 1024
OWN_BODY_LIMITS = ("/api/v1/sync/push", "/api/v1/imports")  # they stream, and limit, their own bodies
HSTS = "max-age=31536000"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc, as FastAPI serves them: a bundle and a stylesheet from jsDelivr, an
# inline script that starts them, ReDoc's fonts and worker, the favicon from fastapi.tiangolo.com.
DOCS_CSP = ("default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src https://fonts.gstatic.com; img-src data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "worker-src blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
ALLOWED_METHODS = ["GET", "POST", "PUT"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Content-Encoding"]


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    app.state.limits = Limits.of(settings.rates)
    docs = _docs_paths(app)
    if not settings.docs:
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in docs]
        app.docs_url = app.redoc_url = app.swagger_ui_oauth2_redirect_url = None
        docs = set()
    origins = list(settings.allowed_origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=ALLOWED_METHODS,
                           allow_headers=ALLOWED_HEADERS, allow_credentials=False, max_age=600)
    app.add_middleware(SecurityMiddleware, origins=origins, docs=docs,
                       https=settings.public_url.startswith("https://"))
    if settings.trusted_proxies:  # outermost: the client address and scheme, before anything reads them
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    _document_answers(app)
    install_log_filter()


def _docs_paths(app: FastAPI) -> set[str]:
    return {p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p}


class SecurityMiddleware:
    """Headers on every answer; CORS preflights from unknown origins refused; body limits."""

    def __init__(self, app: ASGIApp, origins: list[str], docs: set[str], https: bool) -> None:
        self.app = app
        self.origins = set(origins)
        self.docs = docs
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = self._headers(scope, path)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                kept = [(k, v) for k, v in message.get("headers", [])
                        if k.lower() not in {name for name, _ in headers}]
                message = {**message, "headers": kept + headers}
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_headers, path)
        except Exception:  # the last resort (issue #12, L3): logged, answered JSON with the headers
            logger.exception("unexpected error answering %s %s", scope.get("method"), path)
            if not started:
                await _answer(send_with_headers, 500, "http_error", "the server failed to answer: it is logged")

    async def _guarded(self, scope: Scope, receive: Receive, send_with_headers: Send, path: str) -> None:
        request_headers = {k.lower(): v for k, v in scope.get("headers", [])}
        origin = request_headers.get(b"origin", b"").decode("latin-1").rstrip("/")
        if (scope["method"] == "OPTIONS" and origin and b"access-control-request-method" in request_headers
                and origin not in self.origins):
            await _answer(send_with_headers, 403, "cors_denied",
                          "this API takes no requests from browsers of other origins")
            return
        if path.startswith(OWN_BODY_LIMITS):
            await self.app(scope, receive, send_with_headers)
            return
        declared = request_headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
            await _too_large(send_with_headers)
            return
        body, more, size = [], True, 0
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                await self.app(scope, _replay([message], receive), send_with_headers)
                return
            size += len(message.get("body", b""))
            if size > MAX_JSON_BYTES:
                await _too_large(send_with_headers)
                return
            body.append(message)
            more = message.get("more_body", False)
        whole = {"type": "http.request", "body": b"".join(m.get("body", b"") for m in body), "more_body": False}
        await self.app(scope, _replay([whole], receive), send_with_headers)

    def _headers(self, scope: Scope, path: str) -> list[tuple[bytes, bytes]]:
        out = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"), (b"cross-origin-resource-policy", b"same-origin"),
               (b"content-security-policy", (DOCS_CSP if path in self.docs else API_CSP).encode())]
        if path.startswith("/api/"):
            out.append((b"cache-control", b"no-store"))
        if self.https or scope.get("scheme") == "https":
            out.append((b"strict-transport-security", HSTS.encode()))
        return out


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The buffered body first, then the client's own receive (a streaming answer listens on
    it for the disconnect)."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()
    return replayed


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send) -> None:
    await _answer(send, 413, "too_large", f"a request body is at most {MAX_JSON_BYTES // 1024} KiB here")


# ---- OpenAPI: what this layer may answer ---------------------------------------------------

def _document_answers(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        error = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                answers = operation["responses"]
                if path.startswith("/api/"):
                    answers.setdefault("429", {"description": "rate limited: wait `retry_after` seconds", **error})
                if "requestBody" in operation:
                    answers.setdefault("413", {"description": "the body is too large", **error})
                if operation.get("security"):
                    answers.setdefault("410", {"description": "purged: this device was retired by the "
                                                              "retention purge", **error})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---- logs --------------------------------------------------------------------------------

REDACTED = "[redacted]"
_SECRET_KEYS = r"authorization|token|code|label|address|note|comment|review_comment"
_PATTERNS = [
    # Authorization: Bearer abc…
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    # "label": "Nguyễn Văn An"  /  'address': '…'  /  token=abc  (JSON, reprs, key=value)
    (re.compile(r"""(?i)(?<![A-Za-z0-9_])(["']?(?:""" + _SECRET_KEYS + r""")["']?\s*[:=]\s*)"""
                r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s&,;}\]]+)"""), r"\1" + '"' + REDACTED + '"'),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts tokens and personal fields in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # its formatter unpacks the arguments (address, method, path, version, status): keep them
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        else:
            try:
                message = record.getMessage()  # arguments may be dicts or reprs (uvicorn's trace: headers)
            except Exception:  # a broken record: leave it to logging's own error handling
                return True
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sync_server", "sqlalchemy", "fastapi")


def install_log_filter() -> None:
    """On the loggers the server writes through and on every handler they have (a logger's
    filter sees only its own records; a handler's sees those propagated to it too)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())
