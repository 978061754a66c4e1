"""Small SQL helpers the store's parts share."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

CHUNK = 200  # ids per IN (...) query


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def marks(items: Sequence[Any]) -> str:
    """The `?, ?, …` of an IN (...) with one mark per item."""
    return ",".join("?" * len(items))
