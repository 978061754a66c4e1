"""Many rows at once, past SQLAlchemy's per-row parameter handling: a push writes hundreds
of rows, and per-row statements would cap ingest far below what the database can take."""
from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, CursorResult, Integer, String, Table, Text

CHUNK = 500  # ids per IN (...): well under SQLite's variable limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def many(conn: Connection, sql: str, values: Sequence[tuple[Any, ...]]) -> None:
    """executemany at the driver. `sql` is written with ? for SQLite; PostgreSQL's drivers take %s."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, values)


def one(conn: Connection, sql: str, values: tuple[Any, ...] = ()) -> CursorResult[*tuple[Any, ...]]:
    """One statement at the driver, `sql` written with ? as for `many`. A push runs a dozen small
    statements; through SQLAlchemy's Core each costs its cache key, coercions and compiled
    parameters, about as much CPU as SQLite's work on it (issue #16)."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return conn.exec_driver_sql(sql, values)


def text_in(conn: Connection, select_sql: str, column: str, values: Sequence[str],
            where: str = "", params: tuple[Any, ...] = ()) -> Iterator[Any]:
    """The rows of `select_sql WHERE [where AND] column IN (values)`, a text column or expression;
    `where` is written with ? as for `one`, its values `params`. On PostgreSQL one array
    parameter (`= ANY`): the statement's text is the same for any number of values, so psycopg
    parses it once and PostgreSQL prepares it once; an IN list of 500 marks was parsed again by
    psycopg on every call (~1.6 ms a push, issue #16). On SQLite IN lists of CHUNK marks."""
    head = f"{select_sql} WHERE {where} AND " if where else f"{select_sql} WHERE "
    if conn.dialect.name == "postgresql":
        yield from one(conn, f"{head}{column} = ANY(?::text[])", (*params, text_array(values)))
        return
    for part in chunks(values):
        yield from one(conn, f"{head}{column} IN ({marks(len(part))})", (*params, *part))


def text_array(values: Sequence[str]) -> str | list[str]:
    """A PostgreSQL text[] parameter: its literal, '{"a","b"}', written at C speed, when no value
    holds what a quoted element escapes (a quote, a backslash: ids never do); else the list, for
    psycopg to write. psycopg writes a list element by element in Python (its ListDumper): ~8 %
    of a push's CPU, half of it under the write lock, for the few hundred ids a push looks up and
    the counters it adds (issue #16). Every element is quoted: an unquoted NULL is a null."""
    joined = '","'.join(values)
    if joined.count('"') != 2 * (len(values) - 1) or "\\" in joined:  # each separator holds two
        return list(values)
    return '{"' + joined + '"}'


def int_array(values: Sequence[int]) -> str:
    """A PostgreSQL bigint[] parameter's literal (see text_array)."""
    return "{" + ",".join(map(str, values)) + "}"


def marks(n: int) -> str:
    """`?, ?, …` for an IN list of n values (one/many turn them into %s for PostgreSQL)."""
    return ", ".join("?" * n)


def insert(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """New rows, each a tuple in the table's column order: COPY on PostgreSQL (psycopg), binary
    where every column's type has a binary form here, the driver's executemany on SQLite."""
    if not rows:
        return
    names = [c.name for c in table.c]
    quoted = ", ".join(f'"{n}"' for n in names)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        types = copy_types(table)
        form = " (FORMAT BINARY)" if types is not None else ""
        with (conn.connection.dbapi_connection.cursor() as cur,  # type: ignore[union-attr]  # psycopg's cursor
              cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN{form}') as copy):
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    elif conn.dialect.name == "sqlite":
        # plain tuples: the driver binds a tuple's items directly, a NamedTuple's through
        # __getitem__ one by one (issue #16: ~600 instructions a value)
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})',
                             [tuple(row) for row in rows])
    else:
        conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


# COPY's binary form: each value is sent as the column's type reads it, with nothing for
# PostgreSQL to parse and nothing for psycopg to escape (issue #16: the push's two COPYs,
# under the write lock, 3.6 -> 2.1 µs of the server's CPU an event, and 1.5 µs less wall).
# A text value goes the same into a VARCHAR(n), whose length limit PostgreSQL still checks.
_BINARY = {BigInteger: "int8", Integer: "int4", String: "text", Text: "text"}


@functools.cache  # a table's columns do not change: worked out once, not at every push
def copy_types(table: Table) -> list[str] | None:
    """The PostgreSQL type of each column for a binary COPY, or None (a type not mapped here: text COPY)."""
    types = [_BINARY.get(type(column.type)) for column in table.c]
    return None if None in types else [name for name in types if name is not None]
