"""The event envelope and the stateless check of every kind (DESIGN.md, "The wire contract")."""
import hashlib
import json
import unicodedata

import pytest

from campaign import events as ev
from campaign.events import KINDS, InvalidEvent, canonical, check_envelope_keys, check_event, digest, normalize
from campaign.ids import uuid7

from .conftest import event, example, hamlet_data, household_data, person_data, visit_data

UPDATE_KINDS = [k for k, spec in KINDS.items() if not spec.creates]
CREATE_KINDS = [k for k, spec in KINDS.items() if spec.creates]


def code_of(bad_event) -> str:
    """The error code check_event gives; fails the test if the event passes."""
    with pytest.raises(InvalidEvent) as info:
        check_event(bad_event)
    assert info.value.detail  # the reason travels back to the volunteer
    return info.value.code


def with_data(kind: str, /, **changes) -> dict:
    e = example(kind)
    e["data"] = {**e["data"], **changes}
    return e


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# ---- every kind ------------------------------------------------------------------

def test_the_wire_contract_has_these_kinds():
    assert set(KINDS) == {"hamlet.created", "hamlet.updated", "household.created", "household.updated",
                          "person.added", "person.updated", "visit.recorded", "review.decided",
                          "assignment.set", "conflict.resolved", "visit.voided", "person.merged",
                          "session.created", "session.updated", "booking.made", "booking.updated"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_accepts_a_valid_example(kind):
    check_event(example(kind))


@pytest.mark.parametrize("kind,field", [(k, f) for k in CREATE_KINDS for f in KINDS[k].fields
                                        if f not in KINDS[k].optional])
def test_a_creating_kind_needs_every_field(kind, field):
    e = example(kind)
    del e["data"][field]
    assert code_of(e) == "missing_field"


def test_an_optional_field_may_be_left_out_and_only_those_listed_are():
    """Fields added by adding only (DESIGN.md, the wire's second part): an old phone never sends them."""
    assert KINDS["visit.recorded"].optional == frozenset({"come_back"})
    e = example("visit.recorded")
    e["data"].pop("come_back", None)
    check_event(e)


@pytest.mark.parametrize("kind", UPDATE_KINDS)
def test_an_update_needs_at_least_one_field(kind):
    assert code_of(event(kind, data={})) == "empty"


@pytest.mark.parametrize("kind", UPDATE_KINDS)
def test_an_update_may_carry_any_single_field(kind):
    full = {
        "hamlet.updated": {"name": "Thôn Đông", "kind": "thon", "valid_to": "2026-12-31"},
        "household.updated": {"address": "Số 3", "consent": "given", "hamlet_id": uuid7()},
        "person.updated": {"label": "Người 1", "birth_year": None, "presence": "abroad", "card": "none",
                           "vneid": "no_app", "blockers": []},
        "session.updated": {"kind": "home_capture", "starts_at": "2026-12-05T08:00:00+07:00",
                            "ends_at": "2026-12-05T17:00:00Z", "place": "Tổ 3", "capacity": 500,
                            "cancelled": False},
        "booking.updated": {"status": "attended"},
    }[kind]
    assert set(full) == set(KINDS[kind].fields)
    for name, value in full.items():
        check_event(event(kind, data={name: value}))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_rejects_an_unknown_field(kind):
    assert code_of(with_data(kind, phone_number="0912345678")) == "unknown_field"


def test_update_kinds_cannot_change_what_is_fixed_at_creation():
    assert code_of(event("hamlet.updated", data={"commune": "10525"})) == "unknown_field"
    assert code_of(event("person.updated", data={"household_id": uuid7()})) == "unknown_field"


@pytest.mark.parametrize("kind,data", [
    ("person.updated", {"vneid_active_at": "2026-11-20T09:00:00+07:00"}),
    ("person.updated", {"vneid": "l1_active", "vneid_active_at": "2026-11-20T09:00:00+07:00"}),
    ("person.updated", {"vneid": "no_app", "vneid_active_at": None}),
    ("person.added", {**person_data(uuid7(), vneid="l1_active"), "vneid_active_at": "2026-11-20T09:00:00+07:00"}),
    ("household.updated", {"first_visit_at": "2026-11-20T09:00:00+07:00"}),
    ("household.updated", {"visits": 0}),
])
def test_a_derived_field_cannot_be_set_by_an_event(kind, data):
    # When a person became e-ID active (and a household's visit aggregates) follow from
    # other events: a phone that sent one would rewrite the totals' day of an activation.
    assert code_of(event(kind, data=data)) == "unknown_field"


def test_no_kind_lists_a_derived_field():
    derived = {name for names in ev.DERIVED.values() for name in names}
    assert "vneid_active_at" in derived
    assert not any(derived & set(spec.fields) for spec in KINDS.values())
    assert not any(derived & set(fields) for fields in ev.UPDATABLE.values())


@pytest.mark.parametrize("data", [None, [], "household", 3])
def test_data_must_be_an_object(data):
    e = example("household.updated")
    e["data"] = data
    assert code_of(e) == "bad_type"


# ---- the envelope ----------------------------------------------------------------

@pytest.mark.parametrize("key", [k for k in ev.ENVELOPE if k not in ("device_id", "seq")])
def test_the_envelope_needs_every_key(key):
    e = example("household.updated")
    del e[key]
    assert code_of(e) == "missing_field"


def test_the_envelope_has_no_other_keys():
    e = example("household.updated")
    e["cursor"] = 17
    assert code_of(e) == "unknown_field"


@pytest.mark.parametrize("seq", [0, -1, True, 1.0, "1", None])
def test_seq_is_a_whole_number_from_1_and_a_bool_is_not_one(seq):
    e = example("household.updated")
    e["seq"] = seq
    assert code_of(e) == "bad_seq"


@pytest.mark.parametrize("base", [-1, True, False, 2.0, "3"])
def test_base_is_a_server_version_or_null_and_a_bool_is_not_one(base):
    e = example("household.updated")
    e["base"] = base
    assert code_of(e) == "bad_base"


@pytest.mark.parametrize("base", [None, 0, 41])
def test_base_accepts_null_and_versions(base):
    e = example("household.updated")
    e["base"] = base
    check_event(e)


@pytest.mark.parametrize("device_id", ["", None, 7, "x" * 65])
def test_device_id_is_short_non_empty_text(device_id):
    e = example("household.updated")
    e["device_id"] = device_id
    assert code_of(e) == "bad_device_id"


@pytest.mark.parametrize("key", ["id", "entity"])
@pytest.mark.parametrize("value", ["0190F3A2-7C4E-7B1D-9F00-1234567890AB", "{0190f3a2-7c4e-7b1d-9f00-1234567890ab}",
                                   "household-1", "", None, 12])
def test_event_and_entity_ids_are_lowercase_uuids(key, value):
    e = example("household.updated")
    e[key] = value
    assert code_of(e) == "bad_id"


@pytest.mark.parametrize("at", ["2026-11-27T09:30:00", "2026-11-27", "hôm qua", "", 1764210600, None])
def test_at_is_an_iso_time_with_its_offset(at):
    e = example("household.updated")
    e["at"] = at
    assert code_of(e) == "bad_time"


@pytest.mark.parametrize("at", ["2026-11-27T09:30:00+07:00", "2026-11-27T02:30:00Z", "2026-11-27T02:30:00.123+00:00"])
def test_at_accepts_any_offset(at):
    e = example("household.updated")
    e["at"] = at
    check_event(e)


@pytest.mark.parametrize("kind", ["household.deleted", "Household.Created", "", None, ["visit.recorded"]])
def test_an_unknown_kind_is_rejected(kind):
    e = example("household.updated")
    e["kind"] = kind
    assert code_of(e) == "unknown_kind"


@pytest.mark.parametrize("schema", [2, 0, "1", True, 1.0, None])
def test_an_event_schema_this_side_does_not_know_is_rejected(schema):
    # A phone from next year's release must be told, not half-understood.
    e = example("household.updated")
    e["schema"] = schema
    assert code_of(e) == "unknown_schema"


# ---- wrong types and values in data ----------------------------------------------

@pytest.mark.parametrize("birth_year", [True, 1980.0, "1980", [1980]])
def test_birth_year_is_a_whole_number_and_a_bool_is_not_one(birth_year):
    assert code_of(with_data("person.added", birth_year=birth_year)) == "bad_type"


@pytest.mark.parametrize("birth_year", [1899, 2101, -5])
def test_birth_year_is_between_1900_and_2100(birth_year):
    assert code_of(with_data("person.added", birth_year=birth_year)) == "out_of_range"


def test_birth_year_may_be_unknown():
    check_event(with_data("person.added", birth_year=None))


@pytest.mark.parametrize("kind,field,value", [
    ("household.created", "address", 12),
    ("household.created", "address", None),
    ("person.added", "label", ["Nguyễn Văn An"]),
    ("visit.recorded", "actions", "explained"),
    ("visit.recorded", "people_helped", None),
    ("visit.recorded", "note", None),
    ("person.updated", "blockers", "no_otp"),
    ("hamlet.created", "valid_from", 20250701),
    ("hamlet.created", "valid_from", None),
])
def test_a_field_of_the_wrong_type_is_rejected(kind, field, value):
    assert code_of(with_data(kind, **{field: value})) == "bad_type"


@pytest.mark.parametrize("kind,field,value", [
    ("hamlet.created", "kind", "xom"),
    ("household.created", "consent", "maybe"),
    ("person.added", "presence", "away"),
    ("person.added", "card", "cccd"),
    ("person.added", "vneid", "level_2"),
    ("person.added", "vneid", "L2_ACTIVE"),
    ("person.updated", "blockers", ["no_otp", "no_money"]),
    ("visit.recorded", "outcome", "absent"),
    ("visit.recorded", "actions", ["explained", "gave_phone"]),
    ("review.decided", "decision", "rejected"),
    ("person.added", "card", None),
    ("visit.recorded", "actions", [["explained"]]),
])
def test_a_code_outside_its_vocabulary_is_rejected(kind, field, value):
    assert code_of(with_data(kind, **{field: value})) == "bad_code"


@pytest.mark.parametrize("kind,field,limit", [
    ("household.created", "address", 120),
    ("person.added", "label", 80),
    ("visit.recorded", "note", 280),
    ("review.decided", "comment", 280),
    ("visit.voided", "reason", 280),
    ("hamlet.created", "name", 80),
    ("conflict.resolved", "field", 40),
])
def test_text_has_a_length_limit(kind, field, limit):
    check_event(with_data(kind, **{field: "ư" * limit}))
    assert code_of(with_data(kind, **{field: "ư" * (limit + 1)})) == "too_long"


def test_length_is_counted_in_nfc_characters():
    # "Nguyễn" is 6 characters in NFC (8 in NFD): the limit counts what is stored.
    check_event(with_data("person.added", label="Nguyễn" * 13 + "ab"))


@pytest.mark.parametrize("kind,field", [
    ("household.created", "address"),
    ("person.added", "label"),
    ("hamlet.created", "name"),
    ("conflict.resolved", "field"),
])
@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_names_and_addresses_are_not_empty(kind, field, value):
    assert code_of(with_data(kind, **{field: value})) == "empty"


@pytest.mark.parametrize("kind,field", [("visit.recorded", "note"), ("review.decided", "comment"),
                                        ("visit.voided", "reason")])
def test_a_note_or_comment_may_be_empty(kind, field):
    check_event(with_data(kind, **{field: ""}))


@pytest.mark.parametrize("kind,field,text", [
    ("household.created", "address", "Số 12, phố Hoà Bình"),
    ("person.added", "label", "Nguyễn Thị Ánh"),
    ("visit.recorded", "note", "Hẹn quay lại"),
    ("visit.voided", "reason", "Bấm nhầm hộ bên cạnh"),
    ("hamlet.created", "name", "Thôn Đông Hoà"),
])
def test_text_must_be_nfc(kind, field, text):
    check_event(with_data(kind, **{field: text}))
    assert code_of(with_data(kind, **{field: nfd(text)})) == "not_nfc"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\r", "\x7f", "\x85", "\x9b"])
def test_text_has_no_control_characters(char):
    assert code_of(with_data("household.created", address=f"Số 12{char}")) == "bad_text"
    assert code_of(with_data("visit.recorded", note=f"gọi lại{char}")) == "bad_text"


def test_a_note_may_hold_line_breaks_and_tabs():
    check_event(with_data("visit.recorded", note="Ông An đi làm.\n\tHẹn thứ bảy."))


@pytest.mark.parametrize("kind,field,value", [
    ("visit.recorded", "actions", ["explained", "l1_help", "explained"]),
    ("person.updated", "blockers", ["no_otp", "no_otp"]),
    ("visit.recorded", "people_helped", ["0190f3a2-7c4e-7b1d-9f00-1234567890ab"] * 2),
])
def test_lists_have_no_duplicates(kind, field, value):
    assert code_of(with_data(kind, **{field: value})) == "duplicate"


def test_a_visit_helps_at_most_50_people():
    check_event(with_data("visit.recorded", people_helped=[uuid7() for _ in range(50)]))
    assert code_of(with_data("visit.recorded", people_helped=[uuid7() for _ in range(51)])) == "too_long"


@pytest.mark.parametrize("kind,field,value", [
    ("household.created", "hamlet_id", "0190F3A2-7C4E-7B1D-9F00-1234567890AB"),
    ("household.updated", "hamlet_id", "tổ 3"),
    ("person.added", "household_id", None),
    ("visit.recorded", "household_id", 5),
    ("visit.recorded", "people_helped", ["Người 1"]),
])
def test_references_are_lowercase_uuids(kind, field, value):
    assert code_of(with_data(kind, **{field: value})) == "bad_id"


@pytest.mark.parametrize("commune", ["99999", "1052", "10525 ", " 10525", 10525, None, "Hải Dương"])
def test_a_hamlet_belongs_to_an_official_commune(commune):
    assert code_of(with_data("hamlet.created", commune=commune)) == "unknown_commune"


def test_communes_are_the_2025_official_codes():
    check_event(with_data("hamlet.created", commune="10813"))  # Xã Thanh Hà
    check_event(with_data("hamlet.created", commune="00004"))  # Phường Ba Đình: leading zeros kept


@pytest.mark.parametrize("value", ["2025-7-1", "2025-02-30", "01/07/2025", "2025-07-01T00:00:00",
                                   "20250701", "2025-W27-2", ""])
def test_hamlet_dates_are_written_yyyy_mm_dd(value):
    assert code_of(with_data("hamlet.created", valid_from=value)) == "bad_date"
    assert code_of(event("hamlet.updated", data={"valid_to": value})) == "bad_date"


def test_a_hamlet_is_open_ended_until_given_a_valid_to():
    check_event(with_data("hamlet.created", valid_to=None))
    check_event(with_data("hamlet.created", valid_to="2026-12-31"))
    check_event(event("hamlet.updated", data={"valid_to": None}))


@pytest.mark.parametrize("device_id", ["", 17, "x" * 65])
def test_an_assignment_names_a_device_or_null(device_id):
    check_event(with_data("assignment.set", device_id=None))
    assert code_of(with_data("assignment.set", device_id=device_id)) == "bad_type"


def test_conflict_resolved_carries_any_json_value():
    # The value is checked against its field by the projection, where the field is known.
    for value in ("Số 14", None, 1981, ["no_otp"]):
        check_event(with_data("conflict.resolved", value=value))


# ---- the envelope keys the server needs before it can quarantine ------------------

def test_check_envelope_keys_needs_only_device_and_seq():
    check_envelope_keys({"device_id": "phone-a", "seq": 1})


@pytest.mark.parametrize("bad,code", [
    ("not an event", "bad_type"),
    ([1, 2], "bad_type"),
    ({"seq": 1}, "bad_device_id"),
    ({"device_id": "", "seq": 1}, "bad_device_id"),
    ({"device_id": 3, "seq": 1}, "bad_device_id"),
    ({"device_id": "phone-a"}, "bad_seq"),
    ({"device_id": "phone-a", "seq": 0}, "bad_seq"),
    ({"device_id": "phone-a", "seq": True}, "bad_seq"),
    ({"device_id": "phone-a", "seq": "2"}, "bad_seq"),
])
def test_check_envelope_keys_rejects_what_cannot_be_acknowledged(bad, code):
    with pytest.raises(InvalidEvent) as info:
        check_envelope_keys(bad)
    assert info.value.code == code


def test_invalid_event_carries_a_code_and_a_sentence():
    error = InvalidEvent("too_long", "address is longer than 120 characters")
    assert (error.code, error.detail) == ("too_long", "address is longer than 120 characters")
    assert str(error) == "too_long: address is longer than 120 characters"
    assert isinstance(error, ValueError)


# ---- canonical form and digest ----------------------------------------------------

def test_canonical_does_not_depend_on_key_order():
    e = example("person.added")
    reordered = {key: e[key] for key in reversed(list(e))}
    reordered["data"] = {key: e["data"][key] for key in reversed(list(e["data"]))}
    assert canonical(reordered) == canonical(e)


def test_canonical_normalises_text_to_nfc():
    e = with_data("person.added", label="Nguyễn Thị Hoà")
    decomposed = json.loads(json.dumps(e))
    decomposed["data"]["label"] = nfd("Nguyễn Thị Hoà")
    assert canonical(decomposed) == canonical(e)
    assert "Nguyễn Thị Hoà" in canonical(decomposed)


def test_canonical_is_compact_sorted_utf8_json():
    e = {"id": "0190f3a2-7c4e-7b1d-9f00-1234567890ab", "device_id": "phone-a", "seq": 3,
         "kind": "household.updated", "entity": "0190f3a2-7c4e-7b1d-9f00-1234567890ac", "base": None,
         "at": "2026-11-27T09:30:00+07:00", "data": {"consent": "given", "address": "Số 3"}, "schema": 1}
    assert canonical(e) == (
        '{"at":"2026-11-27T09:30:00+07:00","base":null,"data":{"address":"Số 3","consent":"given"},'
        '"device_id":"phone-a","entity":"0190f3a2-7c4e-7b1d-9f00-1234567890ac",'
        '"id":"0190f3a2-7c4e-7b1d-9f00-1234567890ab","kind":"household.updated","schema":1,"seq":3}')


def test_canonical_is_stable_through_a_json_round_trip():
    e = example("visit.recorded")
    once = canonical(e)
    assert canonical(json.loads(json.dumps(e))) == once
    assert canonical(json.loads(once)) == once


def test_canonical_leaves_out_what_the_server_adds():
    # A pulled event carries its cursor: it is the same event.
    e = example("visit.recorded")
    assert canonical({**e, "cursor": 981}) == canonical(e)


def test_canonical_tells_different_content_apart():
    e = example("household.updated")
    assert canonical(e) != canonical({**e, "data": {"consent": "given"}})
    assert canonical(e) != canonical({**e, "seq": 2})


def test_digest_is_sha256_of_the_canonical_lines():
    lines = [canonical(example(kind)) for kind in sorted(KINDS)]
    expected = hashlib.sha256("".join(line + "\n" for line in lines).encode("utf-8")).hexdigest()
    assert digest(lines) == expected
    assert digest(iter(lines)) == expected


def test_digest_of_no_events_is_sha256_of_nothing():
    assert digest([]) == hashlib.sha256(b"").hexdigest()


def test_digest_depends_on_order():
    a, b = canonical(example("hamlet.created")), canonical(example("household.created"))
    assert digest([a, b]) != digest([b, a])


def test_normalize_nfcs_every_text_in_an_event():
    e = with_data("household.created", address="Số 5, phố Hoà Bình")
    decomposed = json.loads(json.dumps(e))
    decomposed["data"]["address"] = nfd(e["data"]["address"])
    assert normalize(decomposed) == e
    check_event(normalize(decomposed))


def test_generic_labels_are_numbered():
    assert ev.generic_label(3) == "Người 3"
    assert ev.GENERIC_LABEL.match(ev.generic_label(12))


# ---- the builders used by the other tests are themselves valid --------------------

def test_the_test_builders_make_valid_events():
    for kind, data in [("hamlet.created", hamlet_data()), ("household.created", household_data(uuid7())),
                       ("person.added", person_data(uuid7())), ("visit.recorded", visit_data(uuid7()))]:
        check_event(event(kind, data=data))


def test_times_read_are_remembered_within_a_bound_and_refusals_never():
    from datetime import UTC, datetime, timedelta

    from campaign import events as module
    start = datetime(2026, 1, 1, tzinfo=UTC)
    texts = [(start + timedelta(seconds=i)).isoformat() for i in range(module._PARSED_MAX * 2 + 5)]
    for text in texts:
        assert module.instant(text) == datetime.fromisoformat(text)
        assert len(module._PARSED) <= module._PARSED_MAX
    assert module.parse_at(texts[-1]) is module.parse_at(texts[-1])  # one object serves every caller
    for _ in range(2):
        with pytest.raises(ev.InvalidEvent):
            module.parse_at("2026-01-01T00:00:00")  # no offset: refused each time, kept never
    assert "2026-01-01T00:00:00" not in module._PARSED
