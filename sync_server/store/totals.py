"""Reading the maintained totals, and proving them by a replay of the event log."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, func, select, union

from campaign import areas, projection
from campaign import totals as rules
from campaign.text import fold

from . import schema as t
from .devices import Scope


def hamlets_of(conn: Connection, commune: str, scope: Scope) -> dict[str, str]:
    """{hamlet id: name} of a commune that the scope may see, by name."""
    rows = conn.execute(select(t.entities.c.id, t.entities.c.body).where(
        t.entities.c.commune == commune, t.entities.c.type == "hamlet"))
    names = {r.id: json.loads(r.body)["data"]["name"] for r in rows if scope.allows(r.id, commune)}
    return dict(sorted(names.items(), key=lambda kv: natural_key(kv[1])))


def natural_key(name: str) -> tuple[Any, ...]:
    """"Tổ dân phố 2" before "Tổ dân phố 10"."""
    return tuple(int(part) if part.isdigit() else fold(part) for part in re.split(r"(\d+)", name))


def _counters(conn: Connection, hamlet_ids: list[str]) -> list[tuple[str, str, str, int]]:
    out: list[tuple[str, str, str, int]] = []
    for i in range(0, len(hamlet_ids), 500):
        out += conn.execute(select(t.totals.c.hamlet_id, t.totals.c.day, t.totals.c.metric, t.totals.c.n)
                            .where(t.totals.c.hamlet_id.in_(hamlet_ids[i:i + 500]))).all()
    return out


def commune_totals(conn: Connection, commune: str, by: str, scope: Scope) -> dict[str, Any]:
    hamlets = hamlets_of(conn, commune, scope)
    counters = _counters(conn, list(hamlets))
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    names: dict[str, str] = {}
    everything: Counter[str] = Counter()
    if by == "hamlet":
        names = dict(hamlets)
        for h, _day, metric, n in counters:
            groups[h][metric] += n
    elif by == "day":
        for _h, day, metric, n in counters:
            if day:
                groups[day][metric] += n
        names = {day: day for day in sorted(groups)}
    elif by == "team":
        team_of: dict[str, list[str]] = defaultdict(list)
        for row in conn.execute(select(t.teams.c.id, t.teams.c.name, t.team_hamlets.c.hamlet_id)
                                .join(t.team_hamlets, t.team_hamlets.c.team_id == t.teams.c.id)
                                .where(t.teams.c.commune == commune).order_by(t.teams.c.name)):
            names[row.id] = row.name
            team_of[row.hamlet_id].append(row.id)
        for h, _day, metric, n in counters:
            for team in team_of.get(h, []):
                groups[team][metric] += n
    else:
        raise ValueError(by)
    for _h, _day, metric, n in counters:
        everything[metric] += n
    rows = [rules.row(key, name, groups.get(key, Counter())) for key, name in names.items()]
    return {"commune": commune, "by": by, "rows": rows, "total": rules.row("", "", everything)}


def province_totals(conn: Connection, province: str) -> dict[str, Any]:
    """A province's counters by commune: one GROUP BY over the `commune` column of the
    maintained totals (no join, no entity read). For admins; rows only for communes
    with data, in code order."""
    codes = [c.code for c in areas.communes_of(province)]
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    everything: Counter[str] = Counter()
    query = (select(t.totals.c.commune, t.totals.c.metric, func.sum(t.totals.c.n))
             .where(t.totals.c.commune.in_(codes)).group_by(t.totals.c.commune, t.totals.c.metric))
    for commune, metric, n in conn.execute(query):
        groups[commune][metric] += int(n)
        everything[metric] += int(n)
    rows = [rules.row(code, areas.commune(code).full_name, groups[code]) for code in codes if code in groups]
    return {"province": province, "by": "commune", "rows": rows, "total": rules.row("", "", everything)}


def communes_overview(conn: Connection, scope: Scope, commune: str | None) -> list[dict[str, Any]]:
    """The communes a caller may report on, each with its headline totals, in code order.

    `commune` is the caller's own commune (officers, leaders): that one only, counted
    within the scope (a leader: the team's hamlets). None (admins): every commune that
    has hamlets, counters or a campaign, summed by one GROUP BY over the totals."""
    if commune is not None:
        found = {commune: commune_totals(conn, commune, "hamlet", scope)["total"]} \
            if areas.is_commune_code(commune) else {}
    else:
        known = union(select(t.totals.c.commune), select(t.campaigns.c.commune),
                      select(t.entities.c.commune).where(t.entities.c.type == "hamlet"))
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for code, metric, n in conn.execute(select(t.totals.c.commune, t.totals.c.metric, func.sum(t.totals.c.n))
                                            .group_by(t.totals.c.commune, t.totals.c.metric)):
            counts[code][metric] += int(n)
        found = {code: rules.row("", "", counts[code]) for (code,) in conn.execute(known)
                 if code and areas.is_commune_code(code)}
    campaigns = dict(conn.execute(select(t.campaigns.c.commune, t.campaigns.c.name)).all())
    out = []
    for code in sorted(found):
        place, total = areas.commune(code), found[code]
        out.append({"code": code, "name": place.full_name, "province": place.province,
                    "campaign": campaigns.get(code), "households": total["households"],
                    "visited": total["visited"], "people": total["people"],
                    "total": {**total, "key": code, "name": place.full_name}})
    return out


# ---- recount --------------------------------------------------------------------

def replay(conn: Connection) -> dict[str, projection.Entity]:
    """Every applied event again, in cursor order, from nothing."""
    state: dict[str, projection.Entity] = {}
    rows = conn.execute(
        select(t.events.c.cursor, t.events.c.body).where(t.events.c.status == "applied")
        .order_by(t.events.c.cursor).execution_options(yield_per=5000))
    for cursor, body in rows:
        event = json.loads(body)
        outcome = projection.apply(event, cursor, state.get)
        if outcome.moved:
            household, _old, new = outcome.moved
            for child in [e for e in state.values() if e.parent_id == household]:
                child.hamlet_id = new
        state.update(outcome.changed)
    return state


def recount(conn: Connection) -> list[dict[str, Any]]:
    """Differences between the maintained totals and a replay: empty when they agree."""
    expected = rules.recount(replay(conn).values())
    stored = {(r.hamlet_id, r.day, r.metric): r.n for r in conn.execute(select(t.totals)) if r.n}
    return [{"hamlet_id": h, "day": d, "metric": m, "stored": stored.get((h, d, m), 0),
             "recounted": expected.get((h, d, m), 0)}
            for (h, d, m) in sorted(set(expected) | set(stored))
            if stored.get((h, d, m), 0) != expected.get((h, d, m), 0)]


def rebuild(conn: Connection) -> int:
    """Replace the maintained totals with the recount; returns rows written."""
    state = replay(conn)
    communes = {e.id: e.data["commune"] for e in state.values() if e.type == "hamlet"}
    expected = rules.recount(state.values())
    conn.execute(t.totals.delete())
    rows = [{"hamlet_id": h, "day": d, "metric": m, "commune": communes.get(h, ""), "n": n}
            for (h, d, m), n in expected.items()]
    if rows:
        conn.execute(t.totals.insert(), rows)
    return len(rows)


