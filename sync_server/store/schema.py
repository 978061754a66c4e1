"""The server's tables (SQLAlchemy Core). Alembic migrations own the real schema;
tests check that the migrations produce exactly this.

JSON is kept as text the server writes itself: one spelling on SQLite and
PostgreSQL, and an event's stored body is byte-for-byte its canonical form.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

teams = Table(
    "teams", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("commune", String(5), nullable=False),
)

team_hamlets = Table(
    "team_hamlets", metadata,
    Column("team_id", String(64), primary_key=True),
    Column("hamlet_id", String(36), primary_key=True),
)

team_settings = Table(  # a team's settings (revision 0009): no row, the defaults (campaign/team_settings.py)
    "team_settings", metadata,
    Column("team_id", String(64), primary_key=True),
    Column("sample_every", Integer, nullable=False),
    Column("lapse_days", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("team_id", String(64)),
    Column("commune", String(5)),
    Column("hamlets", Text, nullable=False, default="[]"),  # JSON list of hamlet ids
    Column("enrolled_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("acked_seq", BigInteger, nullable=False, default=0),
    Column("last_push_at", String(32)),
    Column("last_pull_at", String(32)),
    Column("name", Text),  # who holds the phone (revision 0007); None before names were asked
    Column("sign_key", String(64)),  # the phone's Ed25519 public key (base64url): the sealed relay
    Column("box_key", String(64)),  # the phone's X25519 public key (revision 0010): leaders' down bundles
    Column("pulled_after", BigInteger),  # the highest cursor it has asked to pull after: it holds all to there
)

server_keys = Table(  # the server's own key pairs (services/relay.py): "seal" (X25519), "sign" (Ed25519)
    "server_keys", metadata,
    Column("name", String(16), primary_key=True),
    Column("private_key", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)

enrolments = Table(
    "enrolments", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("team_id", String(64)),
    Column("commune", String(5)),
    Column("hamlets", Text, nullable=False, default="[]"),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32)),
    Column("device_id", String(64)),
    Column("name", Text),  # the holder's name, copied to the device (revision 0007)
)

# One row per (device, seq), ever. `cursor` is assigned by the server under its
# write lock, so cursors commit in order and a puller never skips one.
events = Table(
    "events", metadata,
    Column("cursor", BigInteger, primary_key=True, autoincrement=False),
    Column("device_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("entity", String(36), nullable=False),
    Column("hamlet_id", String(36)),
    Column("commune", String(5)),
    Column("status", String(12), nullable=False),  # applied | quarantined
    Column("reason", Text),
    Column("received_at", String(32), nullable=False),
    Column("body", Text, nullable=False),  # the canonical JSON
    UniqueConstraint("device_id", "seq", name="uq_events_device_seq"),
    Index("ix_events_hamlet_cursor", "hamlet_id", "cursor"),
    Index("ix_events_commune_cursor", "commune", "cursor"),
)

# A household moved between hamlets (household.updated with a new hamlet_id) is filed
# under its new hamlet in `events`; this row files the same event under the hamlet (and
# commune) it left too, so that the old hamlet's devices pull the move and drop it.
# Written in the push transaction with the event (same cursor); pull walks it per scope
# key beside the events' own walk. `household_id` finds a household's former hamlets,
# whose events make up the history the new hamlet's devices are sent with the move.
event_moves = Table(
    "event_moves", metadata,
    Column("cursor", BigInteger, primary_key=True, autoincrement=False),  # the move event's
    Column("hamlet_id", String(36), nullable=False),  # the hamlet it left
    Column("commune", String(5)),  # that hamlet's commune
    Column("household_id", String(36), nullable=False),
    Index("ix_event_moves_hamlet_cursor", "hamlet_id", "cursor"),
    Index("ix_event_moves_commune_cursor", "commune", "cursor"),
    Index("ix_event_moves_household", "household_id", "cursor"),
)

entities = Table(
    "entities", metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("hamlet_id", String(36)),
    Column("parent_id", String(36)),
    Column("commune", String(5)),
    Column("version", BigInteger),
    Column("body", Text, nullable=False),  # projection.Entity.to_json()
    Index("ix_entities_parent", "parent_id"),
    Index("ix_entities_commune_type", "commune", "type"),
    Index("ix_entities_hamlet_type", "hamlet_id", "type"),
)

conflicts = Table(
    "conflicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(36), nullable=False),
    Column("field", String(40), nullable=False),
    Column("hamlet_id", String(36)),
    Column("commune", String(5)),
    Column("earlier", Text, nullable=False),
    Column("later", Text, nullable=False),
    Column("opened_cursor", BigInteger, nullable=False),
    Column("resolved_cursor", BigInteger),
    Index("ix_conflicts_commune_open", "commune", "resolved_cursor"),
    Index("ix_conflicts_entity", "entity", "field"),
)

# Indexes one backend has and the other has not: {name: the dialect that has it}. The
# migrations make them on that backend alone (0016); tests/server/test_migrations.py compares
# each backend's tables with this file through it.
ONLY_ON: dict[str, str] = {}


def only_on(dialect: str, index: Index) -> Index:
    """An index made on one backend alone (metadata.create_all follows it too)."""
    ONLY_ON[str(index.name)] = dialect
    return index.ddl_if(dialect=dialect)


# Totals are maintained as deltas in the push transaction; `gocua-server recount`
# proves them against a replay of the log.
totals = Table(
    "totals", metadata,
    Column("hamlet_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),  # "" for state counters
    Column("metric", String(48), primary_key=True),
    Column("commune", String(5), nullable=False),
    Column("n", BigInteger, nullable=False),
    # SQLite: covering, the sums read from the index alone: the province by commune (0011), a
    # commune's sums (0005). PostgreSQL: `n` in no index, room on each page, so that a push's
    # update of a counter stays on its page and writes no index entry (0016).
    only_on("sqlite", Index("ix_totals_commune_metric", "commune", "metric", "n")),
    only_on("sqlite", Index("ix_totals_hamlet_metric", "hamlet_id", "metric", "day", "n")),
    only_on("postgresql", Index("ix_totals_commune_metric_keys", "commune", "metric")),
    postgresql_with={"fillfactor": 70},
)

# One row per commune whose counters were ever written: bumped in the transaction that writes
# them (store/totals.py), read by GET /totals to know whether its kept answer is current (0015).
totals_versions = Table(
    "totals_versions", metadata,
    Column("commune", String(5), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# ---- campaigns, audit, imports (migration 0002) ------------------------------------

# One campaign per commune: its target, its dates, and how long personal data is kept.
campaigns = Table(
    "campaigns", metadata,
    Column("commune", String(5), primary_key=True),
    Column("name", Text, nullable=False),
    Column("target_kind", String(8), nullable=False),  # people | percent (of people with e-ID active)
    Column("target_value", Integer, nullable=False),  # a number of people, or a whole percent 1-100
    Column("start", String(10), nullable=False),  # ISO dates, Vietnam's calendar
    Column("deadline", String(10), nullable=False),
    Column("ends", String(10)),
    Column("retention_days", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

# Who saw or moved what: every export, every view of a personal-data list, every
# import and settings change. `detail` never holds personal data.
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("device_id", String(64)),  # null: the server's command line
    Column("role", String(16), nullable=False),
    Column("action", String(48), nullable=False),
    Column("commune", String(5)),
    Column("scope", Text, nullable=False),  # JSON {"commune", "hamlets": [ids] | null}
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_audit_commune_id", "commune", "id"),
)

# Imports of a target list: the check's report and the write's progress.
imports = Table(
    "imports", metadata,
    Column("id", String(36), primary_key=True),
    Column("commune", String(5), nullable=False),
    Column("device_id", String(64)),  # who asked (null: the command line)
    Column("import_device_id", String(64)),  # the server-side device whose events these are
    Column("dry_run", Integer, nullable=False),
    Column("status", String(12), nullable=False),  # checked | refused | running | done | failed
    Column("rows_total", Integer, nullable=False),
    Column("rows_done", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("people", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("errors", Text, nullable=False),  # JSON list of {"row", "code", "detail"}
    Column("created_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Index("ix_imports_commune", "commune", "created_at"),
)
