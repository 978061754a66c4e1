"""JSON text on the server's hot paths, written by orjson (a compiled encoder) where its output
is byte for byte the standard library's, and by `json` everywhere else.

Why a second encoder: a push encodes every event's canonical form and every entity it touches
(issue #16: about 15 % of the push path's CPU with `json`, a fifth of that with orjson). It is
a server-only dependency: campaign/ (the phone's) stays standard library, and its
`events.canonical` remains THE canonical form; tests/server/test_jsontext.py proves the two
equal for any event (hypothesis), and the cases where they would differ never reach orjson:

- floats: orjson spells some differently (1e-05 as 0.00001, NaN as null). Only values a
  caller knows hold no float are given to `compact`/`canonical_of_valid`: an event that passed
  `campaign.events.check_event` (every value of it is then a text, a whole number, a boolean,
  null, or a list or object of those; conflict.resolved's free `value` excepted, so its caller
  keeps that kind out), and an entity projected from such events.
- integers past 64 bits, texts with lone surrogates, keys that are not texts: orjson refuses
  them (TypeError) and the standard library writes them.

Reading stays with `json`: orjson.loads turns an integer past 64 bits into a float.
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS


def compact(value: Any) -> str:
    """json.dumps(value, ensure_ascii=False, separators=(",", ":")), for a value holding no float."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def compact_sorted(value: Any) -> str:
    """json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")), for a value
    holding no float."""
    try:
        return orjson.dumps(value, option=_SORTED).decode()
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

