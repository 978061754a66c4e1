"""A push's body is read by orjson where that answers exactly as json.loads does
(sync_server/jsontext.py, loads_utf8): for ANY text, `_parse` gives the same value as json.loads
(the same types, int or float or bool, the same float bits, -0.0 too, the same key order) or the
same refusal, and the same `nfc` flag as before. Issue #16."""
from __future__ import annotations

import json
import math
import struct
import unicodedata
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_server.api.sync import _parse
from sync_server.errors import ApiError


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down: 1 is not 1.0 nor True, -0.0 is not 0.0,
    and two objects spell their keys in the same order. Walked without recursion (deep texts)."""
    pairs = [(a, b)]
    while pairs:
        x, y = pairs.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if struct.pack("<d", x) != struct.pack("<d", y) and not (math.isnan(x) and math.isnan(y)):
                return False
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            pairs += [(x[k], y[k]) for k in x]
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pairs += zip(x, y, strict=True)
        elif x != y:
            return False
    return True


def parsed_before(raw: bytes) -> tuple[str, Any, bool]:
    """What the server answered before orjson (api/sync.py's _parse, json only): ("ok", the
    value, nfc), or ("bad_json", None, False) where it refused."""
    try:
        if json.detect_encoding(raw) == "utf-8":
            text = raw.decode("utf-8")
            return "ok", json.loads(text), "\\u" not in text and unicodedata.is_normalized("NFC", text)
        return "ok", json.loads(raw), False
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "bad_json", None, False


def check(text: str | bytes) -> None:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    expected_kind, expected, expected_nfc = parsed_before(raw)
    try:
        value, nfc = _parse(raw, "")
    except ApiError as refused:
        assert (refused.code, expected_kind) == ("bad_json", "bad_json"), (raw[:200], refused.code)
        return
    assert expected_kind == "ok", f"json.loads refuses {raw[:200]!r}, _parse read it"
    assert same(value, expected), (raw[:200], value, expected)
    assert nfc == expected_nfc


# ---- texts: JSON written every way a client may write it, and near-JSON ------------------

SPACE = st.sampled_from(["", "", "", " ", "\t", "\n", "\r\n", "  "])
chars = st.characters(codec=None, exclude_categories=())  # any code point, surrogates too
texts = st.text(chars, max_size=8) | st.sampled_from(
    ["Nguyễn Văn An", unicodedata.normalize("NFD", "Nguyễn Văn An"), "a\u0301", "\U0001F600", "\ud83d", "\x00\x1f"])
big = st.integers(min_value=2**63 - 3, max_value=2**64 + 3) | st.integers(min_value=2**64, max_value=2**70)
ints = st.integers() | big | big.map(lambda n: -n) | st.sampled_from([0, -1, 10**18, -(10**18), 10**19 - 1])
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [-0.0, 5e-324, -5e-324, 1e22, 1e23, 0.1, 1e-05, 2.2250738585072014e-308, 1.7976931348623157e308, 9007199254740993.0])


@st.composite
def number_text(draw: st.DrawFn) -> str:
    """A number as a client may spell it: ints, floats by repr, and hand-made mantissa/exponents."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return str(draw(ints))
    if kind == 1:
        return json.dumps(draw(floats))  # NaN, Infinity, -Infinity too
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.sampled_from(["0", "1", "9", "12345678901234567", "123456789012345678", "1234567890123456789",
                                  "4503599627370497", "0"]))
    frac = draw(st.sampled_from(["", ".0", ".5", ".1", ".000001", ".99999999999999999", ".30000000000000004"]))
    exp = draw(st.sampled_from(["", "e0", "E5", "e+22", "e-5", "E-324", "e-325", "e308", "e309", "e400", "e-400",
                                "e023", "E+00"]))
    return sign + whole + frac + exp


def string_text(s: str, escape: str) -> str:
    """A JSON string for s: raw UTF-8, every non-ASCII character escaped (\\uXXXX, surrogate pairs),
    or everything escaped."""
    if escape == "ascii":
        return json.dumps(s, ensure_ascii=True)
    if escape == "all":
        return '"' + "".join(
            f"\\u{ord(c):04x}" if ord(c) < 0x10000 else
            "".join(f"\\u{u:04X}" for u in struct.unpack("<2H", c.encode("utf-16-le"))) for c in s) + '"'
    return json.dumps(s, ensure_ascii=False)


@st.composite
def json_text(draw: st.DrawFn, depth: int = 0) -> str:
    """Any JSON value as text, with whitespace, escapes, duplicate keys."""
    space = draw(SPACE)
    choice = draw(st.integers(0, 6 if depth < 4 else 3))
    if choice == 0:
        return space + draw(st.sampled_from(["true", "false", "null"])) + space
    if choice == 1:
        return space + draw(number_text()) + space
    if choice in (2, 3):
        return space + string_text(draw(texts), draw(st.sampled_from(["raw", "ascii", "all"]))) + space
    if choice == 4:
        items = draw(st.lists(json_text(depth + 1), max_size=4))
        return space + "[" + ",".join(items) + draw(SPACE) + "]" + space
    keys = draw(st.lists(texts | st.sampled_from(["a", "a", "kind", "data"]), max_size=4))  # duplicates too
    pairs = [string_text(k, draw(st.sampled_from(["raw", "ascii", "all"]))) + draw(SPACE) + ":" + draw(json_text(depth + 1))
             for k in keys]
    return space + "{" + ",".join(pairs) + draw(SPACE) + "}" + space


TOKENS = ["{", "}", "[", "]", ",", ":", '"a"', '"\\u00e9"', '"\\ud800"', '"\\udc00\\ud800"', '"\\x"', '"a\tb"',
          "1", "-", "0", "01", "-01", ".5", "1.", "1.e5", "+1", "1e", "1e+", "0x1F", "NaN", "-NaN", "Infinity",
          "-Infinity", "infinity", "true", "True", "false", "null", "None", "1e400", "-1e400", "e5",
          "18446744073709551616", "-9223372036854775809", "18446744073709551615", "9223372036854775808",
          " ", "\x0c", "\x0b", "\xa0", "\u3000", "\u2028", "\t", "\n", "\r", "\x00", "\ufeff", "é", "'a'", "//", "/*"]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_text())
def test_any_json_text_reads_as_json_loads_reads_it(text: str) -> None:
    check(text)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
def test_near_json_is_refused_or_read_as_json_loads_does(text: str) -> None:
    check(text)


@settings(max_examples=500, deadline=None)
@given(st.text(chars, max_size=30))
def test_any_text_at_all(text: str) -> None:
    check(text)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=30))
def test_any_bytes_at_all(raw: bytes) -> None:
    check(raw)


@pytest.mark.parametrize("text", [
    "18446744073709551616", "-9223372036854775809", "[18446744073709551616]", '{"n":-9223372036854775809}',
    "9223372036854775807", "-9223372036854775808", "18446744073709551615", '"1234567890123456789"',
    "1e400", "-1e400", "NaN", "[Infinity]", '"\\ud800"', '"\\ud83d\\ude00"', "-0", "-0.0", "5e-324", "1e22",
    '{"a":1,"b":2,"a":3}', "[" * 767 + "]" * 767, "[" * 768 + "]" * 768, "[" * 769 + "]" * 769,
    "[" * 900 + "]" * 900, '{"a":' * 900 + "1" + "}" * 900, "[" * 1024 + "]" * 1024, "[" * 1025 + "]" * 1025,
    "1]", "[1]]", "1],[2", "1]]]", "1],[[2", '"a"],["b"', "1 ] , [ 2",  "[" * 100_000 + "]" * 100_000,
    "[" * 100_000, "", " ", "\ufeff1", "\x0c1", "1\x0b", "\xa01", "1 \u3000",
])
def test_the_edges(text: str) -> None:
    check(text)


def test_a_big_integer_is_read_as_an_integer() -> None:
    """The case orjson alone gets wrong (it answers 1.8446744073709552e19)."""
    value, _nfc = _parse(b'{"n":[18446744073709551616,-9223372036854775809]}', "")
    assert value == {"n": [2**64, -(2**63) - 1]} and all(type(n) is int for n in value["n"])


def test_orjson_refuses_past_1024_levels() -> None:
    """What jsontext's wrapping counts on: were orjson to read deeper, it could read a text
    json.loads refuses (RecursionError), and the server would answer it otherwise."""
    orjson.loads(b"[" * 1024 + b"]" * 1024)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b"[" * 1025 + b"]" * 1025)


def test_a_deep_body_is_read_as_json_reads_it() -> None:
    """orjson reads 1,000 levels, json.loads refuses them (RecursionError): the server answers
    as it did (400 bad_json), and reads 900 levels as it did (validate_body then keeps the event
    shallow and quarantines it, tests/server/test_push_depth.py)."""
    with pytest.raises(ApiError) as refused:
        _parse(b"[" * 1000 + b"]" * 1000, "")
    assert refused.value.code == "bad_json"
    value, _nfc = _parse(b"[" * 900 + b"]" * 900, "")
    assert value == json.loads("[" * 900 + "]" * 900)
