"""The error codes of the wire: every `{"error": code}` the server can answer.

The server refuses with a stable code and an English detail for developers
(sync_server/errors.py). What a person reads is the app's sentence for the
code (field_app's i18n, `error.server.<code>`, `reason.<code>`), never the
detail. These sets are the contract between the two: tests/server check
that the server sends no code outside them, tests/ui that the app has a
Vietnamese and an English sentence for each.

- `SERVER_ERRORS`: the server's own refusals (services and HTTP layer).
- `EVENT_ERRORS`: an event refused by the shared rules (campaign.events /
  campaign.projection `InvalidEvent`): a quarantine reason, and the code
  of a push refused whole.
- `VALIDATION_ERROR`: a request's field outside its rules; the answer also
  names the `field`, the `rule` broken (one of `RULES`) and its `limit`.
"""
from __future__ import annotations

SERVER_ERRORS: frozenset[str] = frozenset({
    # the HTTP layer
    "bad_gzip", "bad_json", "bad_encoding", "too_large", "rate_limited", "unauthenticated",
    "not_found", "method_not_allowed", "http_error",
    # devices and enrolment
    "unknown_code", "used_code", "expired_code", "unknown_token", "revoked", "purged", "wrong_device",
    "unknown_device", "unknown_hamlet", "bad_role", "missing_scope", "unknown_team", "forbidden", "missing_name",
    # sync
    "too_many", "unknown_schema", "gap", "seq_reused", "bad_cursor",
    # the sealed relay (issue #15)
    "bad_key", "key_exists", "bad_bundle", "no_sign_key", "origin_revoked", "no_box_key", "recipient_revoked",
    # campaigns and reports
    "unknown_commune", "missing_commune", "no_campaign", "unknown_field", "missing_field", "bad_name",
    "bad_target", "bad_date", "bad_retention",
    # team settings
    "bad_sample_every", "bad_lapse_days",
    # imports
    "no_file", "bad_multipart", "empty_file", "old_excel", "bad_csv", "bad_xlsx", "no_header",
    "duplicate_columns", "too_many_rows", "bad_rows", "unknown_import",
})

EVENT_ERRORS: frozenset[str] = frozenset({
    "bad_base", "bad_code", "bad_date", "bad_device_id", "bad_field", "bad_id", "bad_seq", "bad_text",
    "bad_merge", "bad_time", "bad_type", "bad_visit", "consent_declined", "duplicate", "empty", "exists", "forbidden",
    "hamlet_closed", "merged", "missing_field", "not_nfc", "out_of_range", "too_long", "too_young", "unknown_commune",
    "unknown_entity", "unknown_field", "unknown_kind", "unknown_schema", "voided", "wrong_entity",
    "note_declined",
    # campaign.projection's "unknown_" + the entity type it needs
    "unknown_hamlet", "unknown_household", "unknown_person", "unknown_visit", "unknown_session",
    # capture sessions and bookings (campaign.sessions)
    "bad_booking",
})

VALIDATION_ERROR = "bad_request"

#: the rule a request's field broke (the server maps its validator's words to these)
RULES: frozenset[str] = frozenset({
    "missing", "too_long", "too_short", "too_big", "too_small", "not_whole_number", "not_a_date",
    "not_allowed", "wrong_shape",
})

ALL_ERRORS: frozenset[str] = SERVER_ERRORS | EVENT_ERRORS | {VALIDATION_ERROR}
