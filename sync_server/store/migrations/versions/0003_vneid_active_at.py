"""People's derived `vneid_active_at`, and the day-keyed `activated` counters.

Revision ID: 0003
Revises: 0002

No table changes: the data is brought in line with the projection of this
version (campaign/projection.py `activation_time`, campaign/totals.py
`activated`), so that `gocua-server recount` agrees right after the upgrade.

How: one walk of the applied events that set a person's VNeID status
(`person.added`, `person.updated`, `conflict.resolved`), ordered by person and
then cursor, through the projection's own `activation_time`; each person's
stored body gets the field (nothing else in it is rewritten: a purged label
stays purged), and the `activated` counters are summed from the bodies with
the totals' own `contribution`. It is a targeted replay: only a person's VNeID
history decides the field, so the households, visits and everything else the
full replay (`store/totals.py: replay`, what `recount` runs) rebuilds are not
needed, and memory stays flat (people are written back 500 at a time) where a
full replay holds every entity of the database in memory at once.

Cost on a province (the bench's: 64 communes, 3.4 M events, 1.9 M people): one
scan of the event log, a sort of the ~2 M person events, and a rewrite of every
person body. Measured on 4 of its communes on a loaded 2-core machine: SQLite
13.5 s, PostgreSQL 25 s, under 80 MB of memory at any size; so some 4 and 7
minutes for the province (docs/reports.md, "Upgrading to revision 0003"). A
full replay would need some 8 GB there. It runs in the migration's one
transaction, so an interrupted upgrade leaves revision 0002 as it was; stop
the server and run `gocua-server init`.

The rule is imported from campaign/ on purpose, not copied: this revision's
job is to make stored data what the projection of this code derives.
"""
import json
from collections import Counter
from typing import Any, Iterator

import sqlalchemy as sa
from alembic import op

from campaign import totals as rules
from campaign.projection import VNEID_ACTIVE_AT, Entity, activation_time

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHUNK = 500  # people written back at a time, and ids per IN (...): as store/events.py
KINDS = ("person.added", "person.updated", "conflict.resolved")

# The columns this revision reads and writes, as they stand at 0002 (not schema.py's, which may move on).
events = sa.table("events", sa.column("cursor"), sa.column("kind"), sa.column("entity"),
                  sa.column("status"), sa.column("body"))
entities = sa.table("entities", sa.column("id"), sa.column("type"), sa.column("hamlet_id"),
                    sa.column("parent_id"), sa.column("commune"), sa.column("body"))
totals = sa.table("totals", sa.column("hamlet_id"), sa.column("day"), sa.column("metric"),
                  sa.column("commune"), sa.column("n"))


def _vneid_set(event: dict[str, Any]) -> str | None:
    """The VNeID status an applied event recorded for its person, or None if it recorded none."""
    data = event["data"]
    status: str | None = None
    if event["kind"] == "person.added":
        status = data["vneid"]
    elif event["kind"] == "person.updated":
        status = data.get("vneid")
    elif data.get("field") == "vneid":  # conflict.resolved: only a person has the field
        status = data["value"]
    return status


def activation_times(conn: sa.Connection) -> Iterator[tuple[str, str | None]]:
    """(person id, vneid_active_at) for every person with an applied VNeID event, person by person."""
    rows = conn.execute(
        sa.select(events.c.entity, events.c.body)
        .where(events.c.status == "applied", events.c.kind.in_(KINDS))
        .order_by(events.c.entity, events.c.cursor)
        .execution_options(yield_per=5000))
    person: str | None = None
    active_at: str | None = None
    seen = False
    for entity, body in rows:
        if entity != person:
            if seen and person is not None:  # seen: a person's event was read, so person is set
                yield person, active_at
            person, active_at, seen = entity, None, False
        event = json.loads(body)
        vneid = _vneid_set(event)
        if vneid is not None:
            active_at, seen = activation_time(vneid, active_at, event["at"]), True
    if seen and person is not None:
        yield person, active_at


def _write_back(conn: sa.Connection, times: dict[str, str | None], counts: Counter[tuple[str, str, str]]) -> None:
    """The field into these people's stored bodies; their `activated` counters into `counts`."""
    if not times:
        return
    people = conn.execute(sa.select(entities.c.id, entities.c.hamlet_id, entities.c.parent_id, entities.c.commune,
                                    entities.c.body)
                          .where(entities.c.id.in_(list(times)), entities.c.type == "person")).all()
    updates = []
    for row in people:
        body = json.loads(row.body)
        body["data"][VNEID_ACTIVE_AT] = times[row.id]
        # as store/events.py writes an entity body
        updates.append({"b_id": row.id, "b_body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))})
        person = Entity.from_json(row.id, "person", row.hamlet_id, row.parent_id, body)
        for (day, metric), n in rules.contribution(person).items():
            if metric == "activated":
                counts[(row.hamlet_id or "", day, row.commune or "")] += n
    _update_bodies(conn, updates)


def _update_bodies(conn: sa.Connection, updates: list[dict[str, str]]) -> None:
    """New bodies by id. PostgreSQL: one UPDATE per chunk, its rows as one JSON parameter (a
    statement per row, or a text[] that the driver escapes in Python, cost more than the
    whole walk); SQLite: the driver's executemany, already in-process."""
    if not updates:
        return
    if conn.dialect.name == "postgresql":
        rows = json.dumps([{"id": u["b_id"], "body": u["b_body"]} for u in updates], ensure_ascii=False)
        conn.execute(sa.text("UPDATE entities SET body = u.body FROM json_to_recordset(CAST(:rows AS json)) "
                             "AS u(id text, body text) WHERE entities.id = u.id"), {"rows": rows})
    else:
        conn.execute(entities.update().where(entities.c.id == sa.bindparam("b_id"))
                     .values(body=sa.bindparam("b_body")), updates)


def upgrade() -> None:
    conn = op.get_bind()
    counts: Counter[tuple[str, str, str]] = Counter()  # (hamlet, day, commune) -> people activated
    chunk: dict[str, str | None] = {}
    for person, active_at in activation_times(conn):
        chunk[person] = active_at
        if len(chunk) >= CHUNK:
            _write_back(conn, chunk, counts)
            chunk = {}
    _write_back(conn, chunk, counts)
    conn.execute(totals.delete().where(totals.c.metric == "activated"))
    rows = [{"hamlet_id": hamlet, "day": day, "metric": "activated", "commune": commune, "n": n}
            for (hamlet, day, commune), n in sorted(counts.items()) if n]
    if rows:
        conn.execute(totals.insert(), rows)


def downgrade() -> None:
    """Back to 0002's shape: the counters go, and the field leaves the person bodies."""
    conn = op.get_bind()
    conn.execute(totals.delete().where(totals.c.metric == "activated"))
    last = ""
    while True:  # by id, a page at a time: memory stays flat, and no read is open while writing
        page = conn.execute(sa.select(entities.c.id, entities.c.body)
                            .where(entities.c.type == "person", entities.c.id > last)
                            .order_by(entities.c.id).limit(CHUNK)).all()
        if not page:
            return
        last = page[-1].id
        updates = []
        for row in page:
            body = json.loads(row.body)
            if VNEID_ACTIVE_AT in body["data"]:
                del body["data"][VNEID_ACTIVE_AT]
                updates.append({"b_id": row.id, "b_body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))})
        _update_bodies(conn, updates)
