"""The renderer watch (renderer_watch.py) kills a page's renderer whose main thread stays busy, and
the call that waited on the page fails instead of hanging; a page that idles is left alone."""
from __future__ import annotations

import contextlib
import os
import signal
import threading

import pytest

from .conftest import RENDERER_GONE
from .renderer_watch import RendererWatch, main_thread_cpu, renderers

pytestmark = pytest.mark.e2e


def test_a_renderer_stuck_in_a_loop_is_killed_and_the_wait_on_it_fails(browser) -> None:
    context = browser.new_context()
    idle, stuck = context.new_page(), browser.new_context().new_page()
    idle.set_content("<p>idle</p>")
    stuck.set_content("<p>stuck</p>")
    watch = RendererWatch(stuck_s=3.0, every_s=0.5).start()
    # Should the watch not kill it, this test's own stop does, later, so that the test fails on
    # the count below instead of waiting on the loop for ever.
    backstop = threading.Timer(BACKSTOP_S, _kill_every_renderer)
    backstop.start()
    try:
        with pytest.raises(Exception, match="|".join(RENDERER_GONE)):  # what the rerun catches
            stuck.evaluate("() => { for (;;) {} }")  # Playwright waits on this with no timeout
    finally:
        backstop.cancel()
        watch.stop()
    assert len(watch.killed) == 1, watch.killed
    assert idle.evaluate("() => 1 + 1") == 2  # the idle page's renderer was left alone


def test_the_renderers_are_found_below_this_process(browser) -> None:
    page = browser.new_context().new_page()
    page.set_content("<p>one</p>")
    found = renderers(os.getpid())
    assert found and all(main_thread_cpu(pid) is not None for pid in found)


BACKSTOP_S = 60.0


def _kill_every_renderer() -> None:
    for pid in renderers(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
