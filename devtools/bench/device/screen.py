"""From a keystroke to the updated list on screen, through the households screen's own code.

The app runs in a real Flet session without a browser (tests/ui/harness.py: the test suite's
harness, the session Flet serves in web mode, with a client that is Python): a keystroke in the
households screen's search box goes the way the browser sends it (the box's new value, then its
`change` event, both through msgpack), the screen's handler runs (`views/households.py`: the
store's search, the rows built as controls), Flet diffs the page and encodes the patch for the
client. That is the server's whole share of a keystroke in web mode; the patch is timed at the
moment it is encoded (`sent`). The harness then decodes it and applies it to its mirror of the
page (`applied`), which stands in for the browser's own decoding. What the browser adds and this
cannot measure: the WebSocket between them (on the same machine, in web mode), and Flutter's
layout and paint of the new rows (docs and BENCHMARKS.md, "Device").
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SEARCH_KEY = "households.search"
SETTLE = 120.0  # seconds the app may take to settle after an event


class ScreenSession:
    """The app on `data_dir` in a harness session, on the households screen (Vietnamese, as a
    volunteer first sees it), its search box ready."""

    def __init__(self, data_dir: Path) -> None:
        import flet as ft

        from field_app.app import build_app

        # the test suite's harness: a tool of the repository, as this bench is (never shipped)
        from tests.ui.harness import AppHarness

        self.h = AppHarness(lambda page: build_app(page, data_dir=data_dir, autosync=False), width=390, height=844)
        # the harness gives a test's app 5 s to settle; a bench on a loaded machine opening the
        # screen over 10,000 households may need more (the keystrokes are timed, not bounded)
        self.h._settle = functools.partial(self.h._settle, timeout=SETTLE)  # type: ignore[method-assign]
        self.sent: list[float] = []  # when each message left the session, encoded
        conn = self.h.conn

        def stamped(message: Any) -> None:
            import msgpack
            from flet.messaging.protocol import decode_ext_from_msgpack

            from tests.ui import harness
            raw = msgpack.packb([message.action, message.body], default=harness._ENCODE)
            self.sent.append(time.perf_counter())
            conn.bytes_sent += len(raw)
            self.h._receive(msgpack.unpackb(raw, ext_hook=decode_ext_from_msgpack, strict_map_key=False))

        conn.send_message = stamped  # type: ignore[method-assign]  # FakeConnection's, with the time stamped
        self.h.click(self.h.get(ft.NavigationBarDestination, text="Hộ dân"))
        self.box = self.h.get(key=SEARCH_KEY)

    def rows(self) -> int:
        import flet as ft
        return len(self.h.find(ft.ListTile))

    def type(self, text: str) -> tuple[float, float]:
        """The search box's value becomes `text` (one keystroke): seconds until the screen's patch
        was encoded for the client, and until the harness's client had applied it."""
        del self.sent[:]
        started = time.perf_counter()
        self.h.change(self.box, text)
        applied = time.perf_counter() - started
        sent = (self.sent[-1] - started) if self.sent else applied
        return sent, applied

    def close(self) -> None:
        self.h.close()


def keystrokes(data_dir: Path, before: str, typed: str, runs: int,
               store_side: Callable[[], Any], raw: Callable[[], Any]) -> dict[str, Any]:
    """`runs` + 1 keystrokes that turn `before` into `typed` (the box set back to `before`
    between them, untimed); each beside the store's share and the raw limit, alternating."""
    session = ScreenSession(data_dir)
    sent, applied, store, theirs = [], [], [], []
    try:
        for _ in range(runs + 1):
            session.type(before)
            s, a = session.type(typed)
            sent.append(s)
            applied.append(a)
            started = time.perf_counter()
            store_side()
            store.append(time.perf_counter() - started)
            started = time.perf_counter()
            raw()
            theirs.append(time.perf_counter() - started)
        rows = session.rows()
    finally:
        session.close()
    return {"sent": sent, "applied": applied, "store": store, "raw": theirs, "rows": rows}
