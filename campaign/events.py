"""The event envelope, its canonical form, and one validator per kind.

Validation here is stateless: types, enums, lengths, NFC, ids. What depends on
state (does the household exist? is the name allowed?) lives in projection.py.
Every failure is an InvalidEvent with a short code and a sentence, because the
reason travels back to the volunteer who has to correct it.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import vocabulary as v
from .ids import is_uuid
from .text import has_control_characters, has_hidden_characters, is_nfc, nfc, normalize_tree

PROTOCOL = 1  # the request-level "schema"
SCHEMA = 1  # an event's data schema
MAX_BATCH = 500
MAX_DEVICE_ID = 64
MAX_VERSION = 2**63 - 1  # a version is a server cursor, a 64-bit integer
ENVELOPE = ("id", "device_id", "seq", "kind", "entity", "base", "at", "data", "schema")
_ENVELOPE_KEYS = frozenset(ENVELOPE)

MAX_ADDRESS = 120
MAX_LABEL = 80
MAX_NOTE = 280
MAX_HAMLET_NAME = 80
MAX_PLACE = 120
MAX_CAPACITY = 500
MIN_BIRTH_YEAR = 1900
MAX_BIRTH_YEAR = 2100
GENERIC_LABEL = re.compile(r"^Người [0-9]{1,3}\Z")  # not "Người 1\n", not other scripts' digits


class InvalidEvent(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


# ---- field checks: each returns nothing or raises InvalidEvent ----------------

Check = Callable[[str, object], None]  # a field name and its value, as it came


def _text(max_len: int, allow_empty: bool = False) -> Check:
    def check(name: str, value: object) -> None:
        if not isinstance(value, str):
            raise InvalidEvent("bad_type", f"{name} must be text")
        ascii = value.isascii()  # ASCII text is NFC and holds no hidden character: two checks fewer
        if not ascii and not is_nfc(value):
            raise InvalidEvent("not_nfc", f"{name} must be NFC-normalised text")
        if not allow_empty and not value.strip():
            raise InvalidEvent("empty", f"{name} must not be empty")
        if len(value) > max_len:
            raise InvalidEvent("too_long", f"{name} is longer than {max_len} characters")
        if value.isprintable():
            return  # no control, format, separator or surrogate character: neither search below finds one
        if has_control_characters(value):
            raise InvalidEvent("bad_text", f"{name} contains control characters")
        if not ascii and has_hidden_characters(value):
            raise InvalidEvent("bad_text", f"{name} contains invisible or reordering characters")
    return check


def _code(vocab: v.Vocabulary) -> Check:
    codes = vocab.labels  # built once per field: the check is a dict lookup

    def check(name: str, value: object) -> None:
        if not isinstance(value, str) or value not in codes:
            raise InvalidEvent("bad_code", f"{name} must be one of {', '.join(vocab.codes)}; got {value!r}")
    return check


def _codes(vocab: v.Vocabulary) -> Check:
    one = _code(vocab)

    def check(name: str, value: object) -> None:
        if not isinstance(value, list):
            raise InvalidEvent("bad_type", f"{name} must be a list")
        for item in value:
            one(name, item)
        if len(set(value)) != len(value):
            raise InvalidEvent("duplicate", f"{name} has duplicates")
    return check


def _uuid(name: str, value: object) -> None:
    if not is_uuid(value):
        raise InvalidEvent("bad_id", f"{name} must be a lowercase UUID")


def _uuids(name: str, value: object) -> None:
    if not isinstance(value, list):
        raise InvalidEvent("bad_type", f"{name} must be a list")
    for item in value:
        _uuid(name, item)
    if len(set(value)) != len(value):
        raise InvalidEvent("duplicate", f"{name} has duplicates")
    if len(value) > 50:
        raise InvalidEvent("too_long", f"{name} lists more than 50 people")


def birth_year_problem(year: int, this_year: int) -> str | None:
    """The birth-year rule both sides use: from MIN_BIRTH_YEAR to this year (Vietnam's, campaign.time).
    None when it holds, else why not: "too_early" (before MIN_BIRTH_YEAR) or "future" (after this
    year). The app checks it as the year is typed; the projection refuses an event breaking it in
    the year of the event's own time."""
    if year < MIN_BIRTH_YEAR:
        return "too_early"
    if year > this_year:
        return "future"
    return None


def _birth_year(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEvent("bad_type", f"{name} must be a whole number or null")
    if not MIN_BIRTH_YEAR <= value <= MAX_BIRTH_YEAR:
        raise InvalidEvent("out_of_range", f"{name} must be between {MIN_BIRTH_YEAR} and {MAX_BIRTH_YEAR}")


def _iso_date(nullable: bool) -> Check:
    def check(name: str, value: object) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str):
            raise InvalidEvent("bad_type", f"{name} must be a date YYYY-MM-DD")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise InvalidEvent("bad_date", f"{name} must be a date YYYY-MM-DD") from None
        if parsed.isoformat() != value:  # 3.11 also parses week dates such as 2025-W27-2
            raise InvalidEvent("bad_date", f"{name} must be a date YYYY-MM-DD")
    return check


def _datetime(name: str, value: object) -> None:
    try:
        parse_at(value)
    except InvalidEvent:
        raise InvalidEvent("bad_time", f"{name} must be an ISO 8601 time with its offset") from None


def _capacity(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEvent("bad_type", f"{name} must be a whole number")
    if not 1 <= value <= MAX_CAPACITY:
        raise InvalidEvent("out_of_range", f"{name} must be from 1 to {MAX_CAPACITY}")


def _bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidEvent("bad_type", f"{name} must be true or false")


def _commune(name: str, value: object) -> None:
    from .areas import is_commune_code  # the list is large: load it only when needed
    if not isinstance(value, str) or not is_commune_code(value):
        raise InvalidEvent("unknown_commune", f"{name} must be an official 5-digit commune code; got {value!r}")


def _device_ref(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value or len(value) > MAX_DEVICE_ID:
        raise InvalidEvent("bad_type", f"{name} must be a device id or null")


def _any_json(name: str, value: object) -> None:
    """conflict.resolved carries a value checked against its field in projection."""


def _come_back(name: str, value: object) -> None:
    """{"window": a COME_BACK code, "on": a date YYYY-MM-DD or null}."""
    if not isinstance(value, dict) or value.keys() != {"window", "on"}:
        raise InvalidEvent("bad_type", f'{name} must be {{"window": …, "on": DATE or null}}')
    _code(v.COME_BACK)(f"{name}.window", value["window"])
    _iso_date(nullable=True)(f"{name}.on", value["on"])


FIELDS: dict[str, Check] = {}  # field name -> check, for conflict.resolved


@dataclass(frozen=True)
class KindSpec:
    kind: str
    entity_type: str  # "" = the type of the existing entity (conflict.resolved)
    fields: dict[str, Check]
    creates: bool  # every field required (but `optional`'s), the entity must be new
    optional: frozenset[str] = frozenset()  # fields added later, by adding only: an old phone never sends them

    def check_data(self, data: object) -> None:
        if not isinstance(data, dict):
            raise InvalidEvent("bad_type", "data must be an object")
        fields = self.fields
        if not data.keys() <= fields.keys():
            unknown = sorted(data.keys() - fields.keys())
            raise InvalidEvent("unknown_field", f"{self.kind} has no field {', '.join(unknown)}")
        if self.creates and len(data) < len(fields):  # as many keys, none unknown: none missing
            missing = sorted(fields.keys() - data.keys() - self.optional)
            if missing:
                raise InvalidEvent("missing_field", f"{self.kind} needs {', '.join(missing)}")
        elif not data:
            raise InvalidEvent("empty", f"{self.kind} changes nothing")
        for name, value in data.items():
            fields[name](name, value)


HAMLET_FIELDS = {"name": _text(MAX_HAMLET_NAME), "kind": _code(v.HAMLET_KIND),
                 "valid_to": _iso_date(nullable=True)}
HOUSEHOLD_FIELDS = {"address": _text(MAX_ADDRESS), "consent": _code(v.CONSENT), "hamlet_id": _uuid}
PERSON_FIELDS = {"label": _text(MAX_LABEL), "birth_year": _birth_year, "presence": _code(v.PRESENCE),
                 "card": _code(v.CARD), "vneid": _code(v.VNEID)}

SESSION_FIELDS = {"kind": _code(v.SESSION_KIND), "starts_at": _datetime, "ends_at": _datetime,
                  "place": _text(MAX_PLACE), "capacity": _capacity}

KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in (
    KindSpec("hamlet.created", "hamlet", {"commune": _commune, **HAMLET_FIELDS,
                                          "valid_from": _iso_date(nullable=False)}, creates=True),
    KindSpec("hamlet.updated", "hamlet", HAMLET_FIELDS, creates=False),
    KindSpec("household.created", "household", HOUSEHOLD_FIELDS, creates=True),
    KindSpec("household.updated", "household", HOUSEHOLD_FIELDS, creates=False),
    KindSpec("person.added", "person", {"household_id": _uuid, **PERSON_FIELDS}, creates=True),
    KindSpec("person.updated", "person", {**PERSON_FIELDS, "blockers": _codes(v.BLOCKERS)}, creates=False),
    KindSpec("visit.recorded", "visit", {"household_id": _uuid, "outcome": _code(v.OUTCOME),
                                         "actions": _codes(v.ACTIONS), "people_helped": _uuids,
                                         "note": _text(MAX_NOTE, allow_empty=True), "come_back": _come_back},
             creates=True, optional=frozenset({"come_back"})),  # come_back: only with not_home (projection)
    KindSpec("review.decided", "visit", {"decision": _code(v.DECISION),
                                         "comment": _text(MAX_NOTE, allow_empty=True)}, creates=True),
    # An empty reason is an undo at once, by whoever recorded the visit (docs/rules.md).
    KindSpec("visit.voided", "visit", {"reason": _text(MAX_NOTE, allow_empty=True)}, creates=True),
    KindSpec("assignment.set", "household", {"device_id": _device_ref}, creates=True),
    # A leader or officer folds a person recorded twice into one (docs/rules.md section 9).
    KindSpec("person.merged", "person", {"into": _uuid}, creates=True),
    # Capture sessions and their bookings (DESIGN.md, "work at the door"; campaign/sessions.py).
    KindSpec("session.created", "session", {"commune": _commune, **SESSION_FIELDS}, creates=True),
    KindSpec("session.updated", "session", {**SESSION_FIELDS, "cancelled": _bool}, creates=False),
    KindSpec("booking.made", "booking", {"session_id": _uuid, "person_id": _uuid}, creates=True),
    KindSpec("booking.updated", "booking", {"status": _code(v.BOOKING_STATUS)}, creates=False),
    KindSpec("conflict.resolved", "", {"field": _text(40), "value": _any_json}, creates=True),
)}

# Of each kind, (its fields holding one id, its fields holding a list of ids): the ids a valid
# event names (projection.needs).
ID_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    spec.kind: (tuple(name for name, check in spec.fields.items() if check is _uuid),
                tuple(name for name, check in spec.fields.items() if check is _uuids))
    for spec in KINDS.values()}

# What people call the work an event belongs to, never "an event" (docs/glossary.md): a visit
# (recorded or taken back), a leader's review, a household, a person; anything else is a change.
FAMILIES = ("visit", "review", "household", "person", "other")


def family(kind: str) -> str:
    """The family of an event's kind: one of FAMILIES."""
    if kind == "review.decided":
        return "review"
    spec = KINDS.get(kind)
    return spec.entity_type if spec is not None and spec.entity_type in FAMILIES else "other"


# Fields that a person may change later, and so may conflict: by entity type.
UPDATABLE: dict[str, dict[str, Check]] = {
    "hamlet": HAMLET_FIELDS,
    "household": HOUSEHOLD_FIELDS,
    "person": KINDS["person.updated"].fields,
}

# Fields the projection derives from other events and keeps on an entity: no event may
# set them (a kind that listed one would let a phone write what the log must decide).
# They are refused like any field outside a kind's list (`unknown_field`), and
# conflict.resolved cannot name them (`bad_field`: they are not in UPDATABLE).
DERIVED: dict[str, tuple[str, ...]] = {
    "household": ("visits", "first_visit_at", "last_visit_at", "last_outcome", "last_visit_id", "last_come_back"),
    "person": ("vneid_active_at", "merged_into", "merged_at", "merged_by"),
    "visit": ("voided_at", "voided_by", "void_reason"),
    "booking": ("made_at", "made_by"),
}
assert not any(set(names) & set(spec.fields) for names in DERIVED.values() for spec in KINDS.values())
assert not any(set(DERIVED.get(type_, ())) & set(fields) for type_, fields in UPDATABLE.items())


# ---- the envelope ---------------------------------------------------------------

def check_envelope_keys(event: object) -> None:
    """What the server needs before it can even quarantine: an object with device and seq."""
    if not isinstance(event, dict):
        raise InvalidEvent("bad_type", "each event must be an object")
    if not isinstance(event.get("device_id"), str) or not event["device_id"]:
        raise InvalidEvent("bad_device_id", "device_id must be text")
    seq = event.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidEvent("bad_seq", "seq must be a whole number from 1")


def check_event(event: dict[str, Any]) -> None:
    """Stateless validation of one event: envelope and data."""
    check_envelope_keys(event)
    check_past_envelope(event)


def check_past_envelope(event: dict[str, Any]) -> None:
    """check_event of an event that check_envelope_keys passed already: the same checks in the
    same order, without that one again (the server checks every envelope of a push body before
    it looks at any event's content, issue #16)."""
    if event.keys() != _ENVELOPE_KEYS:
        missing = [key for key in ENVELOPE if key not in event]
        if missing:
            raise InvalidEvent("missing_field", f"event needs {', '.join(missing)}")
        extra = sorted(set(event) - _ENVELOPE_KEYS)
        raise InvalidEvent("unknown_field", f"event has no field {', '.join(extra)}")
    if type(event["schema"]) is not int or event["schema"] != SCHEMA:  # not True, not 1.0
        raise InvalidEvent("unknown_schema", f"event schema {event['schema']!r} is not known here (this side knows {SCHEMA})")
    if not is_uuid(event["id"]):
        raise InvalidEvent("bad_id", "id must be a lowercase UUID")
    if not is_uuid(event["entity"]):
        raise InvalidEvent("bad_id", "entity must be a lowercase UUID")
    if len(event["device_id"]) > MAX_DEVICE_ID:
        raise InvalidEvent("bad_device_id", "device_id is too long")
    base = event["base"]
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or not 0 <= base <= MAX_VERSION):
        raise InvalidEvent("bad_base", "base must be a server version (a whole number) or null")
    parse_at(event["at"])
    spec = KINDS.get(event["kind"]) if isinstance(event["kind"], str) else None
    if spec is None:
        raise InvalidEvent("unknown_kind", f"unknown event kind {event['kind']!r}")
    spec.check_data(event["data"])


def parse_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidEvent("bad_time", "at must be an ISO 8601 time with its offset")
    return _parse_text(value)[0]


_PARSED: dict[str, tuple[datetime, datetime]] = {}
_PARSED_MAX = 4096


def _parse_text(value: str) -> tuple[datetime, datetime]:
    """parse_at of a text, and the same instant in UTC (`instant`), remembered: an event's time
    is read 3-4 times on its way in (the envelope, the time window, the age rules, the day it
    counts on), each read a parse and a conversion to UTC (issue #16). A datetime is immutable,
    so one object serves every caller; a refused text raises each time (nothing is kept of it).
    A plain dict, emptied when full, not functools.lru_cache: nearly every time a push brings is
    new, and a miss through lru_cache cost three times the parse itself."""
    known = _PARSED.get(value)
    if known is not None:
        return known
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEvent("bad_time", "at must be an ISO 8601 time with its offset") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("bad_time", "at must carry its UTC offset")
    try:
        utc = parsed.astimezone(UTC)  # 9999-12-31T23:59:59-12:00 is past the calendar's end in UTC
    except OverflowError:
        raise InvalidEvent("bad_time", "at is outside the calendar") from None
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()  # bounded; each entry is rebuilt at the cost of one parse
    _PARSED[value] = known = (parsed, utc)
    return known


def instant(value: object) -> datetime:
    """parse_at(value) in UTC (the same instant), remembered: two aware datetimes of different
    offsets are compared through each one's utcoffset() (a method call by name, several per
    comparison); two in UTC, as plain date-times. For comparing event times (issue #16)."""
    if not isinstance(value, str):
        return parse_at(value)  # the refusal
    return _parse_text(value)[1]


EARLIEST_AT = datetime(2020, 1, 1, tzinfo=UTC)  # no campaign's data is older (docs/rules.md)
CLOCK_SKEW = timedelta(days=2)  # how far ahead of the server a phone's clock may run


def check_time_window(at: str, now: datetime) -> None:
    """An event's time is refused `bad_time` before 2020-01-01 (before any campaign's data could
    exist) or more than CLOCK_SKEW after `now` (the receiver's clock, injected): a visit dated
    1900 or 2999 would stretch every series and total by day (issue #12, L2)."""
    when = instant(at)
    if when < EARLIEST_AT:
        raise InvalidEvent("bad_time", f"at is before {EARLIEST_AT.date().isoformat()}")
    if when > now + CLOCK_SKEW:
        raise InvalidEvent("bad_time", "at is in the future: is the phone's clock right?")


def normalize(event: dict[str, Any]) -> dict[str, Any]:
    """NFC every text in the event: done before it is compared or stored."""
    return {nfc(key): normalize_tree(value) for key, value in event.items()}


def canonical(event: dict[str, Any]) -> str:
    """The one spelling of an event: sorted keys, no spaces, NFC, UTF-8 text."""
    body = {key: event[key] for key in ENVELOPE if key in event}
    return json.dumps(normalize_tree(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


QUARANTINE_KEPT = ("id", "device_id", "seq", "kind", "entity", "at")  # the envelope, without data, base, schema
MAX_KEPT_TEXT = 64  # each kept text, in characters: what a refused event costs on disk is bounded


def quarantine_record(event: dict[str, Any], canonical_body: str) -> str:
    """What is kept of a refused (quarantined) event, as one canonical JSON line: its envelope
    (texts cut to MAX_KEPT_TEXT, anything else not a text or the seq kept as null) and the
    SHA-256 of its canonical form, never its data (issue #12, M2 and M3). The server stores it
    in place of the event; the receipt digest counts this line for a quarantined event, so a
    device computes the same from its own copy (quarantine_line). Equal records mean the same
    content: a retried event is compared through it."""
    kept: dict[str, object] = {}
    for key in QUARANTINE_KEPT:
        value = event.get(key)
        if key == "seq" and type(value) is int:
            kept[key] = value
        elif isinstance(value, str):
            kept[key] = storable(value[:MAX_KEPT_TEXT])
        else:
            kept[key] = None
    kept["sha256"] = hashlib.sha256(canonical_body.encode("utf-8", "surrogatepass")).hexdigest()
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def storable(text: str) -> str:
    """The text with any lone surrogate (JSON may spell one, UTF-8 cannot) replaced by '?'."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def quarantine_line(canonical_body: str) -> str:
    """quarantine_record of an event known by its canonical form (a device's outbox)."""
    event = json.loads(canonical_body)
    return quarantine_record(event if isinstance(event, dict) else {}, canonical_body)


def digest(canonicals: Iterable[str]) -> str:
    """SHA-256 over the acknowledged events in seq order, one canonical line each."""
    h = hashlib.sha256()
    for line in canonicals:
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def generic_label(n: int) -> str:
    """A declined household's people are "Người 1", "Người 2" …: counted, never named."""
    return f"Người {n}"
