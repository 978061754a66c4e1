"""store/per_engine.py: one value per engine, made on first ask or put, and gone with the engine."""
from __future__ import annotations

import gc

import pytest
from sqlalchemy import create_engine

from sync_server.store.per_engine import PerEngine


def test_a_value_is_made_once_per_engine_or_put_and_goes_with_its_engine() -> None:
    made = PerEngine(list)
    one, two = create_engine("sqlite://"), create_engine("sqlite://")
    assert made.made(one) is None
    assert made(one) is made(one) and made(one) is not made(two)
    kept: PerEngine[str] = PerEngine()
    assert kept.put(one, "x") == "x" and kept.made(one) == "x" and kept.made(two) is None
    with pytest.raises(TypeError):
        kept(two)  # nothing to make it with
    del one
    gc.collect()
    assert len(made._by_engine) == 1 and len(kept._by_engine) == 0
