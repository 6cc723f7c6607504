"""Documents by identifier: upsert, read, query, delete, newest.

``upsert`` is the write path of the pipeline and of v3: keyed by ``identifier``, one transaction
per call. SQLite: one ``executemany`` of ``INSERT .. ON CONFLICT DO UPDATE .. WHERE <digest
differs>``, counted from row ids and ``total_changes()`` (``bulk.upsert_counted``), no look-up.
PostgreSQL: one ``SELECT`` per 20000 identifiers to classify, then one bulk upsert of what
changed. Concurrent writers of the same identifier
end with one row (the database's unique index decides); the counts of a call are exact on
SQLite (writers are serialised) and may count a row created by a racing writer as created on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row as SARow
from sqlalchemy.ext.asyncio import AsyncConnection

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
from nightbridge.store.db import Database
from nightbridge.store.queries import DocQuery, QueryCompiler, project
from nightbridge.store.reader import SqliteReader
from nightbridge.store.tables import documents, schema_versions

#: Identifiers per classification SELECT (well under SQLite's and asyncpg's parameter limits).
_CHUNK = 1000
#: On PostgreSQL the identifiers travel as one array parameter.
_PG_CHUNK = 20000

_DOC_COLUMNS = (
    documents.c.doc,
    documents.c.identifier,
    documents.c.srv_created,
    documents.c.srv_modified,
    documents.c.is_valid,
)


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


def doc_from_row(row: SARow[Any, Any, Any, Any, Any] | Any) -> dict[str, Any]:
    """Decode a row selected with ``_DOC_COLUMNS``."""
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

    #: SQLite's read connections, opened on the first read (see ``_rows``).
    _reader: SqliteReader | None = None

    async def close(self) -> None:
        """Close the read connections, then the engine (``Database.close``)."""
        reader, self._reader = self._reader, None
        self._closed = True
        if reader is not None:
            await asyncio.to_thread(reader.close)
        await super().close()

    @property
    def _compiler(self) -> QueryCompiler:
        return QueryCompiler(self.dialect)

    async def _write_rows(self, conn: AsyncConnection, rows: list[Row]) -> None:
        await write_rows(conn, self.dialect, rows)

    async def _existing(
        self, conn: AsyncConnection, collection: str, identifiers: Iterable[str]
    ) -> dict[str, Existing]:
        wanted = list(dict.fromkeys(identifiers))
        found: dict[str, Existing] = {}
        cols = (
            documents.c.identifier,
            documents.c.digest,
            documents.c.is_valid,
            documents.c.srv_created,
        )
        pg = self.dialect == "postgresql"
        size = _PG_CHUNK if pg else _CHUNK
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            match = (
                documents.c.identifier == any_(bindparam("ids", chunk, type_=ARRAY(Text)))
                if pg
                else documents.c.identifier.in_(chunk)
            )
            stmt = select(*cols).where(documents.c.collection == collection, match)
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
                created, changed = await upsert_counted(conn, prepared)
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
        now = _now_ms() if now_ms is None else now_ms
        row = dict(zip(ROW_COLUMNS, _row(collection, doc, now, now), strict=True))
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(documents)
            .values(row)
            .on_conflict_do_nothing(index_elements=["collection", "identifier"])
            .returning(documents.c.id)
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def replace_identifier(
        self, collection: str, doc: dict[str, Any], old: str, *, now_ms: int | None = None
    ) -> None:
        """Store ``doc`` in place of the document ``old`` (another identifier), keeping old's
        ``srvCreated``: one transaction, so a crash leaves the old document or the new one,
        never both and never neither. A stored ``doc`` identifier is replaced as by upsert."""
        now = _now_ms() if now_ms is None else now_ms
        where = (documents.c.collection == collection) & (documents.c.identifier == old)
        async with self._write() as conn:
            gone = await conn.execute(
                delete(documents).where(where).returning(documents.c.srv_created)
            )
            created = gone.scalar()
            row = _row(collection, doc, now if created is None else int(created), now)
            await self._write_rows(conn, [row])

    async def get(self, collection: str, identifier: str) -> dict[str, Any] | None:
        """The document with ``identifier`` (soft-deleted ones too, with ``isValid: false``)."""
        stmt = select(*_DOC_COLUMNS).where(
            documents.c.collection == collection, documents.c.identifier == identifier
        )
        rows = await self._rows(stmt.limit(1))
        return doc_from_row(rows[0]) if rows else None

    async def _rows(self, stmt: Select[Any]) -> list[Any]:
        """Every row of a SELECT. On SQLite through the store's ``SqliteReader`` (one thread
        hop, no transaction), elsewhere in a read transaction."""
        if self.dialect != "sqlite":
            async with self._read() as conn:
                return list((await conn.execute(stmt)).all())
        if self._closed:
            raise RetriableError("the store is closed")
        reader = self._reader
        if reader is None:
            path = self._engine.url.database
            assert path is not None
            reader = self._reader = SqliteReader(path, self._engine.dialect)
        try:
            return await reader.rows(stmt)
        except sqlite3.Error as exc:
            raise RetriableError(self._describe(exc)) from exc

    def _find_stmt(self, collection: str, query: DocQuery, *columns: Any) -> Select[Any]:
        compiler = self._compiler
        return (
            select(*columns)
            .where(compiler.where(collection, query))
            .order_by(*compiler.order_by(query))
            .offset(query.skip or None)
            .limit(query.limit)
        )

    async def find(self, collection: str, query: DocQuery | None = None) -> list[dict[str, Any]]:
        """Documents of ``collection`` matching ``query`` (see ``DocQuery``)."""
        query = query or DocQuery()
        rows = await self._rows(self._find_stmt(collection, query, *_DOC_COLUMNS))
        return [project(doc_from_row(row), query.fields) for row in rows]

    async def find_raw(self, collection: str, query: DocQuery | None = None) -> list[RawDoc]:
        """``find`` without decoding: the matching documents as ``RawDoc`` (``fields`` of the
        query is ignored; the body is always whole; ``is_valid`` may be 0/1)."""
        query = query or DocQuery()
        c = documents.c
        body = c.doc if self.dialect == "sqlite" else cast(c.doc, Text)
        columns = (body, c.identifier, c.srv_created, c.srv_modified, c.is_valid, c.date)
        rows = await self._rows(self._find_stmt(collection, query, *columns))
        return list(map(RawDoc._make, rows))

    async def count(self, collection: str, query: DocQuery | None = None) -> int:
        """Number of documents matching ``query``'s filters (sort/limit/skip ignored)."""
        query = query or DocQuery()
        stmt = select(func.count()).select_from(documents)
        stmt = stmt.where(self._compiler.where(collection, query))
        return int((await self._rows(stmt))[0][0])

    async def find_natural(
        self, collection: str, doc: dict[str, Any], *, assigned_only: bool = True
    ) -> dict[str, Any] | None:
        """The stored document with ``doc``'s natural key (``codec.natural_key``), or None.

        With ``assigned_only`` (the v3 fallback de-duplication) only documents whose client
        sent no identifier are candidates. Valid documents win over deleted, then the most
        recently modified.
        """
        key = natural_key(collection, body_of(doc))
        if key is None:
            return None
        stmt = select(*_DOC_COLUMNS).where(
            documents.c.collection == collection, documents.c.natural_key == key
        )
        if assigned_only:
            stmt = stmt.where(documents.c.assigned_identifier == true())
        stmt = stmt.order_by(documents.c.is_valid.desc(), documents.c.srv_modified.desc())
        rows = await self._rows(stmt.limit(1))
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
        where = (documents.c.collection == collection) & (documents.c.identifier == identifier)
        if permanent:
            stmt: Any = delete(documents).where(where)
        else:
            now = _now_ms() if now_ms is None else now_ms
            stmt = update(documents).where(where).values(is_valid=False, srv_modified=now)
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def delete_matching(self, collection: str, query: DocQuery) -> int:
        """Permanently remove every document matching ``query``'s filters; returns how many.

        ``include_invalid`` and ``modified_since`` apply; sort, limit and skip are ignored.
        """
        stmt = delete(documents).where(self._compiler.where(collection, query))
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount)

    async def newest_date(self, collection: str, device: str | None = None) -> int | None:
        """Largest numeric ``date`` (epoch ms) of valid documents (of ``device`` if given)."""
        # ORDER BY .. LIMIT 1 walks the (collection, date) index backwards and stops at the
        # first match; MAX() with the extra conditions would scan the whole collection.
        stmt = select(documents.c.date).where(
            documents.c.collection == collection,
            documents.c.is_valid == true(),
            documents.c.date.is_not(None),
        )
        if device is not None:
            stmt = stmt.where(documents.c.device == device)
        rows = await self._rows(stmt.order_by(documents.c.date.desc()).limit(1))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def last_modified(self, collection: str) -> int | None:
        """Largest ``srvModified`` (epoch ms) in ``collection``, deleted documents included."""
        stmt = select(func.max(documents.c.srv_modified)).where(
            documents.c.collection == collection
        )
        rows = await self._rows(stmt)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        async with self._read() as conn:
            value = (await conn.execute(select(func.max(schema_versions.c.version)))).scalar()
        return int(value or 0)
