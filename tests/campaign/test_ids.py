"""Entity and event ids: UUIDv7 in one spelling."""
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign.ids import _UUID_RE, is_uuid, uuid7


def test_uuid7_is_a_canonical_lowercase_uuid():
    value = uuid7()
    assert is_uuid(value)
    assert value == str(uuid.UUID(value))
    assert [len(part) for part in value.split("-")] == [8, 4, 4, 4, 12]


def test_uuid7_has_version_7_and_the_rfc_variant():
    for _ in range(100):
        parsed = uuid.UUID(uuid7())
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_uuid7_carries_the_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    value = uuid.UUID(uuid7())
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_uuid7_sorts_by_time_across_milliseconds(monkeypatch):
    from types import SimpleNamespace

    from campaign import ids as module
    start = 1_800_000_000_000  # ms: an injected clock, two milliseconds a step
    ticks = iter(range(start, start + 10, 2))
    monkeypatch.setattr(module, "time", SimpleNamespace(time_ns=lambda: next(ticks) * 1_000_000))
    monkeypatch.setattr(module, "_last", [0, 0])  # this process's real ids are not disturbed
    made = [uuid7() for _ in range(5)]
    assert [uuid.UUID(i).int >> 80 for i in made] == list(range(start, start + 10, 2))
    assert made == sorted(made)


def test_uuid7_is_unique():
    assert len({uuid7() for _ in range(10_000)}) == 10_000


@pytest.mark.parametrize("value", [
    "0190F3A2-7C4E-7B1D-9F00-1234567890AB",  # upper case
    "{0190f3a2-7c4e-7b1d-9f00-1234567890ab}",  # braces
    "0190f3a27c4e7b1d9f001234567890ab",  # no hyphens
    "urn:uuid:0190f3a2-7c4e-7b1d-9f00-1234567890ab",
    " 0190f3a2-7c4e-7b1d-9f00-1234567890ab",
    "0190f3a2-7c4e-7b1d-9f00-1234567890ab\n",  # a trailing newline is a second spelling
    "0190f3a2-7c4e-7b1d-9f00-1234567890a",
    "",
])
def test_is_uuid_accepts_one_spelling_only(value):
    assert not is_uuid(value)


@pytest.mark.parametrize("value", [None, 42, b"0190f3a2-7c4e-7b1d-9f00-1234567890ab",
                                   uuid.UUID("0190f3a2-7c4e-7b1d-9f00-1234567890ab"), ["x"]])
def test_is_uuid_rejects_non_strings(value):
    assert not is_uuid(value)


def test_ids_made_one_after_another_sort_in_that_order():
    from campaign.ids import uuid7
    ids = [uuid7() for _ in range(20_000)]  # many share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


_HEXISH = "0123456789abcdefABCDEF-g \n{}"


@given(st.one_of(
    st.uuids().map(str),
    st.uuids().map(str).flatmap(lambda u: st.tuples(st.integers(0, 35), st.sampled_from(_HEXISH + "é\x00"))
                                .map(lambda c: u[:c[0]] + c[1] + u[c[0] + 1:])),
    st.text(st.sampled_from(_HEXISH), min_size=30, max_size=40),
    st.text(max_size=40)))
def test_is_uuid_is_the_canonical_pattern_exactly(value):
    # the table lookup (is_uuid) and the pattern it stands for agree on any text: ids one
    # character away from a good one, texts of hex digits and hyphens of about the right length
    assert is_uuid(value) == (_UUID_RE.fullmatch(value) is not None)
