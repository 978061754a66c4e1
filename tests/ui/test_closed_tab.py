"""A browser tab that closes leaves nothing in the log (issue #11, item 10): no coroutine never
awaited from a late sync status, no WebSocketDisconnect traceback from a send that had nowhere
to go; the session still ends the ordinary way."""
from __future__ import annotations

import asyncio
import gc
import warnings
from types import SimpleNamespace

import pytest

from field_app import flet_private
from field_app.web import _quiet_when_gone


async def _status(value: int) -> None:  # what the shell's _apply_status is to run_soon
    return None


def _page(loop: asyncio.AbstractEventLoop | None) -> object:
    return SimpleNamespace(session=SimpleNamespace(connection=SimpleNamespace(loop=loop) if loop else None))


def _never_awaited(run) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run()
        gc.collect()
    return [str(w.message) for w in seen if "never awaited" in str(w.message)]


def test_a_status_for_a_gone_session_is_dropped_without_a_coroutine_left_behind() -> None:
    closed = asyncio.new_event_loop()
    closed.close()
    assert _never_awaited(lambda: flet_private.run_soon(_page(closed), _status, 1)) == []
    assert flet_private.run_soon(_page(closed), _status, 1) is False
    assert flet_private.run_soon(_page(None), _status, 1) is False  # the connection dropped
    # the loop closes between the look and the call: the coroutine is closed, not left
    closing = asyncio.new_event_loop()
    closing.close()
    closing.is_closed = lambda: False  # type: ignore[method-assign]
    try:
        assert _never_awaited(lambda: flet_private.run_soon(_page(closing), _status, 1)) == []
    finally:
        del closing.is_closed


def test_a_status_for_a_live_session_runs_on_its_loop() -> None:
    loop = asyncio.new_event_loop()
    ran: list[int] = []

    async def mark(value: int) -> None:
        ran.append(value)

    try:
        assert flet_private.run_soon(_page(loop), mark, 7) is True
        loop.run_until_complete(asyncio.sleep(0))
        assert ran == [7]
    finally:
        loop.close()


def test_what_is_sent_to_a_closed_tab_is_dropped_and_a_close_still_fails_loudly() -> None:
    sent: list[dict] = []

    async def gone(message: dict) -> None:
        sent.append(message)
        raise OSError("the client went away")

    send = _quiet_when_gone(gone)
    asyncio.run(send({"type": "websocket.send", "bytes": b"x"}))  # dropped, no WebSocketDisconnect
    assert len(sent) == 1
    with pytest.raises(OSError):
        asyncio.run(send({"type": "websocket.close"}))
