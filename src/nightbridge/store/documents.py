"""Documents by identifier: upsert, read, query, delete, newest.

``upsert`` is the write path of the pipeline and of v3: keyed by ``identifier``, one transaction
per call, one ``SELECT`` per 1000 identifiers to classify, one ``executemany`` of
``INSERT .. ON CONFLICT DO UPDATE`` for what changed. Concurrent writers of the same identifier
end with one row (the database's unique index decides); the counts of a call are exact on
SQLite (writers are serialised) and may count a row created by a racing writer as created on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, delete, func, select, true, update
from sqlalchemy.engine import Row as SARow
from sqlalchemy.ext.asyncio import AsyncConnection

from nightbridge.model.time import now_ms as _now_ms
from nightbridge.store.bulk import write_rows
from nightbridge.store.codec import (
    DIGEST,
    IDENTIFIER,
    Row,
    body_of,
    decode,
    natural_key,
    row_values,
)
from nightbridge.store.db import Database
from nightbridge.store.queries import DocQuery, QueryCompiler, project
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


@dataclass(frozen=True, slots=True)
class Existing:
    """What a classification needs to know of a stored row."""

    digest: str
    is_valid: bool
    srv_created: int


def doc_from_row(row: SARow[Any, Any, Any, Any, Any] | Any) -> dict[str, Any]:
    """Decode a row selected with ``_DOC_COLUMNS``."""
    return decode(row[0], row[1], row[2], row[3], row[4])


class DocumentsMixin(Database):
    """Document operations of ``Store``."""

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
        for doc in docs:
            ident = doc.get("identifier")
            if not isinstance(ident, str) or not ident:
                raise ValueError("upsert needs a non-empty string identifier in every document")
            prepared.append(
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

    async def get(self, collection: str, identifier: str) -> dict[str, Any] | None:
        """The document with ``identifier`` (soft-deleted ones too, with ``isValid: false``)."""
        stmt = select(*_DOC_COLUMNS).where(
            documents.c.collection == collection, documents.c.identifier == identifier
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else doc_from_row(row)

    async def find(self, collection: str, query: DocQuery | None = None) -> list[dict[str, Any]]:
        """Documents of ``collection`` matching ``query`` (see ``DocQuery``)."""
        query = query or DocQuery()
        compiler = self._compiler
        stmt = (
            select(*_DOC_COLUMNS)
            .where(compiler.where(collection, query))
            .order_by(*compiler.order_by(query))
            .offset(query.skip or None)
            .limit(query.limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [project(doc_from_row(row), query.fields) for row in rows]

    async def count(self, collection: str, query: DocQuery | None = None) -> int:
        """Number of documents matching ``query``'s filters (sort/limit/skip ignored)."""
        query = query or DocQuery()
        stmt = select(func.count()).select_from(documents)
        stmt = stmt.where(self._compiler.where(collection, query))
        async with self._read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

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
        async with self._read() as conn:
            row = (await conn.execute(stmt.limit(1))).first()
        return None if row is None else doc_from_row(row)

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
        stmt = stmt.order_by(documents.c.date.desc()).limit(1)
        async with self._read() as conn:
            value = (await conn.execute(stmt)).scalar()
        return None if value is None else int(value)

    async def last_modified(self, collection: str) -> int | None:
        """Largest ``srvModified`` (epoch ms) in ``collection``, deleted documents included."""
        stmt = select(func.max(documents.c.srv_modified)).where(
            documents.c.collection == collection
        )
        async with self._read() as conn:
            value = (await conn.execute(stmt)).scalar()
        return None if value is None else int(value)

    async def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        async with self._read() as conn:
            value = (await conn.execute(select(func.max(schema_versions.c.version)))).scalar()
        return int(value or 0)
