"""The sealed relay's keys: the server's key pairs and each device's signing and box keys (rows only;
services/relay.py decides what they are)."""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, select, update

from . import schema as t


class KeyPair(NamedTuple):
    private_key: str  # base64url of the raw key
    public_key: str


def server_key(conn: Connection, name: str) -> KeyPair | None:
    row = conn.execute(select(t.server_keys.c.private_key, t.server_keys.c.public_key)
                       .where(t.server_keys.c.name == name)).first()
    return KeyPair(row.private_key, row.public_key) if row else None


def insert_server_key(conn: Connection, name: str, pair: KeyPair, at: str) -> None:
    conn.execute(t.server_keys.insert().values(name=name, private_key=pair.private_key,
                                               public_key=pair.public_key, created_at=at))


def sign_key(conn: Connection, device_id: str) -> str | None:
    return conn.execute(select(t.devices.c.sign_key).where(t.devices.c.id == device_id)).scalar()


def set_sign_key(conn: Connection, device_id: str, key: str) -> bool:
    """Register the device's key if it has none yet; False if it has one already."""
    done = conn.execute(update(t.devices).where(t.devices.c.id == device_id, t.devices.c.sign_key.is_(None))
                        .values(sign_key=key))
    return done.rowcount == 1


def box_key(conn: Connection, device_id: str) -> str | None:
    return conn.execute(select(t.devices.c.box_key).where(t.devices.c.id == device_id)).scalar()


def set_box_key(conn: Connection, device_id: str, key: str) -> bool:
    """Register the device's box key if it has none yet; False if it has one already."""
    done = conn.execute(update(t.devices).where(t.devices.c.id == device_id, t.devices.c.box_key.is_(None))
                        .values(box_key=key))
    return done.rowcount == 1
