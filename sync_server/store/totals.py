"""The maintained totals: counters per (hamlet, day, metric), kept by every push's deltas.

What the counters mean and how they are grouped is services/reports.py's (with
campaign.totals); the replay that proves them is services/recount.py's.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, func, select, union

from . import bulk
from . import schema as t
from .entities import hamlet_name


class CounterRow(NamedTuple):
    hamlet_id: str
    day: str  # "" for a state counter
    metric: str
    n: int


class TeamHamlet(NamedTuple):
    team_id: str
    team_name: str
    hamlet_id: str


_UPSERT = ("INSERT INTO totals (hamlet_id, day, metric, commune, n) {rows} "
           "ON CONFLICT (hamlet_id, day, metric) DO UPDATE SET n = totals.n + excluded.n")
_BUMP = ("INSERT INTO totals_versions (commune, version) {communes} "
         "ON CONFLICT (commune) DO UPDATE SET version = totals_versions.version + 1")
# PostgreSQL: the counters and their communes' versions in one statement. A push writes them
# under the write lock, where each round trip to the database process is held time. The rows
# go as five arrays, so the statement's text is the same for any number of rows: the driver
# parses it once and PostgreSQL prepares it once (a VALUES list of 500 rows was parsed again by
# psycopg on every push: ~1.6 ms of the push's held time, issue #16).
_ADD_PG = ("WITH d (hamlet_id, day, metric, commune, n) AS ("
           "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])), "
           "up AS (" + _UPSERT.format(rows="SELECT hamlet_id, day, metric, commune, n FROM d") + ") "
           + _BUMP.format(communes="SELECT DISTINCT commune, 1 FROM d ORDER BY commune"))


def add(conn: Connection, deltas: Sequence[tuple[str, str, str, str, int]]) -> None:
    """Add (hamlet_id, day, metric, commune, n) to the counters, creating those not there yet,
    and bump the version of each commune they belong to (the same transaction). Each
    (hamlet_id, day, metric) at most once in `deltas`."""
    if not deltas:
        return
    if conn.dialect.name == "postgresql":
        hamlets, days, metrics, communes, ns = zip(*deltas, strict=True)
        conn.exec_driver_sql(_ADD_PG, (bulk.text_array(hamlets), bulk.text_array(days), bulk.text_array(metrics),
                                       bulk.text_array(communes), bulk.int_array(ns)))
        return
    bulk.many(conn, _UPSERT.format(rows="VALUES (?, ?, ?, ?, ?)"), deltas)
    bump(conn, {commune for _h, _d, _m, commune, _n in deltas})


def bump(conn: Connection, communes: Iterable[str]) -> None:
    """One more on the version of each of these communes' counters. Every writer of `totals`
    calls it in its own transaction: GET /totals keeps an answer per commune in each server
    process for as long as the version it read stays the database's (services/reports.py).
    Commune "" holds the counters of hamlets not (yet) known: a commune's answer reads its
    version too."""
    values = [(c,) for c in sorted(set(communes))]  # sorted: two writers lock the rows in one order
    if not values:
        return
    bulk.many(conn, _BUMP.format(communes="VALUES (?, 1)"), values)


def version_and_hamlets(conn: Connection, commune: str) -> tuple[tuple[int, int], dict[str, str]]:
    """(this commune's version, the unknown hamlets' version ""), 0 for one never written, and
    the commune's hamlets as `entities.hamlet_names` gives them: in one statement, as GET /totals
    asks both at every request and each round trip to PostgreSQL is a switch to its process and
    back on the request's path (issue #16, one commune's totals p95: p50 2.6–3.5 → 2.1–2.5 ms, p95
    3.6–4.9 → 2.4–3.9 ms in three pairs). Read before the sums (services/reports.py `kept_totals`)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    versions: dict[str, int] = {}
    names: dict[str, str] = {}
    for hamlet_id, code, n, body in conn.exec_driver_sql(
            f"SELECT NULL, commune, version, NULL FROM totals_versions WHERE commune IN ({mark}, '') "
            f"UNION ALL SELECT id, NULL, NULL, body FROM entities WHERE commune = {mark} AND type = 'hamlet'",
            (commune, commune)):
        if hamlet_id is None:
            versions[code] = int(n)
        else:
            names[hamlet_id] = hamlet_name(body)
    return (versions.get(commune, 0), versions.get("", 0)), names


def counters(conn: Connection, hamlet_ids: Sequence[str]) -> list[CounterRow]:
    out: list[CounterRow] = []
    for part in bulk.chunks(hamlet_ids):
        out += [CounterRow(*row) for row in conn.execute(
            select(t.totals.c.hamlet_id, t.totals.c.day, t.totals.c.metric, t.totals.c.n)
            .where(t.totals.c.hamlet_id.in_(part)))]
    return out


def sums_by_hamlet(conn: Connection, hamlet_ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """(hamlet, metric, sum of n over its days) of these hamlets: summed in SQL, on SQLite over
    the covering index ix_totals_hamlet_metric (no table lookup per counter), on PostgreSQL
    from the rows through the primary key (`n` is in no index there: migration 0016)."""
    return _sums(conn, "hamlet_id", hamlet_ids)


def sums_by_day(conn: Connection, hamlet_ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """(day, metric, sum of n over these hamlets), the state counters under day "": the same
    covering index."""
    sums: dict[tuple[str, str], int] = {}
    for d, m, n in _sums(conn, "day", hamlet_ids):  # one per chunk of hamlets: add them up
        sums[(d, m)] = sums.get((d, m), 0) + n
    return [(d, m, n) for (d, m), n in sums.items()]


def _sums(conn: Connection, by: str, hamlet_ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """(by, metric, sum of n) over these hamlets' counters. Written for the driver: a commune's
    ~1,000 sums through SQLAlchemy's compiled statement and result rows cost about as much
    CPU as the query itself (issue #16, one commune's totals p95 ≤ 5 ms)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    out: list[tuple[str, str, int]] = []
    for part in bulk.chunks(hamlet_ids):
        sql = (f"SELECT {by}, metric, sum(n) FROM totals WHERE hamlet_id IN ({', '.join([mark] * len(part))}) "
               f"GROUP BY {by}, metric")
        out += [(key, metric, int(n)) for key, metric, n in conn.exec_driver_sql(sql, tuple(part))]
    return out


def all_counters(conn: Connection) -> list[CounterRow]:
    return [CounterRow(r.hamlet_id, r.day, r.metric, r.n) for r in conn.execute(select(t.totals))]


def replace_all(conn: Connection, rows: Sequence[tuple[str, str, str, str, int]]) -> None:
    """Every counter, (hamlet_id, day, metric, commune, n), in place of the ones held."""
    before = [c for (c,) in conn.execute(select(t.totals.c.commune).distinct())]
    conn.execute(t.totals.delete())
    if rows:
        conn.execute(t.totals.insert(), [{"hamlet_id": h, "day": d, "metric": m, "commune": c, "n": n}
                                         for h, d, m, c, n in rows])
    bump(conn, set(before) | {c for _h, _d, _m, c, _n in rows})


def team_hamlets(conn: Connection, commune: str) -> list[TeamHamlet]:
    """The teams of a commune and their hamlets, by team name."""
    return [TeamHamlet(r.id, r.name, r.hamlet_id) for r in conn.execute(
        select(t.teams.c.id, t.teams.c.name, t.team_hamlets.c.hamlet_id)
        .join(t.team_hamlets, t.team_hamlets.c.team_id == t.teams.c.id)
        .where(t.teams.c.commune == commune).order_by(t.teams.c.name))]


def sums_by_commune(conn: Connection, communes: Sequence[str] | None = None) -> list[tuple[str, str, int]]:
    """(commune, metric, sum of n): one GROUP BY over the counters' `commune` column (no join,
    no entity read); every commune, or these."""
    query = select(t.totals.c.commune, t.totals.c.metric, func.sum(t.totals.c.n))
    if communes is not None:
        query = query.where(t.totals.c.commune.in_(communes))
    return [(c, m, int(n)) for c, m, n in conn.execute(query.group_by(t.totals.c.commune, t.totals.c.metric))]


def known_communes(conn: Connection) -> list[str]:
    """Every commune with counters, a campaign or hamlets."""
    known = union(select(t.totals.c.commune), select(t.campaigns.c.commune),
                  select(t.entities.c.commune).where(t.entities.c.type == "hamlet"))
    return [code for (code,) in conn.execute(known) if code]
