"""The bulk write of document rows: one statement for a whole batch.

SQLite: ``executemany`` of ``INSERT .. ON CONFLICT DO UPDATE`` straight to the driver (no
per-row SQLAlchemy parameter processing). PostgreSQL: a single ``INSERT .. SELECT FROM
unnest(<one array per column>) ON CONFLICT DO UPDATE``, one round trip instead of one per row.
A conflicting row is replaced only when its digest differs or it was soft-deleted; its
``srv_created`` is always kept. Rows must have distinct identifiers, except for
``upsert_counted`` (SQLite only), which needs no prior look-up at all.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any

from nightbridge.store.codec import ROW_COLUMNS, Row
from nightbridge.store.db import Connection

_PG_ARRAY_TYPES = {
    "date": "bigint[]",
    "srv_created": "bigint[]",
    "srv_modified": "bigint[]",
    "is_valid": "boolean[]",
    "assigned_identifier": "boolean[]",
    "doc": "jsonb[]",
}
_KEPT = frozenset({"collection", "identifier", "srv_created"})


@cache
def upsert_sql(dialect: str) -> str:
    """The bulk upsert statement for ``dialect``."""
    columns = ", ".join(ROW_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in ROW_COLUMNS if c not in _KEPT)
    conflict = (
        f"ON CONFLICT (collection, identifier) DO UPDATE SET {updates} "
        "WHERE documents.digest <> excluded.digest OR NOT documents.is_valid"
    )
    if dialect == "postgresql":
        arrays = ", ".join(
            f"${i}::{_PG_ARRAY_TYPES.get(c, 'text[]')}" for i, c in enumerate(ROW_COLUMNS, 1)
        )
        return f"INSERT INTO documents ({columns}) SELECT * FROM unnest({arrays}) {conflict}"
    marks = ", ".join("?" for _ in ROW_COLUMNS)
    return f"INSERT INTO documents ({columns}) VALUES ({marks}) {conflict}"


async def write_rows(conn: Connection, dialect: str, rows: list[Row]) -> None:
    """Upsert ``rows`` (tuples in ``ROW_COLUMNS`` order) inside the caller's transaction."""
    if not rows:
        return
    if dialect == "postgresql":
        columns = tuple(list(col) for col in zip(*rows, strict=True))
        await conn.exec_driver_sql(upsert_sql(dialect), columns)
    else:
        await conn.exec_driver_sql(upsert_sql(dialect), rows)


#: Before a counted upsert: the largest row id (new rows get larger ones) and the changes so far.
_SQLITE_MARK = "SELECT (SELECT max(id) FROM documents), total_changes()"
#: After it: how many rows are new, and the changes so far.
_SQLITE_NEW = "SELECT count(*), total_changes() FROM documents WHERE id > ?"


def upsert_counted(conn: sqlite3.Connection, rows: list[Row]) -> tuple[int, int]:
    """SQLite: upsert ``rows`` with no look-up first, inside the caller's transaction (all
    three statements on the writer thread at once); return ``(created, changed)``.

    ``changed`` counts rows inserted or replaced (SQLite's ``total_changes()`` difference: a
    conflicting row whose digest is equal and which is valid is not touched, so not counted);
    ``created`` counts rows with an id above the largest before the write (SQLite gives a new
    row ``max(rowid) + 1``). Exact because SQLite serialises writers (``BEGIN IMMEDIATE``).
    A repeated identifier is inserted once and then updated or left alone; the last one wins.
    """
    if not rows:
        return 0, 0
    top, changes_before = _pair(conn.execute(_SQLITE_MARK).fetchone())
    conn.executemany(upsert_sql("sqlite"), rows)
    created, changes_after = _pair(conn.execute(_SQLITE_NEW, (top,)).fetchone())
    return created, changes_after - changes_before


def _pair(row: Any) -> tuple[int, int]:
    """The two integer columns of ``row`` (NULL counts as 0)."""
    return int(row[0] or 0), int(row[1] or 0)
