"""End-to-end fixtures: the real web app in headless Chromium.

    def test_x(open_app):
        app = open_app(390, 844)          # loaded, semantics on
        app.tab("Cài đặt").click()
        app.screenshot("settings-390x844")

- `web_app` (session): `python -m field_app.app --web` (= `gocua-app --web`)
  on 127.0.0.1 and a free port, with its own data dir; killed (process
  group) at the end. Its output is in `web_app.log_path`.
- `browser` (session): Playwright's Chromium driving the Debian package at
  /usr/bin/chromium (Playwright's own browser download is not reachable
  here). `.ci/run` installs it (`apt-get install -y chromium`); a missing
  browser fails the run, it is not skipped.
- `served(tmp_path)` (a context manager): a real `gocua-server` on a fresh SQLite
  database, and `served.app(name, enrol=CODE)` to start field apps against it; all
  stopped on the way out.
- `open_app(width, height)`: a fresh browser context at that viewport, the
  app loaded, Flutter's semantics tree switched on; returns a `FlutterPage`.
  Every request is recorded: anything not for the app's own server fails
  the test unless the browser itself refused it (the app's CSP).

Screenshots go to screenshots/ at the repo root (git-ignored).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from .renderer_watch import RendererWatch

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 60  # s, server answering HTTP
FLUTTER_TIMEOUT = 60_000  # ms, engine booted and first frame drawn

# Flutter web takes a few seconds to boot and connect; give Playwright's
# auto-waiting assertions room on a busy CI machine.
EXPECT_TIMEOUT = 20_000  # ms


@pytest.fixture(scope="session", autouse=True)
def _expect_timeout() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WebApp:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_web_app(tmp: Path, data: Path, *args: str) -> WebApp:
    """`gocua-app --web --data DATA ARGS…` on 127.0.0.1:<free port>, its output in tmp/app-PORT.log.
    It boots in the background: `wait_up(app)` before opening it."""
    port = free_port()
    log_path = tmp / f"app-{port}.log"
    env = {**os.environ, "FLET_WEB_NO_CDN": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "field_app.app", "--web", "--host", "127.0.0.1", "--port", str(port),
           "--data", str(data), *args]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return WebApp(f"http://127.0.0.1:{port}/", proc, log_path)


def wait_up(app: WebApp) -> None:
    """Until the app answers HTTP (fails the test with its log if it exits or never does)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if app.process.poll() is not None:
            pytest.fail(f"gocua-app --web exited with {app.process.returncode}:\n{app.log()}")
        try:
            with urllib.request.urlopen(app.url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"gocua-app --web did not answer in {STARTUP_TIMEOUT}s:\n{app.log()}")
        time.sleep(0.25)


@pytest.fixture(scope="package")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """`gocua-app --web` on 127.0.0.1:<free port>, until the e2e tests end."""
    tmp = tmp_path_factory.mktemp("web-app")
    app = start_web_app(tmp, tmp / "data")
    try:
        wait_up(app)
        yield app
    finally:
        _stop(app.process)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class Served:
    """A real server on a fresh SQLite database (`served`), and the web apps started against it."""
    server: Any  # tests.support.Server
    tmp: Path
    apps: list[WebApp] = field(default_factory=list)

    def app(self, name: str, *, enrol: str | None = None, wait: bool = True) -> WebApp:
        """`gocua-app --web --server URL [--enrol CODE]` with its data in tmp/`name`, stopped with the
        server; `wait`: until it answers (False: it boots while the test prepares more)."""
        app = start_web_app(self.tmp, self.tmp / name, "--server", self.server.url,
                            *(["--enrol", enrol] if enrol else []))
        self.apps.append(app)
        if wait:
            wait_up(app)
        return app


@contextlib.contextmanager
def served(tmp_path: Path) -> Iterator[Served]:
    """`gocua-server init` and `serve` on tmp_path/server.db; on the way out every app started
    through it is stopped, then the server."""
    from tests.support import Server, cli

    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    made = Served(Server(db_url), tmp_path)
    try:
        cli(db_url, "init")
        made.server.start()
        yield made
    finally:
        for app in made.apps:
            _stop(app.process)
        made.server.stop()


# Package scope, not session: Playwright's sync API keeps an asyncio loop marked
# as running on the main thread while it is open, which would stop every later
# test that runs its own loop (the UI harness).
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(.ci/run does this before the tests)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        watch = RendererWatch().start()  # a page stuck for good fails its test, not hangs it
        try:
            yield b
        finally:
            watch.stop()
            b.close()


# An end-to-end test whose page's renderer crashed, or was killed by the watch for being stuck
# (renderer_watch.py: seen twice on CI's kind of machine, a Flutter page's main thread busy for
# minutes, its frames stopped), runs once more, from its fixtures up, in a new page; any other
# failure fails it, and so does the same crash twice (pytest-rerunfailures: the one plugin that
# reruns a test whole, fixtures and all, under xdist).
RENDERER_GONE = [r"Target crashed", r"Page crashed", r"Target page, context or browser has been closed"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith("tests/e2e/") and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=RENDERER_GONE))


@pytest.fixture(autouse=True)
def _pages_closed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every page a test opened is closed when it ends. A page left open keeps its Flutter app
    drawing and calling a server that has gone, about a tenth of a core each, until the last
    e2e test: a dozen of them slowed the whole suite and its timings."""
    browser_ = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    yield
    for context in list(browser_.contexts if browser_ is not None else ()):
        context.close()


@dataclass
class FlutterPage:
    """A Playwright page showing the Flet app, with Flutter-specific helpers."""

    page: Any  # playwright.sync_api.Page
    base_url: str
    requests: list[str] = field(default_factory=list)
    csp_blocked: list[str] = field(default_factory=list)
    egress: list[str] = field(default_factory=list)  # left the browser for another host

    def is_local(self, url: str) -> bool:
        u = urlparse(url)
        return u.scheme in ("blob", "data") or u.netloc == urlparse(self.base_url).netloc

    def wait_ready(self) -> None:
        """The Flutter engine is up (its semantics placeholder exists)."""
        self.page.wait_for_selector(
            "flt-semantics-placeholder", state="attached", timeout=FLUTTER_TIMEOUT
        )

    def settle(self, seconds: float = 1.0) -> None:
        """Let the client finish loading (fonts, images) and paint: the
        semantics tree is ready before the first frame with the bundled font
        is on screen, so screenshot only after this."""
        self.page.wait_for_load_state("networkidle")
        time.sleep(seconds)

    def enable_semantics(self) -> None:
        """Switch on Flutter's accessibility tree. Its 'Enable accessibility'
        placeholder sits off-screen (-1 px), so a normal click would fail the
        visibility checks: dispatch the click from JavaScript instead."""
        self.page.evaluate(
            "() => { const p = document.querySelector('flt-semantics-placeholder');"
            " if (p) p.click(); }"
        )
        self.page.wait_for_selector("flt-semantics", state="attached", timeout=FLUTTER_TIMEOUT)

    def by_role(self, role: str, name: str | re.Pattern[str], **kwargs: Any) -> Any:
        """A Playwright locator in the semantics tree (exact accessible name, or one matching a
        pattern)."""
        return self.page.get_by_role(role, name=name, exact=True, **kwargs)

    def tab(self, name: str) -> Any:
        """A navigation bar destination."""
        return self.by_role("tab", name)

    def text(self, text: str) -> Any:
        """A semantics node whose text is exactly `text`."""
        return self.page.locator("flt-semantics").get_by_text(text, exact=True)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def resize(self, width: int, height: int) -> None:
        self.page.set_viewport_size({"width": width, "height": height})

    def click(self, target: Any, waited: float = 10.0) -> None:
        """Click `target` once Playwright finds it visible, enabled and still, or, `waited` seconds
        on, click where it is. Playwright's "still" is the same box in two animation frames, and
        its wait ran out its whole 30 s once (CI 2026-12-05, test_relay_e2e, the leader's first
        PIN box, found and named, no retry logged: its frames never came). A page whose frames
        stop for a while is clicked where the control is; one stuck for good is the renderer
        watch's (renderer_watch.py: killed, and the test runs again). The clicks on a box or a
        button here are each checked by what follows them (type_into reads the box, set_pin sees
        the screen go), so a click sent at a bad moment is caught and sent again, not trusted."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            target.click(timeout=waited * 1000)
        except PlaywrightTimeout:
            target.click(force=True)

    def type_into(self, name: str | re.Pattern[str], text: str) -> None:
        """Type into the text box named `name`, and see that it holds `text`. Flutter moves its
        editing focus after the click, asynchronously: a keystroke sent in between goes to the box
        left, or nowhere (seen: "41963" for "741963"), so the box is typed again until it holds it."""
        from playwright.sync_api import expect

        box = self.by_role("textbox", name)
        for _ in range(3):
            self.click(box)
            self.page.keyboard.press("End")
            for _ in box.input_value():
                self.page.keyboard.press("Backspace")
            self.page.keyboard.type(text)
            if box.input_value() == text:
                return
        expect(box).to_have_value(text)

    def still(self, locator: Any, timeout: float = 10.0) -> None:
        """Until the control stops moving: a dialog scales and fades in, and Flutter web was seen to
        drop a tap sent to a button still in its opening animation (right after a resize above all)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            box = locator.bounding_box()
            if box is not None and box == last:
                return
            last = box
            self.page.wait_for_timeout(150)
        raise AssertionError(f"{locator} kept moving for {timeout} s")

    def wait_for_request_to(self, path: str, timeout: float = 20.0) -> None:
        """Until the page has asked for `path` (a font Flutter fetches when it first draws that
        weight, later on a loaded machine); polled through Playwright so its events are taken in."""
        deadline = time.monotonic() + timeout
        while not any(u.endswith(path) for u in self.requests):
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} not loaded in {timeout} s")
            self.page.wait_for_timeout(100)

    def tap_until(self, target: Any, shown: Any, tries: int = 3, each: float = 8.0) -> None:
        """Tap `target` and see `shown` appear, tapping again if the tap was lost: on a loaded
        machine Flutter web was seen to take the first tap after typing as the end of the editing
        (the box loses focus) and nothing else: no progress, no answer, the button still enabled
        (CI 2026-12-05, the leader's "Tạo mã đăng ký"). A tap that was taken disables the button
        while its request runs, so it is never sent twice; the last wait fails the test."""
        from playwright.sync_api import expect

        for _ in range(tries - 1):
            target.click()
            try:
                expect(shown).to_be_visible(timeout=each * 1000)
                return
            except AssertionError:
                if not (target.is_visible() and target.is_enabled()):
                    break  # taken, and still at work: wait for it below
        else:
            target.click()
        try:
            expect(shown).to_be_visible(timeout=20_000)
        except AssertionError:
            self.screenshot("tap-until-not-shown")
            raise

    def tap_in_dialog(self, target: Any, title: Any) -> None:
        """Tap a dialog's button once it is in place, and see the dialog (`title`, a locator of its
        title) close, its one visible effect: a tap that does not close it fails the test."""
        from playwright.sync_api import expect

        expect(target).to_be_visible()
        self.still(target)
        self.page.wait_for_load_state("networkidle")  # the dialog's frame sent: nothing pending
        target.click()
        try:
            expect(title).to_be_hidden(timeout=15_000)
        except AssertionError:
            self.screenshot("tap-in-dialog-not-taken")  # what the page showed, for whoever reads the failure
            raise

    def set_pin(self, pin: str = "741963") -> None:
        """The PIN an officer's or leader's app asks first when it was enrolled with --enrol, saved:
        the PIN screen gone. Typed again and saved again when the app did not take it (a tap it
        never got, or a box whose keystrokes it did not get: it answers with an error)."""
        from playwright.sync_api import expect

        title = self.text("Đặt mã PIN cho ứng dụng")
        expect(title).to_be_visible()
        save = self.by_role("button", "Lưu mã PIN")
        for attempt in range(3):
            self.type_pin(pin)
            self.still(save)
            self.click(save)
            if self.pin_screen_gone(title):
                return
            self.screenshot(f"pin-save-not-taken-{attempt + 1}")
        raise AssertionError("the PIN screen did not take Lưu mã PIN, three times")

    # By the start of their names: a box the app refused a PIN in is named with its error too
    # ("Mã PIN mới Mã này quá dễ đoán …"), and must still be found to be typed again.
    PIN_BOXES = (re.compile("^Mã PIN mới"), re.compile("^Nhập lại mã PIN mới"))

    def type_pin(self, pin: str) -> None:
        """Both boxes hold the PIN. The second box's typing can reach the first while Flutter
        moves its focus (CI: the first box empty at the tap, "Mã PIN chỉ gồm chữ số."), so
        both are read again after both are typed."""
        for _ in range(3):
            for name in self.PIN_BOXES:
                if self.by_role("textbox", name).input_value() != pin:
                    self.type_into(name, pin)
            if all(self.by_role("textbox", name).input_value() == pin for name in self.PIN_BOXES):
                return
        raise AssertionError("the PIN boxes would not both hold the PIN")

    def pin_screen_gone(self, title: Any, timeout: float = 20.0) -> bool:
        """Until the PIN screen is gone (True). False when the app refused the PIN (one of its
        PIN errors under a box: typed again by the caller), or gave no sign in `timeout` (a tap
        Flutter web dropped on a loaded machine, type_into's note). A save that clears the boxes
        and takes its time to leave (scrypt on a loaded machine) is waited for, not typed over.
        An error already shown at the tap is an earlier refusal's: it counts only once it has gone
        (the app clears it when it takes a tap) and come back."""
        box = self.by_role("textbox", self.PIN_BOXES[0])
        errors = self.page.locator("flt-semantics").get_by_text(PIN_ERRORS)
        earlier = errors.count() > 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pin_screen_left(title, box):
                return True
            shown = errors.count() > 0
            if shown and not earlier:
                return False
            earlier = earlier and shown
            self.page.wait_for_timeout(100)
        return self._pin_screen_left(title, box)

    @staticmethod
    def _pin_screen_left(title: Any, box: Any) -> bool:
        return not title.is_visible() or not box.count()


def _pin_errors() -> re.Pattern[str]:
    """The app's PIN refusals as it words them (assets/i18n/vi/lock.json, lock.pin_error.*), each
    up to its first placeholder."""
    texts = json.loads((REPO / "assets" / "i18n" / "vi" / "lock.json").read_text(encoding="utf-8"))
    return re.compile("|".join(re.escape(text.split("{")[0].strip())
                               for key, text in texts.items() if key.startswith("lock.pin_error.")))


PIN_ERRORS = _pin_errors()


def open_page(browser: Any, app_url: str, width: int = 390, height: int = 844, route: str = "/") -> FlutterPage:
    """A fresh browser context at that viewport, the app loaded, semantics on. Every request is
    recorded; one for another host is refused and kept in `egress`."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    fp = FlutterPage(page, app_url)

    def on_request(request: Any) -> None:
        fp.requests.append(request.url)

    def on_failed(request: Any) -> None:
        if not fp.is_local(request.url) and request.failure == "csp":
            fp.csp_blocked.append(request.url)

    def guard(route_: Any) -> None:
        # only reached by requests the browser actually tries to send
        if fp.is_local(route_.request.url):
            route_.continue_()
        else:
            fp.egress.append(route_.request.url)
            route_.abort()

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    context.route("**/*", guard)
    page.goto(app_url.rstrip("/") + route)
    fp.wait_ready()
    fp.enable_semantics()
    return fp


@pytest.fixture
def open_app(browser: Any, web_app: WebApp) -> Iterator[Callable[..., FlutterPage]]:
    """`open_app(width, height, route="/")` → a loaded app with semantics on."""
    pages: list[FlutterPage] = []

    def open_(width: int = 390, height: int = 844, route: str = "/") -> FlutterPage:
        pages.append(open_page(browser, web_app.url, width, height, route))
        return pages[-1]

    yield open_
    for fp in pages:
        fp.page.context.close()
