"""The screens' models (field_app/views/models/), driven without Flet or the UI
harness: plain objects in, plain data out."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from field_app import i18n
from field_app.crypto import Cipher
from field_app.store import Store


@pytest.fixture(autouse=True)
def _vietnamese() -> Iterator[None]:
    """The process language (no Flet page here) is Vietnamese, the app's default."""
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def enrolled_store(path: Path, *, role: str = "volunteer", scope: dict | None = None,
                   device: str = "dev-a") -> Store:
    """A device store enrolled as `role` (no server: nothing here talks to one)."""
    store = Store(path, key=Cipher.new_key())
    store.enrol("http://127.0.0.1:8000", device, "token-" + device, role, scope or {"hamlets": []})
    return store
