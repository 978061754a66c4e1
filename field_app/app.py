"""Gõ Cửa field app: the entry point.

    gocua-app [--web] [--host H] [--port P] [--data DIR] [--server URL] [--enrol CODE]
    python -m field_app.app …                     (the same)

`build_app(page, ...)` turns a Flet page into the app (tests call it on the
harness's page); `main(argv)` is the console entry point: the arguments
(field_app/cli.py), the data dir, then a desktop window or web mode
(field_app/web.py). A `flet build` app (gocua_app.py) runs the same `main`.
"""
from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

import flet as ft
import httpx

from field_app import flet_private, i18n, keys, theme, views
from field_app.app_state import Device, acquire_device, release_device
from field_app.cli import enrol_at_start, parse_args
from field_app.datadir import data_dir as resolve_data_dir
from field_app.i18n import t
from field_app.lock import Clock
from field_app.shell import AppShell, apply_locale
from field_app.store import StoreError
from field_app.views.lock import install as install_lock
from field_app.web import serve_web

__all__ = ["build_app", "main"]


def build_app(
    page: ft.Page,
    *,
    data_dir: str | Path | None = None,
    server_url: str | None = None,
    language: str | None = None,
    role: str | None = None,
    device: Device | None = None,
    own_device: bool = False,
    key: keys.KeyProvider | bytes | None = None,
    http: httpx.Client | None = None,
    sync_interval: float = 60.0,
    autosync: bool = True,
    lock_clock: Clock | None = None,
) -> AppShell:
    """Make `page` the Gõ Cửa app: title, bundled font, theme, language,
    navigation, the device's data, and the view for the current route.
    Returns the shell.

    data_dir: the device's data dir (one `Device` per dir and process); None
        makes a throwaway one (tests, previews), deleted with the session.
    server_url: pre-fills the enrol screen (a scanned link overrides it).
    role: force a role's tabs even before enrolment (tests, previews); by
        default the enrolled device's role, and the enrol screen until then.
    device: use this Device instead of acquiring the process's one for
        data_dir; `own_device=True` releases it when the session ends (main()
        acquires it off the event loop, because a phone's keystore answers
        through the session).
    key: the store's data key or `field_app.keys` provider; default: the key
        file next to the database (desktop, web mode, tests).
    http: an `httpx.Client` for enrolment and sync (tests hand in FastAPI's
        TestClient); sync_interval, autosync: BackgroundSync's settings.
    lock_clock: the app lock's clock (`field_app.lock.ManualClock` in tests).
    """
    tmp_dir = None
    owns = device is None or own_device
    if device is None:
        if data_dir is None:
            tmp_dir = tempfile.mkdtemp(prefix="gocua-session-")
            data_dir = tmp_dir
        device = acquire_device(
            Path(data_dir), key=key, http=http, sync_interval=sync_interval, autosync=autosync
        )
    shell = AppShell(page, device, server_url=server_url, role=role)
    if owns:
        shell.on_close.append(lambda: release_device(device))
    if tmp_dir is not None:
        shell.on_close.append(lambda: shutil.rmtree(tmp_dir, ignore_errors=True))
    if language is None:
        remembered = device.store.setting("language")
        if remembered in i18n.LANGUAGES:
            language = remembered
    if language is not None:
        i18n.set_language(language, page)
    elif i18n.get_language(page) not in i18n.LANGUAGES:
        i18n.set_language(i18n.DEFAULT_LANGUAGE, page)
    lang = i18n.get_language(page)
    page.title = t("app.name", lang=lang)
    theme.apply(page)
    apply_locale(page, lang)
    page.on_route_change = shell._on_route_change
    page.on_view_pop = shell._on_view_pop
    page.on_resize = shell._on_resize
    page.on_close = lambda e: shell.close()
    page.data = shell  # reachable from any control: e.control.page.data

    views.register(shell)
    install_lock(shell, clock=lock_clock)  # the PIN lock (SECURITY.md "App lock")
    device.subscribe(shell._status_from_thread)
    shell.render()
    return shell


def _desktop_client_available() -> bool:
    if flet_private.is_embedded():  # a `flet build` app: the client is the app itself
        return True
    return find_spec("flet_desktop") is not None and not flet_private.is_linux_server()


def _show_locked(page: ft.Page, exc: Exception) -> None:
    """The data cannot be opened (keystore error, wrong key): say so; never guess."""
    lang = i18n.get_language(page)
    theme.apply(page)
    page.title = t("app.name", lang=lang)
    page.add(
        ft.SafeArea(
            ft.Column(
                [
                    ft.Icon(ft.Icons.LOCK, size=48, color=theme.STATUSES["problem"].strong),
                    ft.Text(t("app.locked", lang=lang), theme_style=ft.TextThemeStyle.TITLE_LARGE),
                    ft.Text(str(exc), theme_style=ft.TextThemeStyle.BODY_MEDIUM),
                ],
                spacing=12,
            ),
            minimum_padding=16,
        )
    )


def hold_for_web(data_dir: Path) -> Device | None:
    """Web mode: the process holds its device from the start, not only while a browser has it
    open, so an enrolled device (a leader's laptop app) syncs in the background with no tab
    open. The key is the key file beside the database, as every web session's is. None (and
    the sessions say why) when the store cannot be opened."""
    try:
        return acquire_device(data_dir, key=keys.provider_for(None, data_dir))
    except (StoreError, keys.KeyUnavailable) as exc:
        print(f"gocua-app: the data in {data_dir} cannot be opened: {exc}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `gocua-app`."""
    args = parse_args(argv)
    # FLET_APP_STORAGE_DATA (a phone's app-private storage) wins, then --data
    data_dir = resolve_data_dir(args.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.enrol:
        print(f"gocua-app: {enrol_at_start(data_dir, args.server, args.enrol)} ({data_dir})", flush=True)

    async def app(page: ft.Page) -> None:
        # The store opens in a worker thread: on a phone its key comes from the
        # platform keystore, which answers through this session's event loop.
        try:
            device = await asyncio.to_thread(
                acquire_device, data_dir, key=keys.provider_for(page, data_dir)
            )
        except (StoreError, keys.KeyUnavailable) as exc:
            _show_locked(page, exc)
            return
        build_app(page, device=device, own_device=True, server_url=args.server)

    web = args.web
    if not web and not _desktop_client_available():
        print(
            "gocua-app: no desktop client here (flet-desktop is not installed, or "
            "there is no display); starting web mode instead.",
            file=sys.stderr,
        )
        web = True

    if web:
        hold_for_web(data_dir)
        serve_web(app, host=args.host, port=args.port)
    else:
        ft.run(app, assets_dir=str(theme.ASSETS_DIR), no_cdn=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
