"""Signing out: the one way the device's personal data leaves it.

Every path that ends an enrolment comes here: Settings' sign-out, the lock screen's
(the tenth wrong PIN, a forgotten PIN, discarding what could not be sent), the
campaign's retention purge (`410 purged`, through the HTTP client's `on_purged`), and
`gocua-app --enrol` replacing an identity the server no longer knows. `sign_out` sends
what is pending, tells the server (its token dies there: POST /api/v1/device/sign-out,
best effort), then purges (Store.purge_personal: events, state, identity, VACUUM, the
key); forced, the purge happens whatever the sending did. A server that could not be told
still honours the token: it is kept, sealed under the new key, and the next enrolment
sends it (app_state.enrol), which revokes it.

The notice of a retention purge is kept here too: a setting (clear JSON, nothing
personal) that survives the purge it reports, until the next enrolment clears it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .net.errors import NotAllSent, Purged, PurgeNotice, SyncError
from .store import Store

log = logging.getLogger(__name__)

NOTICE_SETTING = "purge_notice"  # a setting: it survives the purge it reports


def sign_out(store: Store, push: Callable[[], object] | None, *, force: bool = False,
             tell: Callable[[], bool] | None = None) -> None:
    """Send what is pending (`push`, e.g. SyncClient.push), tell the server (`tell`, e.g.
    SyncClient.tell_sign_out: True when the token is dead there), then purge.

    `tell` never stops the purge: an exception or False from it keeps the token (sealed) for
    the next enrolment to send. None: nobody to tell (the server refuses this identity).

    `push` None: nothing can be sent (the server refuses this identity). Not forced, a failed
    push raises its SyncError and events left unsent raise NotAllSent, and nothing is deleted.
    Forced (the volunteer agreed to lose what is unsent, the lock's last wrong PIN, the
    retention purge), the data goes whatever the push did. `Purged` from the push is raised
    once the data is gone: the request that was told deleted it (forced, again here should
    that have failed)."""
    if push is not None:
        try:
            push()
        except Purged:
            if force and store.signed_in:  # the purge answer's own deletion failed: the data goes anyway
                store.purge_personal()
            raise
        except SyncError:
            if not force:
                raise
    left = store.pending_count()
    if left and not force:
        raise NotAllSent(f"{left} events are not sent yet")
    token = store.token
    told = True
    if tell is not None and token:
        try:
            told = tell()
        except Exception:  # best effort: never in the purge's way
            log.exception("telling the server of the sign-out failed")
            told = False
    store.purge_personal()
    if not told:
        store.keep_previous_token(token)


def forget_purged(store: Store, purged: Purged) -> PurgeNotice:
    """The device's side of the retention purge (SECURITY.md, "Retention"): count what can never be
    sent, keep the notice, then sign out without sending (the server refuses this identity, and the
    campaign is closed anyway). The default `on_purged` of the HTTP client.

    The notice is written before the purge so that a purge interrupted half-way still has one; the
    identity then survives too and the next request, told again, finishes the job."""
    notice = PurgeNotice(purged.commune, purged.purged_at,
                         datetime.now().astimezone().isoformat(timespec="seconds"), store.pending_count())
    store.set_setting(NOTICE_SETTING, notice.to_json())
    sign_out(store, None, force=True)
    return notice


def purge_notice(store: Store) -> PurgeNotice | None:
    """The notice of the last retention purge, until the next enrolment clears it."""
    return PurgeNotice.from_json(store.setting(NOTICE_SETTING))


def clear_purge_notice(store: Store) -> None:
    store.set_setting(NOTICE_SETTING, None)


# one sign-out at a time per process: two sessions hitting the limit together must not purge twice
_SIGN_OUT = threading.Lock()


def sign_out_once(device: Any, force: bool) -> None:  # app_state.Device: it imports this module
    """Blocking (a worker thread): app_state.Device.sign_out, once per process at a time (the lock's
    sign-out: a forgotten PIN, the last wrong one). Forced, it purges whatever the sending does."""
    with _SIGN_OUT:
        if not device.store.signed_in:
            return  # another session did it meanwhile
        try:
            device.sign_out(force)
        except SyncError:
            if not device.store.signed_in:
                return  # purged all the same (the campaign's retention purge answered): done
            raise
