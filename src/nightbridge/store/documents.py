"""Documents by identifier: upsert, read, query, delete, newest.

``upsert`` is the write path of the pipeline and of v3: keyed by ``identifier``, one transaction
per call. SQLite: one ``executemany`` of ``INSERT .. ON CONFLICT DO UPDATE .. WHERE <digest
differs>``, counted from row ids and ``total_changes()`` (``bulk.upsert_counted``), no look-up.
PostgreSQL: one ``SELECT`` per 20000 identifiers to classify, then one bulk upsert of what
changed. Concurrent writers of the same identifier
end with one row (the database's unique index decides); the counts of a call are exact on
SQLite (writers are serialised) and may count a row created by a racing writer as created on
PostgreSQL.

``upsert``, ``newest_date``, ``last_modified`` and ``schema_version`` are plain SQL; the other
statements are built in ``statements.py`` with SQLAlchemy Core, imported on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from nightbridge.errors import RetriableError
from nightbridge.model.time import now_ms as _now_ms
from nightbridge.store.bulk import upsert_counted, write_rows
from nightbridge.store.codec import (
    DIGEST,
    IDENTIFIER,
    ROW_COLUMNS,
    Row,
    body_of,
    decode,
    natural_key,
    row_values,
)
from nightbridge.store.db import Connection, Database
from nightbridge.store.docquery import DocQuery, project
from nightbridge.store.sqlite import WriteConnection

#: Identifiers per classification SELECT (well under SQLite's and asyncpg's parameter limits).
_CHUNK = 1000
#: On PostgreSQL the identifiers travel as one array parameter.
_PG_CHUNK = 20000

#: ``is_valid`` true in plain SQL.
_TRUE = {"sqlite": "1", "postgresql": "true"}


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Outcome of an upsert: documents ``created``, ``updated`` (content changed or revived
    after a soft delete) and ``unchanged``. ``docs`` holds the stored documents in input order
    (only ``upsert_natural`` fills it)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    docs: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    #: Parallel to ``docs``: True where that document was newly inserted (``upsert_natural``).
    inserted: tuple[bool, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Existing:
    """What a classification needs to know of a stored row."""

    digest: str
    is_valid: bool
    srv_created: int


def doc_from_row(row: Any) -> dict[str, Any]:
    """Decode a row selected with ``statements.DOC_COLUMNS``."""
    return decode(row[0], row[1], row[2], row[3], row[4])


def _row(collection: str, doc: dict[str, Any], srv_created: int, srv_modified: int) -> Row:
    """The row of one v3-written ``doc`` (client identifier, required non-empty string)."""
    ident = doc.get("identifier")
    if not isinstance(ident, str) or not ident:
        raise ValueError("a document needs a non-empty string identifier")
    return row_values(
        collection,
        ident,
        body_of(doc),
        srv_created=srv_created,
        srv_modified=srv_modified,
        assigned=False,
    )


class RawDoc(NamedTuple):
    """A stored document undecoded: ``body`` is the JSON object text of the client fields
    (no server fields), beside the server columns and the numeric ``date`` copy (epoch ms,
    None when the document's ``date`` is not a number). For answers that splice ``body``
    into their JSON instead of decoding and re-encoding every document. A named tuple, not a
    dataclass: hundreds are made per request and a tuple is made from a row at C speed."""

    body: str
    identifier: str
    srv_created: int
    srv_modified: int
    is_valid: bool
    date: int | None


class DocumentsMixin(Database):
    """Document operations of ``Store``."""

    async def _write_rows(self, conn: Connection, rows: list[Row]) -> None:
        await write_rows(conn, self.dialect, rows)

    async def _existing(
        self, conn: Connection, collection: str, identifiers: Iterable[str]
    ) -> dict[str, Existing]:
        from nightbridge.store import statements

        wanted = list(dict.fromkeys(identifiers))
        found: dict[str, Existing] = {}
        pg = self.dialect == "postgresql"
        size = _PG_CHUNK if pg else _CHUNK
        for start in range(0, len(wanted), size):
            stmt = statements.existing(collection, wanted[start : start + size], pg=pg)
            for ident, digest, valid, created in await conn.execute(stmt):
                found[ident] = Existing(digest, bool(valid), created)
        return found

    async def upsert(
        self, collection: str, docs: Sequence[dict[str, Any]], *, now_ms: int | None = None
    ) -> UpsertResult:
        """Insert or replace ``docs`` by their ``identifier`` (required, a non-empty string).

        New: ``srvCreated = srvModified = now_ms``. Same body as stored and not deleted:
        unchanged, nothing written. Otherwise the body is replaced, ``srvModified`` bumped,
        ``srvCreated`` kept and a soft-deleted document revived. Within one call a repeated
        identifier counts once as created and then as unchanged/updated; the last one wins.
        Client-sent ``srvCreated``/``srvModified``/``isValid`` are ignored.
        """
        now = _now_ms() if now_ms is None else now_ms
        prepared: list[Row] = []
        append = prepared.append
        for doc in docs:
            ident = doc.get("identifier")
            if not isinstance(ident, str) or not ident:
                raise ValueError("upsert needs a non-empty string identifier in every document")
            append(
                row_values(
                    collection,
                    ident,
                    body_of(doc),
                    srv_created=now,
                    srv_modified=now,
                    assigned=False,
                )
            )
        if not prepared:
            return UpsertResult()
        if self.dialect == "sqlite":
            async with self._write() as conn:
                assert isinstance(conn, WriteConnection)
                created, changed = await conn.run(lambda raw: upsert_counted(raw, prepared))
            return UpsertResult(created, changed - created, len(prepared) - changed)
        created = updated = unchanged = 0
        async with self._write() as conn:
            state = await self._existing(conn, collection, (r[IDENTIFIER] for r in prepared))
            to_write: dict[str, Row] = {}
            for row in prepared:
                ident = row[IDENTIFIER]
                prev = state.get(ident)
                if prev is None:
                    created += 1
                elif prev.is_valid and prev.digest == row[DIGEST]:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                to_write[ident] = row
                state[ident] = Existing(row[DIGEST], True, now)
            await self._write_rows(conn, list(to_write.values()))
        return UpsertResult(created, updated, unchanged)

    async def insert_new(
        self, collection: str, doc: dict[str, Any], *, now_ms: int | None = None
    ) -> bool:
        """Insert ``doc`` unless its ``identifier`` is stored (deleted ones too); True when
        inserted. One ``INSERT .. ON CONFLICT DO NOTHING``: of concurrent calls for one
        identifier, from any process, exactly one is True."""
        from nightbridge.store import statements

        now = _now_ms() if now_ms is None else now_ms
        row = dict(zip(ROW_COLUMNS, _row(collection, doc, now, now), strict=True))
        async with self._write() as conn:
            result = await conn.execute(statements.insert_new(self.dialect, row))
            return result.first() is not None

    async def replace_identifier(
        self, collection: str, doc: dict[str, Any], old: str, *, now_ms: int | None = None
    ) -> None:
        """Store ``doc`` in place of the document ``old`` (another identifier), keeping old's
        ``srvCreated``: one transaction, so a crash leaves the old document or the new one,
        never both and never neither. A stored ``doc`` identifier is replaced as by upsert."""
        from nightbridge.store import statements

        now = _now_ms() if now_ms is None else now_ms
        async with self._write() as conn:
            gone = await conn.execute(statements.remove_returning_created(collection, old))
            created = gone.scalar()
            row = _row(collection, doc, now if created is None else int(created), now)
            await self._write_rows(conn, [row])

    async def get(self, collection: str, identifier: str) -> dict[str, Any] | None:
        """The document with ``identifier`` (soft-deleted ones too, with ``isValid: false``)."""
        from nightbridge.store import statements

        rows = await self._rows(statements.get(collection, identifier))
        return doc_from_row(rows[0]) if rows else None

    async def _rows(self, stmt: Any) -> list[Any]:
        """Every row of a SQLAlchemy SELECT. On SQLite through the store's ``SqliteReader``
        (inline or one thread hop, no transaction), elsewhere in a read transaction."""
        if self._file is None:
            async with self._read() as conn:
                return list((await conn.execute(stmt)).all())
        if self._closed:
            raise RetriableError("the store is closed")
        try:
            return await self._file.reader.rows(stmt)
        except sqlite3.Error as exc:
            raise RetriableError(self._describe(exc)) from exc

    async def _sql_rows(self, sql: str, *values: Any) -> list[Any]:
        """Every row of a plain SELECT (``?`` placeholders), read as ``_rows`` reads."""
        async with self._read() as conn:
            return list((await conn.exec_driver_sql(self._sql(sql), values)).all())

    async def find(self, collection: str, query: DocQuery | None = None) -> list[dict[str, Any]]:
        """Documents of ``collection`` matching ``query`` (see ``DocQuery``)."""
        from nightbridge.store import statements

        query = query or DocQuery()
        stmt = statements.find(self.dialect, collection, query, *statements.DOC_COLUMNS)
        rows = await self._rows(stmt)
        return [project(doc_from_row(row), query.fields) for row in rows]

    async def find_raw(self, collection: str, query: DocQuery | None = None) -> list[RawDoc]:
        """``find`` without decoding: the matching documents as ``RawDoc`` (``fields`` of the
        query is ignored; the body is always whole; ``is_valid`` may be 0/1)."""
        from nightbridge.store import statements

        query = query or DocQuery()
        columns = statements.find_raw_columns(self.dialect)
        rows = await self._rows(statements.find(self.dialect, collection, query, *columns))
        return list(map(RawDoc._make, rows))

    async def count(self, collection: str, query: DocQuery | None = None) -> int:
        """Number of documents matching ``query``'s filters (sort/limit/skip ignored)."""
        from nightbridge.store import statements

        stmt = statements.count(self.dialect, collection, query or DocQuery())
        return int((await self._rows(stmt))[0][0])

    async def find_natural(
        self, collection: str, doc: dict[str, Any], *, assigned_only: bool = True
    ) -> dict[str, Any] | None:
        """The stored document with ``doc``'s natural key (``codec.natural_key``), or None.

        With ``assigned_only`` (the v3 fallback de-duplication) only documents whose client
        sent no identifier are candidates. Valid documents win over deleted, then the most
        recently modified.
        """
        from nightbridge.store import statements

        key = natural_key(collection, body_of(doc))
        if key is None:
            return None
        stmt = statements.find_natural(collection, key, assigned_only=assigned_only)
        rows = await self._rows(stmt)
        return doc_from_row(rows[0]) if rows else None

    async def delete(
        self,
        collection: str,
        identifier: str,
        *,
        permanent: bool = False,
        now_ms: int | None = None,
    ) -> bool:
        """Soft delete (``isValid`` false, ``srvModified`` = now) or remove; False if absent.

        Soft-deleting an already deleted document bumps ``srvModified`` again and is True.
        """
        from nightbridge.store import statements

        soft_at = None if permanent else (_now_ms() if now_ms is None else now_ms)
        async with self._write() as conn:
            result = await conn.execute(
                statements.remove(collection, identifier, soft_at_ms=soft_at)
            )
        return bool(result.rowcount)

    async def delete_matching(self, collection: str, query: DocQuery) -> int:
        """Permanently remove every document matching ``query``'s filters; returns how many.

        ``include_invalid`` and ``modified_since`` apply; sort, limit and skip are ignored.
        """
        from nightbridge.store import statements

        async with self._write() as conn:
            result = await conn.execute(statements.remove_matching(self.dialect, collection, query))
        return int(result.rowcount)

    async def newest_date(self, collection: str, device: str | None = None) -> int | None:
        """Largest numeric ``date`` (epoch ms) of valid documents (of ``device`` if given)."""
        # ORDER BY .. LIMIT 1 walks the (collection, date) index backwards and stops at the
        # first match; MAX() with the extra conditions would scan the whole collection.
        sql = (
            f"SELECT date FROM documents WHERE collection = ? AND is_valid = {_TRUE[self.dialect]}"
            " AND date IS NOT NULL"
        )
        values: tuple[str, ...] = (collection,)
        if device is not None:
            sql += " AND device = ?"
            values += (device,)
        rows = await self._sql_rows(sql + " ORDER BY date DESC LIMIT 1", *values)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def last_modified(self, collection: str) -> int | None:
        """Largest ``srvModified`` (epoch ms) in ``collection``, deleted documents included."""
        sql = "SELECT max(srv_modified) FROM documents WHERE collection = ?"
        rows = await self._sql_rows(sql, collection)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        rows = await self._sql_rows("SELECT max(version) FROM nb_schema_versions")
        return int(rows[0][0] or 0)
