"""The depth check of a pushed event (services/ingest.validate_body): the shallow events looked
at without a walk give the walk's answer, whatever nests where."""
from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync_server.services import ingest

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=2), inner, max_size=3)),
                     max_leaves=30)


@given(st.dictionaries(st.sampled_from(["id", "kind", "data", "base", "at", "x"]), trees, max_size=6))
def test_the_shallow_look_answers_as_the_walk(event: dict[str, Any]) -> None:
    assert ingest._too_deep(event) == ingest._walked_too_deep(event)


def test_the_limit_is_where_it_was() -> None:
    for depth in range(1, 12):
        nested: Any = "x"
        for _ in range(depth):
            nested = [nested]
        for event in ({"data": {"address": nested}}, {"data": nested}, {"data": {"come_back": {"on": nested}}}):
            assert ingest._too_deep(event) == ingest._walked_too_deep(event)
    assert ingest._too_deep({"data": {"a": [[[[[[["x"]]]]]]]}})  # 9 levels: event, data, 7 lists
    assert not ingest._too_deep({"data": {"a": [[[[[["x"]]]]]]}})  # 8
