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

Reading (`loads_utf8`, a push's body): orjson where it answers exactly as json.loads does, `json`
everywhere else. orjson.loads turns an integer past 64 bits into a float, so a text holding a run
of 19 digits or more anywhere (in a string too: that costs only the slower parse) is read by
`json`; every text orjson refuses (NaN, Infinity, 1e400, a lone surrogate, nesting past 1024) is
read again by `json`, which answers it, or refuses it with the same error as before.
tests/server/test_body_parse.py proves the two equal for any JSON text (hypothesis).
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS
# Digits to "0", every other byte to " ": a run of 19 digits becomes b"0" * 19, found at C speed
# (a regex \d{19} over a 136 KB body costs more than json.loads itself).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19  # the shortest run of digits that may spell an integer past 64 bits
# Depth: json.loads refuses (RecursionError) a text nested about as deep as the recursion limit
# (1000) less the frames already on the stack (the served push: from about 950 levels), orjson
# one nested past 1024. So that orjson never reads a text json would refuse, the text is read
# inside _WRAP lists of one item each: orjson then refuses anything nested past 1024 - _WRAP =
# 768 levels (json reads those, or refuses them, as before). If orjson reads the wrapped text and
# every wrapping list holds one item, the text between is exactly one JSON value (a "]" of its
# own closing a wrapping list would leave a second item, or a "]" too many, behind). Each
# wrapping level costs orjson about 40 ns: 10 us a push.
_WRAP = 256
_WRAP_OPEN, _WRAP_CLOSE = b"[" * _WRAP, b"]" * _WRAP


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


def loads_utf8(raw: bytes, text: str) -> Any:
    """json.loads(text), `raw` being `text` in UTF-8: the same value (types, float bits, key
    order) or the same error."""
    if _LONG_RUN not in raw.translate(_DIGITS_ONLY):
        try:
            wrapped = orjson.loads(b"".join((_WRAP_OPEN, raw, _WRAP_CLOSE)))  # `+`: two copies
        except orjson.JSONDecodeError:
            pass  # json.loads reads it, or refuses it in its own words
        else:
            for _ in range(_WRAP):
                if len(wrapped) != 1:  # raw closed a wrapping list: it is not one JSON value
                    break
                wrapped = wrapped[0]
            else:
                return wrapped
    return json.loads(text)
