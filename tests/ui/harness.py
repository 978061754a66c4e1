"""Drive a real Flet 1.0 session from Python, with no browser and no Flutter.

    h = AppHarness(lambda page: build_app(page))      # starts the session
    h.get(ft.NavigationBarDestination, text="Cài đặt")  # what the client shows
    h.click(h.get(ft.NavigationBarDestination, text="Cài đặt"))
    h.change(h.get(key="settings.language"), "en")
    assert h.texts() ...
    h.close()

How it works (see docs/ui.md for the Flet internals it relies on):

- `FakeConnection` is a `flet.messaging.connection.Connection`. Every message
  the `Session` sends is packed with Flet's own msgpack encoder — the step
  that records the `__prev_*` snapshots the next diff is computed against —
  then unpacked, as the Flutter client would.
- `ClientControl` is the client-side mirror: the page tree rebuilt from the
  register response and every PATCH_CONTROL message, with the same patch
  algorithm as the Dart client (`Control.applyPatch`). Lookups search this
  mirror, so a test sees only what actually reached the client: a screen
  that changes a control but never sends the update fails its test.
- Events go the way the client sends them: `UPDATE_CONTROL_PROPS` for state
  the client owns (a field's value, a bar's selected index), then
  `CONTROL_EVENT` — encoded to msgpack and back too — then `Session.dispatch_event`.
- Client methods the session invokes (`page.navigate` → `push_route`, …) are
  answered like the client: a route push updates `page.route` and fires
  `route_change`. Other methods return None unless a test registers an
  answer in `h.method_results`; all are recorded in `h.invocations`.
- After each action `settle()` runs the event loop until the session is
  quiet (no task left but long-lived background loops). An unhandled
  exception in app code (a SESSION_CRASHED message) fails the test.

The API is synchronous: the harness owns an asyncio loop and runs it during
each call, so tests need no asyncio plugin. Background tasks the app starts
progress only inside harness calls (`h.settle(0.5)` to let time pass).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import inspect
import logging
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import flet as ft
import msgpack
from flet.controls.base_control import BaseControl
from flet.controls.context import _context_page, context
from flet.messaging.connection import Connection
from flet.messaging.protocol import (
    Message,
    MessageAction,
    RegisterClientResponseBody,
    configure_encode_object_for_msgpack,
    decode_ext_from_msgpack,
)
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

from ..support import wait_until

__all__ = ["AppCrashed", "AppHarness", "ClientControl", "FakeConnection", "wait_for"]

logger = logging.getLogger("gocua.tests.harness")

_ENCODE = configure_encode_object_for_msgpack(BaseControl)

#: props whose string values count as a control's visible text / label
TEXT_PROPS = (
    "value",
    "label",
    "text",
    "content",
    "title",
    "subtitle",
    "tooltip",
    "hint_text",
    "helper_text",
    "error_text",
    "placeholder_text",
    "semantics_label",
)

#: controls whose `value` is a code or state, not text a person reads
_VALUE_IS_NOT_TEXT = {
    "Radio",
    "RadioGroup",
    "Checkbox",
    "Switch",
    "Slider",
    "RangeSlider",
    "Dropdown",
    "DropdownM2",
    "CupertinoRadio",
    "CupertinoCheckbox",
    "CupertinoSwitch",
    "CupertinoSlider",
}

#: control types whose "change" updates `selected_index` (else `value`)
_INDEX_CONTROLS = {
    "NavigationBar",
    "NavigationRail",
    "NavigationDrawer",
    "Tabs",
    "TabBar",
    "CupertinoNavigationBar",
    "CupertinoSlidingSegmentedButton",
    "CupertinoSegmentedButton",
    "CupertinoPicker",
}

#: destination type -> the bar type that owns its selection
_DESTINATIONS = {
    "NavigationBarDestination": "NavigationBar",
    "NavigationRailDestination": "NavigationRail",
    "NavigationDrawerDestination": "NavigationDrawer",
}


class AppCrashed(AssertionError):
    """App code raised: the session sent SESSION_CRASHED to the client."""


# ---------------------------------------------------------------------------
# The client-side mirror
# ---------------------------------------------------------------------------


class ClientControl:
    """A control as the Flutter client holds it: `type` (the Dart name, e.g.
    "Text"), `id` (the session's `_i`) and `props` (decoded msgpack; child
    controls are ClientControl too)."""

    __slots__ = ("__weakref__", "_parent", "id", "props", "type")

    def __init__(self, id: int, type: str, props: dict, parent: ClientControl | None):
        self.id = id
        self.type = type
        self.props = props
        self._parent = weakref.ref(parent) if parent is not None else None

    @classmethod
    def from_map(
        cls, data: dict, parent: ClientControl | None, index: dict[int, ClientControl]
    ) -> ClientControl:
        c = cls(data["_i"], data["_c"], {}, parent)
        index[c.id] = c
        for k, v in data.items():
            if k not in ("_i", "_c"):
                c.props[k] = _transform(v, c, index)
        return c

    # -- reading ----------------------------------------------------------

    @property
    def parent(self) -> ClientControl | None:
        p = self._parent() if self._parent else None
        while p is not None and p.type == "C":  # skip component wrappers
            p = p._parent() if p._parent else None
        return p

    def get(self, name: str, default: Any = None) -> Any:
        v = self.props.get(name)
        return default if v is None else v

    def __getitem__(self, name: str) -> Any:
        """A prop as the client resolves it. Flet leaves props at their
        default off the wire, so a missing one is the Flet class's default
        (e.g. NavigationBar.selected_index → 0)."""
        if name in self.props:
            return self.props[name]
        return _default_of(self.type, name)

    @property
    def visible(self) -> bool:
        return self.props.get("visible", True) is not False

    @property
    def disabled(self) -> bool:
        node: ClientControl | None = self
        while node is not None:
            if node.props.get("disabled") is True:
                return True
            node = node.parent
        return False

    @property
    def key(self) -> Any:
        k = self.props.get("key")
        return k.get("value") if isinstance(k, dict) else k

    def children(self, visible_only: bool = True) -> Iterator[ClientControl]:
        """Direct child controls, in prop order (component wrappers unwrapped)."""
        for name, v in self.props.items():
            if name == "_internals":
                continue
            yield from _controls_in(v, visible_only)

    def descendants(self, visible_only: bool = True) -> Iterator[ClientControl]:
        for c in self.children(visible_only):
            yield c
            yield from c.descendants(visible_only)

    def own_texts(self) -> list[str]:
        """This control's own strings (value, label, content, tooltip, …)."""
        out = []
        for name in TEXT_PROPS:
            if name == "value" and self.type in _VALUE_IS_NOT_TEXT:
                continue
            v = self.props.get(name)
            if isinstance(v, str) and v:
                out.append(v)
            elif isinstance(v, dict) and isinstance(v.get("message"), str):
                out.append(v["message"])  # Tooltip value object
        return out

    def texts(self, visible_only: bool = True) -> list[str]:
        """All strings in this subtree, in tree order."""
        out = self.own_texts()
        for c in self.descendants(visible_only):
            out.extend(c.own_texts())
        return out

    @property
    def text(self) -> str:
        """The subtree's strings joined with spaces (handy in asserts)."""
        return " ".join(self.texts())

    def __repr__(self) -> str:
        own = self.own_texts()
        extra = f" {own[0]!r}" if own else ""
        key = self.key
        return f"<{self.type}#{self.id}{extra}{f' key={key!r}' if key is not None else ''}>"

    def dump(self, indent: int = 0, visible_only: bool = True) -> str:
        """An indented outline of the subtree, for failure messages."""
        lines = ["  " * indent + repr(self)]
        for c in self.children(visible_only):
            lines.append(c.dump(indent + 1, visible_only))
        return "\n".join(lines)


def _default_of(type_name: str, prop: str) -> Any:
    cls = getattr(ft, type_name, None)
    fields = getattr(cls, "__dataclass_fields__", {})
    f = fields.get(prop)
    if f is None:
        raise KeyError(f"{type_name} has no prop {prop!r}")
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        raise KeyError(f"{type_name}.{prop} has no default")
    return _roundtrip(value)


def _transform(value: Any, parent: ClientControl | None, index: dict) -> Any:
    if isinstance(value, dict):
        if "_c" in value:
            return ClientControl.from_map(value, parent, index)
        return {k: _transform(v, parent, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_transform(v, parent, index) for v in value]
    return value


def _unwrap(c: ClientControl) -> ClientControl | None:
    while isinstance(c, ClientControl) and c.type == "C":
        c = c.props.get("_b")
    return c if isinstance(c, ClientControl) else None


def _controls_in(v: Any, visible_only: bool) -> Iterator[ClientControl]:
    if isinstance(v, ClientControl):
        c = _unwrap(v)
        if c is not None and (c.visible or not visible_only):
            yield c
    elif isinstance(v, list):
        for item in v:
            yield from _controls_in(item, visible_only)
    elif isinstance(v, dict):
        for item in v.values():
            yield from _controls_in(item, visible_only)


def replaces_views(patch: list) -> bool:
    """Whether a PATCH_CONTROL patch to the page (see `apply_patch`) puts, takes or moves a view in
    `page.views`, as `AppShell.render()` does: Flet sends each rebuilt View as a new control, and
    Flutter's navigator gets new pages (a change inside a view is not that)."""
    tree = patch[0]
    views = tree[1].get("views") if len(tree) > 1 and isinstance(tree[1], dict) else None
    return views is not None and any(op[1] == views[0] or (op[0] == 3 and op[3] == views[0]) for op in patch[1:])


def closing_dialogs(root: ClientControl) -> list[ClientControl]:
    """The dialogs the client still shows as routes over the views while they close: in the page's
    dialog holder, no longer open, not yet reported dismissed (Flet takes them out then). Snack bars
    and banners are not routes: they go with the view."""
    holder = root.props.get("_dialogs")
    if not isinstance(holder, ClientControl):
        return []
    return [c for c in _controls_in(holder.props.get("controls", []), False)
            if c.props.get("open") is not True and c.type not in ("SnackBar", "Banner")]


def apply_patch(root: ClientControl, patch: list, index: dict[int, ClientControl]) -> None:
    """Apply one PATCH_CONTROL patch to `root`, as the Dart client's
    `Control.applyPatch` does.

    patch := [tree, op, op, ...]; tree := [node_index, {key: tree, ...}]
    names every path the ops touch; op := [0 replace | 1 add, node, key, value]
    | [2 remove, node, key] | [3 move, from_node, from_key, to_node, to_key].
    """
    paths: dict[int, list] = {}

    def walk(node: list, path: list) -> None:
        paths[node[0]] = path
        if len(node) > 1 and isinstance(node[1], dict):
            for k, child in node[1].items():
                walk(child, [*path, k])

    walk(patch[0], [])

    def target(node_index: int) -> tuple[Any, ClientControl]:
        obj: Any = root
        control = root
        for p in paths[node_index]:
            obj = obj.props[p] if isinstance(obj, ClientControl) else obj[p]
            if isinstance(obj, ClientControl):
                control = obj
        return (obj.props if isinstance(obj, ClientControl) else obj), control

    for op in patch[1:]:
        kind = op[0]
        if kind == 0:  # replace
            obj, control = target(op[1])
            obj[op[2]] = _transform(op[3], control, index)
        elif kind == 1:  # add
            obj, control = target(op[1])
            value = _transform(op[3], control, index)
            if isinstance(obj, list):
                obj.insert(op[2], value)
            else:
                obj[op[2]] = value
        elif kind == 2:  # remove
            obj, _ = target(op[1])
            if isinstance(obj, list):
                del obj[op[2]]
            else:
                obj.pop(op[2], None)
        elif kind == 3:  # move
            src, _ = target(op[1])
            dst, _ = target(op[3])
            if isinstance(src, list):
                dst.insert(op[4], src.pop(op[2]))
            else:
                dst[op[4]] = src.pop(op[2])
        else:
            raise ValueError(f"unknown patch operation {op!r}")


# ---------------------------------------------------------------------------
# The connection
# ---------------------------------------------------------------------------


class FakeConnection(Connection):
    """A Connection whose 'client' is the harness. Every outbound message is
    msgpack-encoded with Flet's encoder and decoded again before the harness
    sees it — exactly the bytes a Flutter client would get."""

    def __init__(self, harness: AppHarness, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self._harness = harness
        self.loop = loop
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.pubsubhub = PubSubHub(loop=loop, executor=self.executor)
        self.page_name = ""
        self.page_url = "http://127.0.0.1/"
        self.local_data_transport = True
        self.bytes_sent = 0

    def send_message(self, message: Message) -> None:
        raw = msgpack.packb([message.action, message.body], default=_ENCODE)
        self.bytes_sent += len(raw)
        self._harness._receive(
            msgpack.unpackb(raw, ext_hook=decode_ext_from_msgpack, strict_map_key=False)
        )

    def get_upload_url(self, file_name: str, expires: int) -> str:
        return f"{self.page_url}upload/{file_name}"

    def dispose(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _roundtrip(value: Any) -> Any:
    """What the server receives when the client sends `value` (msgpack)."""
    return msgpack.unpackb(
        msgpack.packb(value, default=_ENCODE),
        ext_hook=decode_ext_from_msgpack,
        strict_map_key=False,
    )


# ---------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------

Target = ClientControl | BaseControl | int


class AppHarness:
    """A running Flet session for one app `main(page)`, driven like a client.

    Args:
        main: the app entry, e.g. `lambda page: build_app(page)`; sync or async.
        width, height: the client's page size in logical px (phone: 390×844).
        route: the initial route, as if opened from a deep link.
        platform: reported client platform ("android", "ios", "linux", …).
        web: whether the client says it runs in a browser.
    """

    def __init__(
        self,
        main: Callable[[ft.Page], Any],
        *,
        width: float = 390,
        height: float = 844,
        route: str = "/",
        platform: str = "android",
        web: bool = False,
    ):
        self.loop = asyncio.new_event_loop()
        self.messages: list[tuple[str, Any]] = []  # (action name, decoded body)
        self.invocations: list[dict] = []  # client methods the app invoked
        # answers to client method calls: "Type.method" or "method" ->
        # a value, or a callable(args) (raise to make the call fail)
        self.method_results: dict[str, Any] = {}
        self.crashes: list[str] = []
        self._dismissed: set[int] = set()  # dialogs already reported dismissed
        #: a slow client: closed dialogs are not reported dismissed until `release_dismissals()`
        self.hold_dismissals = False
        #: screens redrawn while a closed dialog was still on the client, which Chromium was seen to
        #: leave on screen over the new screen (field_app/shell.py `render`); each fails the action
        #: that sent it unless `strict_dialogs` is False
        self.redrawn_under_dialog: list[str] = []
        self.strict_dialogs = True
        self._checked_redraws = 0
        self.root: ClientControl | None = None  # the client's page
        self._index: dict[int, ClientControl] = {}
        self._checked_crashes = 0
        self._closed = False
        self.conn = FakeConnection(self, self.loop)
        self.session: Session
        try:
            self._run(self._start(main, width, height, route, platform, web))
        except BaseException:
            self.close()  # e.g. main() crashed: do not leak the loop
            raise

    # -- lifecycle ----------------------------------------------------------

    async def _start(self, main, width, height, route, platform, web) -> None:
        session = self.session = Session(self.conn)
        # what the client sends in REGISTER_CLIENT's "page"
        session.apply_page_patch(
            _roundtrip(
                {
                    "route": route,
                    "web": web,
                    "pwa": False,
                    "debug": False,
                    "wasm": False,
                    "test": False,
                    "multi_view": False,
                    "pyodide": False,
                    "platform_brightness": "light",
                    "width": width,
                    "height": height,
                    "platform": platform,
                }
            )
        )
        self.conn.send_message(
            Message(
                MessageAction.REGISTER_CLIENT,
                RegisterClientResponseBody(
                    session_id=session.id, page_patch=session.get_page_patch(), error=""
                ),
            )
        )
        # what flet.app's on_session_created does
        _context_page.set(session.page)
        context.reset_auto_update()
        try:
            if inspect.iscoroutinefunction(main):
                await main(session.page)
            elif inspect.isasyncgenfunction(main):
                async for _ in main(session.page):
                    await session.after_event(session.page)
            elif inspect.isgeneratorfunction(main):
                for _ in main(session.page):
                    await session.after_event(session.page)
            else:
                result = main(session.page)
                if inspect.isawaitable(result):  # e.g. a lambda around an async main
                    await result
            await session.after_event(session.page)
        except Exception as e:  # same as Flet: report to the client
            logger.error("Unhandled error in main()", exc_info=True)
            session.error(f"{e}\n{traceback.format_exc()}")
        await self._settle()

    def close(self) -> None:
        """End the session and the loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:

            async def _close() -> None:
                if hasattr(self, "session"):
                    self.session.close()  # dispatches the page's "close" event
                await asyncio.sleep(0)

            self.loop.run_until_complete(_close())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self.conn.dispose()
            self.loop.close()

    def __enter__(self) -> AppHarness:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the app side ---------------------------------------------------------

    @property
    def page(self) -> ft.Page:
        """The session's (Python) page."""
        return self.session.page

    def control(self, target: Target) -> BaseControl:
        """The live Python control behind a client control (or id)."""
        cid = self._id(target)
        c = self.session.index.get(cid)
        if c is None:
            raise LookupError(f"control {cid} is not mounted in the session")
        return c

    # -- the client side: finding -----------------------------------------------

    @property
    def views(self) -> list[ClientControl]:
        return [v for v in _controls_in(self._root().props.get("views", []), True)]

    @property
    def top_view(self) -> ClientControl:
        views = self.views
        if not views:
            raise AssertionError("the client has no views")
        return views[-1]

    @property
    def route(self) -> str:
        return self._root().get("route", "/")

    def screen(self) -> list[ClientControl]:
        """Roots of what a person sees: the top view, overlays, open dialogs."""
        page = self._root()
        roots = [self.top_view]
        for holder in ("_overlay", "_dialogs"):
            h = page.props.get(holder)
            if isinstance(h, ClientControl):
                for c in _controls_in(h.props.get("controls", []), True):
                    if holder == "_dialogs" and c.props.get("open") is not True:
                        continue
                    roots.append(c)
        return roots

    def find(
        self,
        type: str | type | None = None,
        *,
        text: str | None = None,
        text_contains: str | None = None,
        key: Any = None,
        where: Callable[[ClientControl], bool] | None = None,
        within: ClientControl | None = None,
        scope: str = "screen",
        visible_only: bool = True,
    ) -> list[ClientControl]:
        """Client controls matching every given criterion, in tree order.

        type: Dart type name ("Text") or Flet class (ft.Text).
        text: exact match against one of the control's own strings (value,
            label, content, tooltip, …); text_contains: substring of one.
        key: the control's `key` (str/int, or a ValueKey's value).
        where: any predicate on the ClientControl.
        within: search only this subtree; else `scope`: "screen" (top view,
            overlay, open dialogs — what a person sees) or "page" (everything).
        """
        tname = type if isinstance(type, str) or type is None else type.__name__
        if within is not None:
            roots = [within]
        elif scope == "page":
            roots = [self._root()]
        elif scope == "screen":
            roots = self.screen()
        else:
            raise ValueError(f"unknown scope {scope!r}")
        found: list[ClientControl] = []
        seen: set[int] = set()
        for root in roots:
            for c in (root, *root.descendants(visible_only)):
                if c.id in seen:
                    continue
                seen.add(c.id)
                if tname is not None and c.type != tname:
                    continue
                if text is not None and text not in c.own_texts():
                    continue
                if text_contains is not None and not any(text_contains in s for s in c.own_texts()):
                    continue
                if key is not None and c.key != key:
                    continue
                if where is not None and not where(c):
                    continue
                found.append(c)
        return found

    def get(self, type: str | type | None = None, **criteria: Any) -> ClientControl:
        """Exactly one match of `find(...)`, else an AssertionError that shows
        the matches, or the screen's outline when there are none."""
        found = self.find(type, **criteria)
        if len(found) == 1:
            return found[0]
        what = ", ".join(
            [f"type={type if isinstance(type, str) or type is None else type.__name__}"]
            + [f"{k}={v!r}" for k, v in criteria.items()]
        )
        if not found:
            outline = "\n".join(r.dump() for r in self.screen())
            raise AssertionError(f"no control matches {what}; the screen is:\n{outline}")
        raise AssertionError(f"{len(found)} controls match {what}: {found}")

    def exists(self, type: str | type | None = None, **criteria: Any) -> bool:
        return bool(self.find(type, **criteria))

    def texts(self, scope: str = "screen") -> list[str]:
        """Every string on the screen (or page), in tree order."""
        roots = self.screen() if scope == "screen" else [self._root()]
        out: list[str] = []
        for r in roots:
            out.extend(r.texts())
        return out

    def dump(self, scope: str = "screen") -> str:
        roots = self.screen() if scope == "screen" else [self._root()]
        return "\n".join(r.dump() for r in roots)

    # -- the client side: acting ------------------------------------------------

    def click(self, target: Target) -> None:
        """Tap a control as a person would. A navigation destination selects
        its tab (the bar's `change`); a Radio selects its value in the
        enclosing RadioGroup; anything else fires its `click` — and must have
        an `on_click` handler and be enabled, or the tap would do nothing."""
        c = self._client(target)
        self._check_interactive(c)
        if c.type in _DESTINATIONS:
            bar = self._ancestor(c, _DESTINATIONS[c.type])
            siblings = list(_controls_in(bar.props.get("destinations", []), True))
            self.change(bar, siblings.index(c))
            return
        if c.type == "Radio":
            group = self._ancestor(c, "RadioGroup")
            self.change(group, c.get("value"))
            return
        if c.props.get("on_click") is not True:
            raise AssertionError(f"{c!r} has no on_click handler: a tap would do nothing")
        self.event(c, "click")

    def change(self, target: Target, value: Any, prop: str | None = None) -> None:
        """The client changing a value it owns, then firing `change`
        (a text field's `value`, a bar's `selected_index`, …)."""
        c = self._client(target)
        self._check_interactive(c)
        prop = prop or ("selected_index" if c.type in _INDEX_CONTROLS else "value")
        self.update_props(c, {prop: value})
        if c.props.get("on_change") is True:
            self.event(c, "change", value)
        else:
            self.settle()

    def submit(self, target: Target, value: Any = None) -> None:
        """Enter pressed in a text field."""
        self.event(target, "submit", value)

    def update_props(self, target: Target, props: dict) -> None:
        """UPDATE_CONTROL_PROPS: the client tells the server about state it
        changed (and applies it to its own tree first)."""
        c = self._client(target)
        props = _roundtrip(props)
        c.props.update(props)
        self._record("UPDATE_CONTROL_PROPS<", {"id": c.id, "props": props})
        self.session.apply_patch(c.id, props)

    def event(self, target: Target, name: str, data: Any = None) -> None:
        """CONTROL_EVENT: fire `on_<name>` with `data` (sent through msgpack)
        and run the loop until the app is done handling it."""
        cid = self._id(target)
        body = _roundtrip({"target": cid, "name": name, "data": data})
        self._record("CONTROL_EVENT<", body)
        self._run(self._dispatch(body["target"], body["name"], body["data"]))

    def go(self, route: str) -> None:
        """The route changes on the client (a deep link, the browser's Back):
        page.route is updated and `route_change` fires."""
        self._client_route_change(route)
        self.settle()

    def back(self) -> None:
        """The system Back button / AppBar back arrow on the top view."""
        self.event(self._root().id, "view_pop", {"route": self.top_view.get("route", "/")})

    def resize(self, width: float, height: float) -> None:
        """The window or device changes size."""
        self.update_props(self._root().id, {"width": width, "height": height})
        self.event(self._root().id, "resize", {"width": width, "height": height})

    def settle(self, timeout: float = 5.0) -> None:
        """Run the loop until the app is quiet (see `_settle`), and report the dialogs it closed
        meanwhile dismissed."""
        self._run(self._settle_and_dismiss(timeout))

    def release_dismissals(self) -> None:
        """The slow client (`hold_dismissals`) catches up: its closed dialogs are reported dismissed."""
        self.hold_dismissals = False
        self.settle()

    async def _settle_and_dismiss(self, timeout: float) -> None:
        await self._settle(timeout=timeout)
        await self._dismiss_closed_dialogs()

    # -- internals ---------------------------------------------------------------

    def _run(self, coro: Any) -> Any:
        if self._closed:
            raise RuntimeError("harness is closed")
        result = self.loop.run_until_complete(coro)
        self._raise_crashes()
        self._raise_redraws()
        return result

    async def _dispatch(self, target: int, name: str, data: Any) -> None:
        await self.session.dispatch_event(target, name, data)
        await self._settle()
        await self._dismiss_closed_dialogs()

    async def _dismiss_closed_dialogs(self) -> None:
        """As Flutter does once a dialog's closing animation ends: a dialog the app closed
        (`open` false) is reported `dismiss`, which Flet's page takes it off its stack for
        and passes to the dialog's own on_dismiss; the shell draws a screen that waited for it.
        Not while `hold_dismissals` (a slow client)."""
        while not self.hold_dismissals:
            holder = self._root().props.get("_dialogs")
            closed = [c for c in _controls_in(holder.props.get("controls", []), True)
                      if c.props.get("open") is not True and c.props.get("on_dismiss") is True
                      and c.id not in self._dismissed] if isinstance(holder, ClientControl) else []
            if not closed:
                return
            for c in closed:
                self._dismissed.add(c.id)
                self._record("CONTROL_EVENT<", {"target": c.id, "name": "dismiss", "data": None})
                await self.session.dispatch_event(c.id, "dismiss", None)
                await self._settle()

    async def _settle(self, timeout: float = 5.0, idle: float = 0.2) -> None:
        """Yield to the loop until no app task is left. Tasks that make no
        progress (no message sent, none finished) for `idle` seconds count as
        background loops (a periodic sync, a timer) and are left running."""
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        deadline = loop.time() + timeout
        last_activity = loop.time()
        last_count = len(self.messages)
        quiet_spins = 0
        while True:
            await asyncio.sleep(0)
            pending = [
                t
                for t in asyncio.all_tasks(loop)
                if t is not current and not t.done() and not _is_scheduler(t)
            ]
            if not pending:
                quiet_spins += 1
                if quiet_spins >= 3 and len(self.messages) == last_count:
                    return
            else:
                quiet_spins = 0
                done, _ = await asyncio.wait(pending, timeout=0.01)
                if done:
                    last_activity = loop.time()
            if len(self.messages) != last_count:
                last_count = len(self.messages)
                last_activity = loop.time()
                quiet_spins = 0
            now = loop.time()
            if pending and now - last_activity > idle:
                return
            if now > deadline:
                raise TimeoutError(f"app did not settle in {timeout}s; pending: {pending}")

    def _receive(self, decoded: list) -> None:
        action = MessageAction(decoded[0])
        body = decoded[1]
        self._record(action.name, body)
        if action == MessageAction.REGISTER_CLIENT:
            self._index = {}
            self.root = ClientControl.from_map(body["page_patch"], None, self._index)
        elif action == MessageAction.PATCH_CONTROL:
            target = self._index.get(body["id"])
            if target is None:
                raise AssertionError(f"patch for unknown control {body['id']}: client out of sync")
            redraw = target is self.root and replaces_views(body["patch"])
            apply_patch(target, body["patch"], self._index)
            # looked at after the patch: a dialog it closes counts too (the close and the views in one update)
            closing = closing_dialogs(target) if redraw else []
            if closing:
                self.redrawn_under_dialog.append(
                    "views redrawn while closing: " + ", ".join(f"{c.type} {c.id}" for c in closing))
        elif action == MessageAction.INVOKE_METHOD:
            self._answer_invoke(body)
        elif action == MessageAction.SESSION_CRASHED:
            self.crashes.append(body["message"])

    def _answer_invoke(self, body: dict) -> None:
        name, args = body["name"], body.get("args") or {}
        self.invocations.append(body)
        result: Any = None
        error: str | None = None
        if name == "push_route" and body["control_id"] == self._root().id:
            # the client pushes the route onto its history, then reports it
            self.loop.call_soon(self._client_route_change, args["route"])
        elif self._method_result_key(body) is not None:
            answer = self.method_results[self._method_result_key(body)]
            try:
                result = answer(args) if callable(answer) else answer
            except Exception as e:  # the client reports failures as text
                error = str(e)
        response = _roundtrip(
            {"control_id": body["control_id"], "call_id": body["call_id"], "result": result, "error": error}
        )
        self.loop.call_soon(
            self.session.handle_invoke_method_results,
            response["control_id"],
            response["call_id"],
            response["result"],
            response["error"],
        )

    def _method_result_key(self, body: dict) -> str | None:
        """"Type.method" (e.g. "Clipboard.get") wins over a bare "method"."""
        control = self.session.index.get(body["control_id"])
        qualified = f"{getattr(control, '_c', '?')}.{body['name']}"
        for key in (qualified, body["name"]):
            if key in self.method_results:
                return key
        return None

    def _client_route_change(self, route: str) -> None:
        # FletBackend.onRouteUpdated: updateControl(page, {route}) + route_change
        page_id = self._root().id
        self.update_props(page_id, {"route": route})
        body = _roundtrip({"target": page_id, "name": "route_change", "data": {"route": route}})
        self._record("CONTROL_EVENT<", body)
        self.loop.create_task(self.session.dispatch_event(page_id, "route_change", body["data"]))

    def _record(self, action: str, body: Any) -> None:
        self.messages.append((action, body))

    def _raise_crashes(self) -> None:
        if len(self.crashes) > self._checked_crashes:
            new = self.crashes[self._checked_crashes :]
            self._checked_crashes = len(self.crashes)
            raise AppCrashed("the app crashed:\n" + "\n".join(new))

    def _raise_redraws(self) -> None:
        if len(self.redrawn_under_dialog) > self._checked_redraws:
            new = self.redrawn_under_dialog[self._checked_redraws:]
            self._checked_redraws = len(self.redrawn_under_dialog)
            if self.strict_dialogs:
                raise AssertionError("a screen was redrawn in the update that closed a dialog (Chromium leaves "
                                     "the dialog on screen over it):\n" + "\n".join(new))

    def _root(self) -> ClientControl:
        if self.root is None:
            raise AssertionError("the client has not registered yet")
        return self.root

    def _id(self, target: Target) -> int:
        if isinstance(target, ClientControl):
            return target.id
        if isinstance(target, BaseControl):
            return target._i
        return int(target)

    def _client(self, target: Target) -> ClientControl:
        cid = self._id(target)
        c = self._index.get(cid)
        if c is None:
            raise AssertionError(f"control {cid} is not on the client (never sent, or removed)")
        return c

    def _check_interactive(self, c: ClientControl) -> None:
        if c.disabled:
            raise AssertionError(f"{c!r} is disabled")
        node: ClientControl | None = c
        while node is not None:
            if not node.visible:
                raise AssertionError(f"{c!r} is not visible")
            node = node.parent

    def _ancestor(self, c: ClientControl, type_name: str) -> ClientControl:
        node = c.parent
        while node is not None and node.type != type_name:
            node = node.parent
        if node is None:
            raise AssertionError(f"{c!r} is not inside a {type_name}")
        return node


def _is_scheduler(task: asyncio.Task) -> bool:
    """The session's long-lived update scheduler (waits on an Event forever)."""
    coro = task.get_coro()
    return "updates_scheduler" in getattr(coro, "__qualname__", "")


def wait_for(h: AppHarness, condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Run the session until `condition()` is truthy (what worker threads bring: server answers,
    a sync) and return its value; fail with the screen's dump after `timeout` seconds. The one
    wait of the UI tests."""
    def ready() -> Any:
        # still busy is "not yet" (seen on a loaded machine as a worker's answer came in): look, then again
        with contextlib.suppress(TimeoutError):
            h.settle(0.5)
        return condition()

    return wait_until(ready, timeout, every=0.02, message=lambda: f"timed out waiting; the screen is:\n{h.dump()}")
