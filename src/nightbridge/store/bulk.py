"""The bulk write of document rows: one statement for a whole batch.

SQLite: ``executemany`` of ``INSERT .. ON CONFLICT DO UPDATE`` straight to the driver (no
per-row SQLAlchemy parameter processing). PostgreSQL: a single ``INSERT .. SELECT FROM
unnest(<one array per column>) ON CONFLICT DO UPDATE``, one round trip instead of one per row.
A conflicting row is replaced only when its digest differs or it was soft-deleted; its
``srv_created`` is always kept. Rows must have distinct identifiers.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncConnection

from nightbridge.store.codec import ROW_COLUMNS, Row

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


async def write_rows(conn: AsyncConnection, dialect: str, rows: list[Row]) -> None:
    """Upsert ``rows`` (tuples in ``ROW_COLUMNS`` order) inside the caller's transaction."""
    if not rows:
        return
    if dialect == "postgresql":
        columns = tuple(list(col) for col in zip(*rows, strict=True))
        await conn.exec_driver_sql(upsert_sql(dialect), columns)
    else:
        await conn.exec_driver_sql(upsert_sql(dialect), rows)
