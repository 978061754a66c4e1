"""The audit log's rows (services/audit.py says what they hold and when they are written)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from . import schema as t


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    device_id: str | None
    role: str
    action: str
    commune: str | None
    scope: dict[str, Any]
    detail: dict[str, Any]
    name: str | None = None  # who holds the device (enrolment), read from the devices table


def insert(conn: Connection, *, at: str, device_id: str | None, role: str, action: str, commune: str | None,
           hamlets: list[str] | None, detail: dict[str, Any]) -> int:
    """One row; `hamlets` None means the whole commune. Returns the row's id."""
    scope = {"commune": commune, "hamlets": sorted(hamlets) if hamlets is not None else None}
    result = conn.execute(t.audit.insert().values(
        at=at, device_id=device_id, role=role, action=action, commune=commune,
        scope=json.dumps(scope, ensure_ascii=False, separators=(",", ":")),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def entries(conn: Connection, commune: str | None, after: int, limit: int, *, before: int | None = None,
            newest_first: bool = False, action: str | None = None) -> tuple[list[AuditRow], bool]:
    """Rows with after < id (< before), oldest first (or newest first); commune None: every
    commune. `action` is one action or a family: "export" matches "export" and every "export.*"."""
    query = select(t.audit, t.devices.c.name).outerjoin(t.devices, t.devices.c.id == t.audit.c.device_id) \
        .where(t.audit.c.id > after)
    if before is not None:
        query = query.where(t.audit.c.id < before)
    if commune is not None:
        query = query.where(t.audit.c.commune == commune)
    if action is not None:
        query = query.where(or_(t.audit.c.action == action, t.audit.c.action.startswith(action + ".", autoescape=True)))
    order = t.audit.c.id.desc() if newest_first else t.audit.c.id
    rows = conn.execute(query.order_by(order).limit(limit + 1)).all()
    out = [AuditRow(r.id, r.at, r.device_id, r.role, r.action, r.commune, json.loads(r.scope), json.loads(r.detail),
                    r.name) for r in rows[:limit]]
    return out, len(rows) > limit
