"""A too deep event is found on the API's fast path (validate_body(nfc=True), where only invalid
events and conflict.resolved are looked at, in _prepare) as on the other (validate_body walks
every event): the same event kept (`_shallow`), the same canonical body (its digest), the same
reason. Issue #16: valid events no longer pay the depth check."""
from __future__ import annotations

import copy
import json
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.bench.server import dataset as d
from sync_server.services import ingest


def _valid_events() -> list[dict[str, Any]]:
    scale = d.Scale("depth", 1, 2, 6)
    commune = d.commune_events(scale, 0, d.admin_device_id(3), 3)
    return [json.loads(d.canonical(e)) for e in commune.events]


VALID = _valid_events()
RESOLVED = {**VALID[0], "kind": "conflict.resolved", "data": {"field": "name", "value": "x"}}

scalars = st.none() | st.booleans() | st.integers() | st.text("abc", max_size=3)


def nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = [leaf]
    return leaf


trees = st.builds(nested, st.integers(0, 14), scalars) | st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text("ab", max_size=2), inner, max_size=2),
    max_leaves=20)


def both_paths(event: dict[str, Any]) -> None:
    """The event through the walked path and the fast one: the same in every respect."""
    body = {"schema": 1, "events": [event]}
    walked = ingest.validate_body(copy.deepcopy(body), event["device_id"], nfc=False)
    fast = ingest.validate_body(copy.deepcopy(body), event["device_id"], nfc=True)
    walked_body, walked_problem = ingest._prepare(walked[0], from_body=True)
    fast_body, fast_problem = ingest._prepare(fast[0], from_body=True)
    assert fast[0] == walked[0] and list(fast[0]) == list(walked[0])  # what the batch holds: stored, answered
    assert fast_body == walked_body
    assert (fast_problem is None) == (walked_problem is None)
    if fast_problem is not None and walked_problem is not None:
        assert (fast_problem.code, fast_problem.detail) == (walked_problem.code, walked_problem.detail)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([*VALID, RESOLVED]), st.sampled_from(["data", "value", "in data", "base", "id", "kind",
                                                          "extra"]), trees)
def test_a_deep_value_anywhere_is_found_on_both_paths(event: dict[str, Any], where: str, tree: Any) -> None:
    event = copy.deepcopy(event)
    if where == "value" and event["kind"] == "conflict.resolved":
        event["data"]["value"] = tree  # valid, however deep: the one kind that may nest
    elif where in ("value", "in data"):
        event["data"][next(iter(event["data"]))] = tree
    elif where == "extra":
        event["x"] = tree
    else:
        event[where] = tree
    both_paths(event)


def test_every_valid_event_is_as_it_was() -> None:
    for event in [*VALID, RESOLVED]:
        both_paths(copy.deepcopy(event))


def test_a_deep_conflict_resolved_is_kept_shallow() -> None:
    event = copy.deepcopy(RESOLVED)
    event["data"]["value"] = nested(9, "x")
    batch = ingest.validate_body({"schema": 1, "events": [event]}, event["device_id"], nfc=True)
    _body, problem = ingest._prepare(batch[0], from_body=True)
    assert problem is not None and problem.code == "bad_type"
    assert batch[0]["data"] == ingest.TOO_DEEP


def test_a_refusal_too_deep_to_spell_is_kept_shallow() -> None:
    """A refusal may spell the value it refuses (repr): one nested near the recursion limit
    cannot be, and the event is kept shallow as if it could."""
    event = copy.deepcopy(VALID[0])
    event["kind"] = nested(300, "x")  # unknown_kind spells it: RecursionError below
    batch = ingest.validate_body({"schema": 1, "events": [event]}, event["device_id"], nfc=True)
    limit = sys.getrecursionlimit()
    depth, frame = 0, sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + 200)
    try:
        _body, problem = ingest._prepare(batch[0], from_body=True)
    finally:
        sys.setrecursionlimit(limit)
    assert problem is not None and problem.code == "unknown_kind" and batch[0]["kind"] == ingest.TOO_DEEP
