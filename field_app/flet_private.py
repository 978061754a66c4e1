"""Every use of Flet's private API, in one place (Flet 1.0.5, pinned in pyproject.toml).

Flet gives no public way to list the dialogs a page holds, to tell a message
aimed at the page from one aimed at a control, to see every message a client
sends before (or after) its handler runs, or to ask whether the app runs inside a
`flet build` client. The app needs all four (the shell closes a screen's snack
bars when the person leaves it, and redraws a screen only once a closed dialog
has left the client; the app lock covers the page and counts every tap as
activity; `gocua-app` picks a desktop window or web mode). They are
reached here and nowhere else; tests/test_flet_private.py pins the Flet version
and checks that each name below still exists, so an upgrade fails one clear
test instead of breaking the lock quietly.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import flet as ft
from flet.controls.context import _context_page

__all__ = ["FLET_VERSION", "EventFilter", "after_dismiss", "closing_dialogs", "dialogs", "hook_session", "is_embedded",
           "is_linux_server", "run_soon"]

log = logging.getLogger(__name__)

#: The Flet these internals were read from (pyproject.toml pins the same).
FLET_VERSION = "1.0.5"

EventFilter = Callable[[int, Any | None, bool, str | None], bool]
"""`admits(control_id, control, is_page, event_name) -> bool`: whether a client
message goes through to its handler. `control` is the live control it is aimed
at (None when it is gone), `is_page` whether that is the page itself,
`event_name` the CONTROL_EVENT's name, or None for a property update (a field's
value as typed)."""


def run_soon(page: ft.Page, handler: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> bool:
    """`page.run_task(handler, *args)` from any thread, for a session that may be gone: False, and
    nothing left behind, when its loop is closed or its connection dropped (a closed tab).
    `page.run_task` makes the coroutine before it looks at the loop, so a late call would leave
    a coroutine never awaited (and a RuntimeWarning in the log); here it is made only when the
    loop is there, and closed if the loop refuses it after all."""
    connection = getattr(getattr(page, "session", None), "connection", None)
    loop = getattr(connection, "loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop) or loop.is_closed():
        return False
    _context_page.set(page)  # type: ignore[arg-type]  # as run_task does: ft.context.page in the handler
    coro = handler(*args)
    try:
        asyncio.run_coroutine_threadsafe(coro, loop)
    except RuntimeError:  # closed between the look and the call
        coro.close()
        return False
    return True


def dialogs(page: ft.Page) -> list[ft.DialogControl]:
    """The dialogs, snack bars and banners the page holds (open or closing).
    `page._dialogs`: Flet keeps them in a private Dialogs control."""
    return list(page._dialogs.controls)


def closing_dialogs(page: ft.Page) -> list[ft.DialogControl]:
    """The dialogs closed (`open` false) that the client has not yet reported dismissed: Flet keeps
    a dialog in `page._dialogs` until its `dismiss` event, when Flutter's closing animation is done.
    Snack bars and banners are left out: Flutter shows them in the view's Scaffold, not as a route
    of its own over the views, and they go with the view."""
    return [d for d in page._dialogs.controls if not d.open and not isinstance(d, (ft.SnackBar, ft.Banner))]


def after_dismiss(page: ft.Page, callback: Callable[[], None]) -> bool:
    """Call `callback()` after each `dismiss` event the client sends to this page's session has been
    handled: by then Flet has taken the dialog off `page._dialogs` and run its own on_dismiss.
    Through `Session.dispatch_event`, as `hook_session`; an exception in `callback` is logged, not
    passed to the connection. False when this Flet has no such hook."""
    session = getattr(page, "session", None)
    dispatch: Callable[[int, str, Any], Awaitable[None]] | None = getattr(session, "dispatch_event", None)
    if session is None or dispatch is None:
        return False

    async def dispatch_event(control_id: int, event_name: str, event_data: Any) -> None:
        await dispatch(control_id, event_name, event_data)
        if event_name == "dismiss":
            try:
                callback()
            except Exception:
                log.exception("after a dialog's dismissal")

    session.dispatch_event = dispatch_event
    return True


def hook_session(page: ft.Page, admits: EventFilter) -> bool:
    """Put `admits` in front of every message the client sends to this page's
    session: `Session.dispatch_event` (CONTROL_EVENT: clicks, selections, route
    changes, Back, keys) and `Session.apply_patch` (UPDATE_CONTROL_PROPS). Every
    connection type of Flet 1.0.5 (web, desktop/phone socket, pyodide) and the
    UI test harness call these two on the session object. False when this Flet
    has no such hooks (the caller decides how to do without)."""
    session = getattr(page, "session", None)
    dispatch: Callable[[int, str, Any], Awaitable[None]] | None = getattr(session, "dispatch_event", None)
    patch: Callable[[int, dict[str, Any]], None] | None = getattr(session, "apply_patch", None)
    index = getattr(session, "index", None)
    if session is None or dispatch is None or patch is None or index is None:
        return False
    page_id = page._i  # the page's control id: messages to the page carry it

    async def dispatch_event(control_id: int, event_name: str, event_data: Any) -> None:
        if admits(control_id, index.get(control_id), control_id == page_id, event_name):
            await dispatch(control_id, event_name, event_data)

    def apply_patch(control_id: int, props: dict[str, Any]) -> None:
        if admits(control_id, index.get(control_id), control_id == page_id, None):
            patch(control_id, props)

    session.dispatch_event = dispatch_event
    session.apply_patch = apply_patch
    return True


def is_embedded() -> bool:
    """Running inside a `flet build` client (the client is the app itself)."""
    from flet import utils

    embedded: Callable[[], bool] = utils.is_embedded  # untyped in Flet
    return bool(embedded())


def is_linux_server() -> bool:
    """A Linux machine with no display: no desktop window can open here."""
    from flet import utils

    linux_server: Callable[[], bool] = utils.is_linux_server  # untyped in Flet
    return bool(linux_server())
