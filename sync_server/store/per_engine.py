"""A value per engine, in this process: the store's per-engine state (the write turns, the writer
at work, SQLite's checkpoints, the lock's record) and the services' (the hamlets' communes a
device's scope is read with: services/enrolment.py) kept in one kind of registry. Weakly keyed:
an engine disposed of and dropped takes its value with it."""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Engine

T = TypeVar("T")


class PerEngine(Generic[T]):
    """One T per engine: made the first time it is asked for (`__call__`, given `make`), or set
    when the engine is configured (`put`)."""

    def __init__(self, make: Callable[[], T] | None = None) -> None:
        self._make = make
        self._by_engine: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._mutex = threading.Lock()

    def __call__(self, engine: Engine) -> T:
        if self._make is None:
            raise TypeError("this registry's values are put, not made: ask with made()")
        with self._mutex:
            found = self._by_engine.get(engine)
            if found is None:
                found = self._by_engine[engine] = self._make()
            return found

    def put(self, engine: Engine, value: T) -> T:
        with self._mutex:
            self._by_engine[engine] = value
        return value

    def made(self, engine: Engine) -> T | None:
        """The engine's T if there is one, without making one."""
        return self._by_engine.get(engine)
