"""The screens' models (field_app/views/models/), driven without Flet or the UI
harness: plain objects in, plain data out."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from field_app import i18n


@pytest.fixture(autouse=True)
def _vietnamese() -> Iterator[None]:
    """The process language (no Flet page here) is Vietnamese, the app's default."""
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
