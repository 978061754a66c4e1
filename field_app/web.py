"""Web mode: the app served to browsers from this machine, nothing from a CDN.

`serve_web(app, host=, port=)` serves `web_asgi_app(app)` with uvicorn: the
flet-web client (bundled in the flet-web package, CanvasKit and fallback fonts
included), the app's assets, and `WEB_CSP` on every HTTP response, so a
browser loads and talks to this server only (docs/ui.md "Web mode").
"""
from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import flet as ft

from field_app.theme import ASSETS_DIR

__all__ = ["WEB_CSP", "serve_web", "web_asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
FletMain = Callable[[ft.Page], Any]

log = logging.getLogger(__name__)

#: Sent with every web-mode response. The browser may load scripts, fonts,
#: images and data only from this server (plus blob:/data: URLs the Flutter
#: engine makes itself) and talk only to its websocket: no CDN, no third
#: party, whatever a bundled Flutter plugin tries. (flet-web 1.0.5 has one
#: that does: rive_native's loader fetches a script from cdn.jsdelivr.net.)
WEB_CSP = (
    "default-src 'self' blob: data:; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss: blob: data:; "
    "frame-ancestors 'none'"
)


def web_asgi_app(app: FletMain) -> ASGIApp:
    """The web-mode ASGI app: the flet-web client (bundled in the flet-web
    package, CanvasKit and fallback fonts included: `no_cdn`), our assets,
    and the `WEB_CSP` header on every HTTP response."""
    # no_cdn makes the client load CanvasKit and fallback fonts from this
    # server; without it the client waits forever on its splash screen when
    # there is no internet. The env var covers code paths that read it.
    os.environ["FLET_WEB_NO_CDN"] = "1"
    inner: ASGIApp = ft.run(app, export_asgi_app=True, assets_dir=str(ASSETS_DIR), no_cdn=True)
    csp = WEB_CSP.encode()

    async def with_csp(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await inner(scope, receive, _quiet_when_gone(send))
            return
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return

        async def send_with_csp(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy"
                ]
                headers.append((b"content-security-policy", csp))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await inner(scope, receive, send_with_csp)

    return with_csp


def _quiet_when_gone(send: Send) -> Send:
    """A websocket's send that drops what is sent after the browser tab closed. The server's send
    fails with an OSError then; Starlette turns it into WebSocketDisconnect, which ends Flet's
    send loop with a traceback in the log and leaves the session connected (Flet disconnects a
    session only when its receive loop ends). Dropped here, the receive loop hears the close and
    ends the session the ordinary way."""
    async def send_or_drop(message: Message) -> None:
        try:
            await send(message)
        except OSError:
            if message.get("type") != "websocket.send":
                raise
            log.debug("a browser tab closed while the app was sending to it")
    return send_or_drop


def serve_web(app: FletMain, *, host: str, port: int) -> None:
    """Serve the app to browsers on host:port until interrupted."""
    import uvicorn  # comes with flet-web

    asgi = web_asgi_app(app)
    print(f"Gõ Cửa web: http://{host}:{port}/", flush=True)
    uvicorn.run(asgi, host=host, port=port, log_level="warning", ws="auto")
