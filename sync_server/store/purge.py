"""Retention: after a campaign's end date plus its retention days, personal fields go.

`gocua-server purge [--commune C] [--dry-run]` runs `purge()` for every commune
whose campaign is due (`due()`). In one write transaction, for that commune:

- entities: a person's label becomes "Người N" (N: the person's place in the
  household, by id), a household's address "(đã xoá)", a visit's note "" and its
  leader's comment "" ("(đã xoá)" for a returned visit). Where the wire's own
  rules want text (an address; a returned visit's comment) the placeholder keeps
  every rewritten event valid, so the log still replays and still validates.
  Everything counted (statuses, visits, actions, dates) stays, so the maintained
  totals stay exactly as they were and a recount still agrees.
- the stored events (`events.body`, the canonical JSON), the same fields, so a
  replay of the log gives the purged state. A quarantined event that concerns
  the commune (or comes from one of its devices) keeps its kind and seq, loses
  its data (`{}`) and the detail of its reason (the code stays).
- conflicts (their two values), and the details of an import's row errors
  (which quote cells of the file).
- devices: every device that may hold a copy is retired (revoked, with the
  purge as the reason): the commune's volunteers, leaders and officers, any
  admin device that has pulled, and any device whose own events were rewritten.
  From its next request such a device is answered 410 `{"error": "purged"}`
  (auth.caller) and deletes its personal data (SECURITY.md, "Retention").
  Retiring them also keeps receipts honest: the digest of a rewritten event
  changes, and no device still syncing has one.
- one audit row, action `retention.purge`, with the counts and the retired
  devices: the record that it happened, and what auth.caller reads to answer
  410 instead of 403.

A purge is idempotent: run again, it finds nothing left to change (and records
nothing). Run it daily from cron; anything recorded in a purged commune later
(a late push is refused: its device is retired) would go on the next run.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import Connection, Engine, bindparam, select, update

from campaign import events as ev

from .. import clock
from . import schema as t
from .campaigns import vn_today

ACTION = "retention.purge"
CLI_ROLE = "cli"
REMOVED = "(đã xoá)"  # "deleted": where the rules want text (an address, a returned visit's comment)
REASON_REMOVED = "detail removed by the retention purge"

# What is personal, by entity type and by event kind (DESIGN.md: a label, an address,
# a note, a comment). Everything else is a code, a count, a date or an id.
ENTITY_FIELDS = {"person": ("label",), "household": ("address",), "visit": ("note", "review_comment")}
EVENT_FIELDS = {"household.created": ("address",), "household.updated": ("address",),
                "person.added": ("label",), "person.updated": ("label",),
                "visit.recorded": ("note",), "review.decided": ("comment",)}
# conflict.resolved and the conflicts table carry a field's value: these fields are personal.
PERSONAL_FIELDS = ("label", "address", "note", "comment", "review_comment")


# ---- which campaigns are due ----------------------------------------------------------

def purge_after(ends: str, retention_days: int) -> date:
    return date.fromisoformat(ends) + timedelta(days=retention_days)


def due(conn: Connection, today: date | None = None) -> list[dict[str, Any]]:
    """Campaigns whose end date plus retention days has passed (Vietnam's calendar), by commune."""
    today = today or vn_today()
    out = []
    for row in conn.execute(select(t.campaigns).where(t.campaigns.c.ends.is_not(None))
                            .order_by(t.campaigns.c.commune)):
        after = purge_after(row.ends, row.retention_days)
        if after < today:
            out.append({"commune": row.commune, "ends": row.ends, "retention_days": row.retention_days,
                        "purge_after": after.isoformat()})
    return out


def campaign_of(conn: Connection, commune: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.campaigns).where(t.campaigns.c.commune == commune)).first()
    if row is None:
        return None
    return {"commune": row.commune, "ends": row.ends, "retention_days": row.retention_days,
            "purge_after": purge_after(row.ends, row.retention_days).isoformat() if row.ends else None}


# ---- the purge ------------------------------------------------------------------------

def purge(conn: Connection, campaign: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
    """Remove one commune's personal fields; call in a write transaction (db.write_transaction).
    Returns what changed (or, dry_run, what would change, with nothing written)."""
    commune = campaign["commune"]
    labels, hamlets, ids = _people_and_places(conn, commune)
    entities = _purge_entities(conn, commune, labels, dry_run)
    events, rewritten_by = _purge_events(conn, commune, labels, dry_run)
    quarantined, quarantined_by = _purge_quarantined(conn, commune, ids | set(hamlets), dry_run)
    conflicts = _purge_conflicts(conn, commune, labels, dry_run)
    imports = _purge_imports(conn, commune, dry_run)
    devices = _devices_to_retire(conn, commune, hamlets, rewritten_by | quarantined_by)
    report = {"commune": commune, "ends": campaign["ends"], "retention_days": campaign["retention_days"],
              "purge_after": campaign["purge_after"], "entities": entities, "events": events,
              "quarantined": quarantined, "conflicts": conflicts, "imports": imports,
              "devices": sorted(devices), "dry_run": dry_run}
    changed = entities or events or quarantined or conflicts or imports or devices
    if dry_run or not changed:
        return report
    now = clock.now_iso()
    for part in _chunks(sorted(devices)):
        conn.execute(update(t.devices).where(t.devices.c.id.in_(part), t.devices.c.revoked_at.is_(None))
                     .values(revoked_at=now))
    detail = {k: report[k] for k in ("ends", "retention_days", "purge_after", "entities", "events",
                                     "quarantined", "conflicts", "imports", "devices")}
    # store.audit.record() knows the actions of the report endpoints only; the row has its shape.
    conn.execute(t.audit.insert().values(
        at=now, device_id=None, role=CLI_ROLE, action=ACTION, commune=commune,
        scope=json.dumps({"commune": commune, "hamlets": None}, separators=(",", ":")),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))
    return report


def _people_and_places(conn: Connection, commune: str) -> tuple[dict[str, str], list[str], set[str]]:
    """(person id -> "Người N", the commune's hamlet ids, every entity id of the commune)."""
    households: dict[str, list[str]] = defaultdict(list)
    hamlets, ids = [], set()
    for row in conn.execute(select(t.entities.c.id, t.entities.c.type, t.entities.c.parent_id)
                            .where(t.entities.c.commune == commune)):
        ids.add(row.id)
        if row.type == "person":
            households[row.parent_id or ""].append(row.id)
        elif row.type == "hamlet":
            hamlets.append(row.id)
    labels = {}
    for people in households.values():
        for n, person in enumerate(sorted(people), start=1):
            labels[person] = ev.generic_label(min(n, 999))
    return labels, hamlets, ids


def _purge_entities(conn: Connection, commune: str, labels: dict[str, str], dry_run: bool) -> int:
    changed = []
    for row in conn.execute(select(t.entities.c.id, t.entities.c.type, t.entities.c.body).where(
            t.entities.c.commune == commune, t.entities.c.type.in_(sorted(ENTITY_FIELDS)))):
        body = json.loads(row.body)
        data = body.get("data", {})
        for name in ENTITY_FIELDS[row.type]:
            if name in data and data[name] is not None:
                data[name] = _replacement(name, row.id, labels, returned=data.get("review") == "returned")
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if text != row.body:
            changed.append({"b_id": row.id, "b_body": text})
    if changed and not dry_run:
        conn.execute(update(t.entities).where(t.entities.c.id == bindparam("b_id"))
                     .values(body=bindparam("b_body")), changed)
    return len(changed)


def _replacement(name: str, owner: Any, labels: dict[str, str], returned: bool = False) -> str:
    """What a personal field becomes: "Người N", the placeholder, or ""."""
    if name == "label":
        return labels.get(owner, ev.generic_label(1))
    if name == "address" or (returned and name in ("comment", "review_comment")):
        return REMOVED
    return ""


def _scrub_event(event: dict[str, Any], labels: dict[str, str]) -> None:
    """The event's personal fields, in place, as the purged entity has them."""
    data = event.get("data")
    if not isinstance(data, dict):
        return
    kind = event.get("kind")
    for name in EVENT_FIELDS.get(kind, ()):  # type: ignore[arg-type]
        if name in data:
            data[name] = _replacement(name, event.get("entity"), labels, returned=data.get("decision") == "returned")
    if kind == "conflict.resolved" and data.get("field") in PERSONAL_FIELDS:
        data["value"] = _replacement(data["field"], event.get("entity"), labels)


def _purge_events(conn: Connection, commune: str, labels: dict[str, str],
                  dry_run: bool) -> tuple[int, set[str]]:
    """Applied events filed under the commune: (how many changed, whose)."""
    changed, devices = [], set()
    kinds = sorted(set(EVENT_FIELDS) | {"conflict.resolved"})
    rows = conn.execute(select(t.events.c.cursor, t.events.c.device_id, t.events.c.body).where(
        t.events.c.commune == commune, t.events.c.kind.in_(kinds)))
    for row in rows:
        event = json.loads(row.body)
        _scrub_event(event, labels)
        body = ev.canonical(event)
        if body != row.body:
            changed.append({"b_cursor": row.cursor, "b_body": body})
            devices.add(row.device_id)
    _write_events(conn, changed, dry_run)
    return len(changed), devices


def _purge_quarantined(conn: Connection, commune: str, ids: set[str], dry_run: bool) -> tuple[int, set[str]]:
    """Quarantined events are filed under no hamlet: those naming an entity of the commune,
    or sent by one of its devices, lose their data and the detail of their reason."""
    ours = _commune_devices(conn, commune, ids)
    changed, devices = [], set()
    for row in conn.execute(select(t.events.c.cursor, t.events.c.device_id, t.events.c.body, t.events.c.reason)
                            .where(t.events.c.status == "quarantined")):
        event = json.loads(row.body)
        if row.device_id not in ours and not _mentions(event, ids):
            continue
        if isinstance(event, dict) and "data" in event:
            event["data"] = {}
        body = ev.canonical(event) if isinstance(event, dict) else row.body
        code = (row.reason or "").split(":", 1)[0]
        reason = f"{code}: {REASON_REMOVED}" if code else REASON_REMOVED
        if body != row.body or reason != row.reason:
            changed.append({"b_cursor": row.cursor, "b_body": body, "b_reason": reason})
            devices.add(row.device_id)
    if changed and not dry_run:
        conn.execute(update(t.events).where(t.events.c.cursor == bindparam("b_cursor"))
                     .values(body=bindparam("b_body"), reason=bindparam("b_reason")), changed)
    return len(changed), devices


def _mentions(event: Any, ids: set[str]) -> bool:
    if not isinstance(event, dict):
        return False
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    refs = [event.get("entity"), data.get("household_id"), data.get("hamlet_id")]
    return any(isinstance(r, str) and r in ids for r in refs)


def _write_events(conn: Connection, changed: list[dict[str, Any]], dry_run: bool) -> None:
    if changed and not dry_run:
        conn.execute(update(t.events).where(t.events.c.cursor == bindparam("b_cursor"))
                     .values(body=bindparam("b_body")), changed)


def _purge_conflicts(conn: Connection, commune: str, labels: dict[str, str], dry_run: bool) -> int:
    changed = []
    for row in conn.execute(select(t.conflicts).where(t.conflicts.c.commune == commune,
                                                      t.conflicts.c.field.in_(PERSONAL_FIELDS))):
        value = _replacement(row.field, row.entity, labels)
        earlier, later = json.loads(row.earlier), json.loads(row.later)
        for side in (earlier, later):
            if isinstance(side, dict) and "value" in side:
                side["value"] = value
        e, l_ = json.dumps(earlier, ensure_ascii=False), json.dumps(later, ensure_ascii=False)
        if (e, l_) != (row.earlier, row.later):
            changed.append({"b_id": row.id, "b_earlier": e, "b_later": l_})
    if changed and not dry_run:
        conn.execute(update(t.conflicts).where(t.conflicts.c.id == bindparam("b_id"))
                     .values(earlier=bindparam("b_earlier"), later=bindparam("b_later")), changed)
    return len(changed)


def _purge_imports(conn: Connection, commune: str, dry_run: bool) -> int:
    """An import's row errors quote the file's cells: keep row, column and code."""
    changed = []
    for row in conn.execute(select(t.imports.c.id, t.imports.c.errors).where(t.imports.c.commune == commune)):
        errors = json.loads(row.errors)
        for problem in errors if isinstance(errors, list) else []:
            if isinstance(problem, dict) and problem.get("detail"):
                problem["detail"] = ""
        text = json.dumps(errors, ensure_ascii=False)
        if errors and text != row.errors:
            changed.append({"b_id": row.id, "b_errors": text})
    if changed and not dry_run:
        conn.execute(update(t.imports).where(t.imports.c.id == bindparam("b_id"))
                     .values(errors=bindparam("b_errors")), changed)
    return len(changed)


def _commune_devices(conn: Connection, commune: str, places: Iterable[str]) -> set[str]:
    """Volunteers, leaders and officers of the commune (revoked ones too): by commune, team,
    or a hamlet among `places`."""
    hamlets = set(places)
    teams = set(conn.execute(select(t.teams.c.id).where(t.teams.c.commune == commune)).scalars())
    out = set()
    for row in conn.execute(select(t.devices.c.id, t.devices.c.role, t.devices.c.commune, t.devices.c.team_id,
                                   t.devices.c.hamlets).where(t.devices.c.role != "admin")):
        if row.commune == commune or (row.team_id is not None and row.team_id in teams) \
                or hamlets.intersection(json.loads(row.hamlets or "[]")):
            out.add(row.id)
    return out


def _devices_to_retire(conn: Connection, commune: str, hamlets: list[str], writers: set[str]) -> set[str]:
    """Active devices that may hold the commune's personal data."""
    candidates = _commune_devices(conn, commune, hamlets) | writers
    admins = conn.execute(select(t.devices.c.id).where(
        t.devices.c.role == "admin", t.devices.c.last_pull_at.is_not(None))).scalars()
    candidates.update(admins)
    active = set()
    for part in _chunks(sorted(candidates)):
        active.update(conn.execute(select(t.devices.c.id).where(
            t.devices.c.id.in_(part), t.devices.c.revoked_at.is_(None))).scalars())
    return active


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---- what a retired device is told -------------------------------------------------------

def retired_by(conn: Connection, device_id: str, commune: str | None = None) -> dict[str, Any] | None:
    """The purge that retired this device ({"commune", "at"}), or None (revoked by a person).
    Asked only for revoked devices; `commune` (an officer's: a purge of another commune never
    retires an officer) narrows the search to that commune's audit rows through their index."""
    query = select(t.audit.c.commune, t.audit.c.at, t.audit.c.detail).where(
        t.audit.c.action == ACTION, t.audit.c.detail.like(f'%"{device_id}"%'))
    if commune is not None:
        query = query.where(t.audit.c.commune == commune)
    rows = conn.execute(query.order_by(t.audit.c.id.desc()))
    for row in rows:
        if device_id in json.loads(row.detail).get("devices", []):
            return {"commune": row.commune, "at": row.at}
    return None


# ---- after the transaction: leave no old value on disk --------------------------------------

def compact(engine: Engine) -> None:
    """SQLite: VACUUM (rewrites the file without the free pages that held old values) and
    truncate the WAL. PostgreSQL: VACUUM the touched tables (old row versions become free
    space, overwritten as the tables are reused; see SECURITY.md for backups and WAL)."""
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("events", "entities", "conflicts", "imports"):
                conn.exec_driver_sql(f"VACUUM {table}")
        return
    raw = engine.raw_connection()  # the DBAPI connection says no BEGIN of its own: VACUUM runs bare
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.execute("VACUUM")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()


