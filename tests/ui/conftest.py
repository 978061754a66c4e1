"""Fixtures for UI tests: a Flet session driven from Python (see harness.py).

    def test_something(app):                 # the Gõ Cửa shell, 390×844 phone
        app.click(app.get(ft.NavigationBarDestination, text="Cài đặt"))

    def test_other(make_harness, tmp_path):  # any app main, any size
        h = make_harness(lambda page: build_app(page, role="leader"), width=360, height=640)
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from field_app import i18n
from field_app.app import build_app

from .harness import AppHarness


@pytest.fixture(autouse=True)
def _process_language_is_vietnamese() -> Iterator[None]:
    """Each test starts (and leaves) the process default language at vi."""
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.fixture
def make_harness() -> Iterator[Callable[..., AppHarness]]:
    """Factory: `make_harness(main, width=390, height=844, route="/", ...)`
    starts a session for `main(page)`; all are closed after the test."""
    made: list[AppHarness] = []

    def make(main: Callable[[Any], Any], **kwargs: Any) -> AppHarness:
        h = AppHarness(main, **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.fixture
def app_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "app-data"


@pytest.fixture
def app(make_harness: Callable[..., AppHarness], app_data_dir: Path) -> AppHarness:
    """The Gõ Cửa app shell (volunteer, Vietnamese) on a 390×844 phone."""
    return make_harness(lambda page: build_app(page, data_dir=app_data_dir))
