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
  replay of the log gives the purged state. A quarantined event keeps no
  data and only its reason's code since issue #12 (ingest stores its envelope
  and a digest; revision 0006 cut the older ones down): one that still held
  data would lose it here (`{}`) with the detail of its reason.
- conflicts (their two values), and the details of an import's row errors
  (which quote cells of the file).
- devices: every device that may hold a copy is retired (revoked, with the
  purge as the reason): the commune's volunteers, leaders and officers, any
  admin device that has pulled, and any device whose own events were rewritten.
  From its next request such a device is answered 410 `{"error": "purged"}`
  (enrolment.authenticate) and deletes its personal data (SECURITY.md, "Retention").
  Retiring them also keeps receipts honest: the digest of a rewritten event
  changes, and no device still syncing has one.
- one audit row, action `retention.purge`, with the counts and the retired
  devices: the record that it happened, and what enrolment.authenticate reads
  to answer 410 instead of 403.

A purge is idempotent: run again, it finds nothing left to change (and records
nothing). Run it daily from cron; anything recorded in a purged commune later
(a late push is refused: its device is retired) would go on the next run.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine

from campaign import events as ev
from campaign.time import local_date, now

from ..store import audit as store_audit
from ..store import campaigns as store_campaigns
from ..store import purge as store
from ..store import team as store_team
from . import clock
from .audit import CLI_ROLE
from .campaigns import purge_after

ACTION = store.ACTION
REMOVED = "(đã xoá)"  # "deleted": where the rules want text (an address, a returned visit's comment)
REASON_REMOVED = "detail removed by the retention purge"

# What is personal, by entity type and by event kind (DESIGN.md: a label, an address,
# a note, a comment). Everything else is a code, a count, a date or an id.
ENTITY_FIELDS = {"person": ("label",), "household": ("address",),
                 "visit": ("note", "review_comment", "void_reason")}
EVENT_FIELDS = {"household.created": ("address",), "household.updated": ("address",),
                "person.added": ("label",), "person.updated": ("label",),
                "visit.recorded": ("note",), "review.decided": ("comment",), "visit.voided": ("reason",)}
# conflict.resolved and the conflicts table carry a field's value: these fields are personal.
PERSONAL_FIELDS = ("label", "address", "note", "comment", "review_comment")


@dataclass(frozen=True)
class Due:
    """A commune's campaign, as the purge sees it."""
    commune: str
    ends: str | None
    retention_days: int
    purge_after: str | None  # None: no end date yet


@dataclass(frozen=True)
class Report:
    """What a purge changed (or, dry run, would change)."""
    commune: str
    ends: str | None
    retention_days: int
    purge_after: str | None
    entities: int
    events: int
    quarantined: int
    conflicts: int
    imports: int
    devices: list[str]  # retired
    dry_run: bool

    def counts(self) -> dict[str, int]:
        return {"entities": self.entities, "events": self.events, "quarantined": self.quarantined,
                "conflicts": self.conflicts, "imports": self.imports}


# ---- which campaigns are due ----------------------------------------------------------

def due(conn: Connection, today: date | None = None) -> list[Due]:
    """Campaigns whose end date plus retention days has passed (Vietnam's calendar), by commune."""
    today = today or local_date(now())
    out = []
    for row in store_campaigns.ended(conn):
        assert row.ends is not None
        after = purge_after(row.ends, row.retention_days)
        if after < today:
            out.append(Due(row.commune, row.ends, row.retention_days, after.isoformat()))
    return out


def campaign_of(conn: Connection, commune: str) -> Due | None:
    row = store_campaigns.get(conn, commune)
    if row is None:
        return None
    return Due(row.commune, row.ends, row.retention_days,
               purge_after(row.ends, row.retention_days).isoformat() if row.ends else None)


# ---- the purge ------------------------------------------------------------------------

def purge(conn: Connection, campaign: Due, *, dry_run: bool = False) -> Report:
    """Remove one commune's personal fields; call in a write transaction (db.write_transaction).
    Returns what changed (or, dry_run, what would change, with nothing written)."""
    commune = campaign.commune
    labels, hamlets, ids = _people_and_places(conn, commune)
    entities = _purge_entities(conn, commune, labels, dry_run)
    events, rewritten_by = _purge_events(conn, commune, labels, dry_run)
    quarantined, quarantined_by = _purge_quarantined(conn, commune, ids | set(hamlets), dry_run)
    conflicts = _purge_conflicts(conn, commune, labels, dry_run)
    imports = _purge_imports(conn, commune, dry_run)
    devices = _devices_to_retire(conn, commune, hamlets, rewritten_by | quarantined_by)
    report = Report(commune, campaign.ends, campaign.retention_days, campaign.purge_after, entities, events,
                    quarantined, conflicts, imports, sorted(devices), dry_run)
    changed = entities or events or quarantined or conflicts or imports or devices
    if dry_run or not changed:
        return report
    at = clock.now_iso()
    store.retire(conn, sorted(devices), at)
    detail = {k: v for k, v in asdict(report).items() if k not in ("commune", "dry_run")}
    # services.audit.record() is for the callers' actions; this row is the command line's
    store_audit.insert(conn, at=at, device_id=None, role=CLI_ROLE, action=ACTION, commune=commune, hamlets=None,
                       detail=detail)
    return report


def _people_and_places(conn: Connection, commune: str) -> tuple[dict[str, str], list[str], set[str]]:
    """(person id -> "Người N", the commune's hamlet ids, every entity id of the commune)."""
    households: dict[str, list[str]] = defaultdict(list)
    hamlets, ids = [], set()
    for place in store.places(conn, commune):
        ids.add(place.id)
        if place.type == "person":
            households[place.parent_id or ""].append(place.id)
        elif place.type == "hamlet":
            hamlets.append(place.id)
    labels = {}
    for people in households.values():
        for n, person in enumerate(sorted(people), start=1):
            labels[person] = ev.generic_label(min(n, 999))
    return labels, hamlets, ids


def _purge_entities(conn: Connection, commune: str, labels: dict[str, str], dry_run: bool) -> int:
    changed = []
    for entity_id, type_, stored in store.entity_bodies(conn, commune, list(ENTITY_FIELDS)):
        body = json.loads(stored)
        data = body.get("data", {})
        for name in ENTITY_FIELDS[type_]:
            if name in data and data[name] is not None:
                data[name] = _replacement(name, entity_id, labels, returned=data.get("review") == "returned")
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if text != stored:
            changed.append((entity_id, text))
    if not dry_run:
        store.set_entity_bodies(conn, changed)
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
    if not isinstance(kind, str):
        return
    for name in EVENT_FIELDS.get(kind, ()):
        if name in data:
            data[name] = _replacement(name, event.get("entity"), labels, returned=data.get("decision") == "returned")
    if kind == "conflict.resolved" and data.get("field") in PERSONAL_FIELDS:
        data["value"] = _replacement(data["field"], event.get("entity"), labels)


def _purge_events(conn: Connection, commune: str, labels: dict[str, str], dry_run: bool) -> tuple[int, set[str]]:
    """Applied events filed under the commune: (how many changed, whose)."""
    changed, devices = [], set()
    for row in store.applied_bodies(conn, commune, sorted(set(EVENT_FIELDS) | {"conflict.resolved"})):
        event = json.loads(row.body)
        _scrub_event(event, labels)
        body = ev.canonical(event)
        if body != row.body:
            changed.append((row.key, body))
            devices.add(row.device_id)
    if not dry_run:
        store.set_event_bodies(conn, changed)
    return len(changed), {d for d in devices if d is not None}


def _purge_quarantined(conn: Connection, commune: str, ids: set[str], dry_run: bool) -> tuple[int, set[str]]:
    """Quarantined events are filed under no hamlet: those naming an entity of the commune,
    or sent by one of its devices, lose their data and the detail of their reason: what ingest
    keeps of them since issue #12 (the record and the code), so these find nothing to cut."""
    ours = _commune_devices(conn, commune, ids)
    changed, devices = [], set()
    for cursor, device_id, stored, old_reason in store.quarantined(conn):
        event = json.loads(stored)
        if device_id not in ours and not _mentions(event, ids):
            continue
        body = ev.quarantine_line(stored) if isinstance(event, dict) and "data" in event else stored
        reason = (old_reason or "").split(":", 1)[0] or REASON_REMOVED  # the code only, as ingest keeps it
        if body != stored or reason != old_reason:
            changed.append((cursor, body, reason))
            devices.add(device_id)
    if not dry_run:
        store.set_quarantined(conn, changed)
    return len(changed), devices


def _mentions(event: Any, ids: set[str]) -> bool:
    if not isinstance(event, dict):
        return False
    data = event["data"] if isinstance(event.get("data"), dict) else {}
    refs = [event.get("entity"), data.get("household_id"), data.get("hamlet_id")]
    return any(isinstance(r, str) and r in ids for r in refs)


def _purge_conflicts(conn: Connection, commune: str, labels: dict[str, str], dry_run: bool) -> int:
    changed = []
    for conflict_id, entity, name, stored_earlier, stored_later in store.conflicts(conn, commune, PERSONAL_FIELDS):
        value = _replacement(name, entity, labels)
        earlier, later = json.loads(stored_earlier), json.loads(stored_later)
        for side in (earlier, later):
            if isinstance(side, dict) and "value" in side:
                side["value"] = value
        e, l_ = json.dumps(earlier, ensure_ascii=False), json.dumps(later, ensure_ascii=False)
        if (e, l_) != (stored_earlier, stored_later):
            changed.append((conflict_id, e, l_))
    if not dry_run:
        store.set_conflicts(conn, changed)
    return len(changed)


def _purge_imports(conn: Connection, commune: str, dry_run: bool) -> int:
    """An import's row errors quote the file's cells: keep row, column and code."""
    changed = []
    for import_id, stored in store.import_errors(conn, commune):
        errors = json.loads(stored)
        for problem in errors if isinstance(errors, list) else []:
            if isinstance(problem, dict) and problem.get("detail"):
                problem["detail"] = ""
        text = json.dumps(errors, ensure_ascii=False)
        if errors and text != stored:
            changed.append((import_id, text))
    if not dry_run:
        store.set_import_errors(conn, changed)
    return len(changed)


def _commune_devices(conn: Connection, commune: str, places: Iterable[str]) -> set[str]:
    """Volunteers, leaders and officers of the commune (revoked ones too): by commune, team,
    or a hamlet among `places`."""
    hamlets = set(places)
    teams = store_team.commune_teams(conn, commune)
    return {device_id for device_id, device_commune, team_id, device_hamlets in store.field_devices(conn)
            if device_commune == commune or (team_id is not None and team_id in teams)
            or hamlets.intersection(device_hamlets)}


def _devices_to_retire(conn: Connection, commune: str, hamlets: list[str], writers: set[str]) -> set[str]:
    """Active devices that may hold the commune's personal data."""
    candidates = _commune_devices(conn, commune, hamlets) | writers | store.admins_that_pulled(conn)
    return store.active(conn, sorted(candidates))


def compact(engine: Engine) -> None:
    """After the purge's transactions: leave no old value on disk (store/purge.py)."""
    store.compact(engine)
