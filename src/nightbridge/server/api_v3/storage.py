"""The one place API v3 speaks to ``nightbridge.store.Store``.

Operations call these coroutines with plain JSON documents (``dict``); this module builds the
store's ``DocQuery`` values and hides the store's method names, so the v3 rules live in the
operation modules and the SQL lives in store/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from nightbridge.model.time import now_ms
from nightbridge.server.api_v1.cache import response_cache
from nightbridge.server.api_v3.documents import Doc
from nightbridge.server.api_v3.filters import SearchSpec
from nightbridge.server.api_v3.responses import V3Error
from nightbridge.store.documents import RawDoc
from nightbridge.store.queries import DocQuery, Filter


class V3Storage:
    """API v3's view of the store for one request."""

    def __init__(
        self,
        store: Any,
        clock: Callable[[], int] = now_ms,
        on_write: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        #: The server's clock (epoch ms): ``srvModified``/``srvCreated`` of every write.
        self.clock = clock
        #: Called with the collection after every write (committed or failed): the server
        #: drops its v1 response cache of that collection, so v1 readers see v3 writes at once.
        self._on_write = on_write or (lambda _collection: None)

    @property
    def kind(self) -> str:
        """``sqlite`` or ``postgresql`` (for ``/version``)."""
        dialect = getattr(self._store, "dialect", None)
        return str(dialect) if dialect else "sql"

    async def get(self, collection: str, identifier: str) -> Doc | None:
        """The stored document with ``identifier`` (soft-deleted ones too), or None."""
        doc: Doc | None = await self._store.get(collection, identifier)
        return doc

    async def find_existing(self, collection: str, doc: Doc) -> Doc | None:
        """The document ``doc`` duplicates: same identifier, else the natural-key fallback."""
        found = await self.get(collection, str(doc["identifier"]))
        if found is not None:
            return found
        natural: Doc | None = await self._store.find_natural(collection, doc)
        return natural

    async def create(self, collection: str, doc: Doc) -> Doc | None:
        """Insert ``doc`` if no document (deleted ones included) has its identifier; returns
        it as stored, or None when one exists — also when a concurrent request, in this
        process or another, inserted it first (the database's unique key decides atomically).
        """
        try:
            inserted = await self._store.insert_new(collection, doc, now_ms=self.clock())
        finally:
            self._on_write(collection)
        if not inserted:
            return None
        stored = await self.get(collection, str(doc["identifier"]))
        return stored if stored is not None else doc

    async def save(self, collection: str, doc: Doc, *, replaces: str | None = None) -> Doc:
        """Insert or replace ``doc`` by identifier; returns it as stored (server times set).

        ``replaces`` names a different stored identifier that ``doc`` takes over (a
        de-duplicated v1 document): in one transaction that one is removed and ``doc``
        written with its ``srvCreated``, so no crash leaves both.
        """
        try:
            if replaces is not None and replaces != doc["identifier"]:
                await self._store.replace_identifier(collection, doc, replaces, now_ms=self.clock())
            else:
                await self._store.upsert(collection, [doc], now_ms=self.clock())
        finally:
            self._on_write(collection)
        stored = await self.get(collection, str(doc["identifier"]))
        return stored if stored is not None else doc

    async def remove(self, collection: str, identifier: str) -> bool:
        """Delete for good; False when nothing was there."""
        try:
            return bool(await self._store.delete(collection, identifier, permanent=True))
        finally:
            self._on_write(collection)

    async def soft_delete(self, collection: str, identifier: str) -> bool:
        """Mark deleted (``isValid`` false, ``srvModified`` now); False when nothing was there."""
        try:
            deleted = await self._store.delete(
                collection, identifier, permanent=False, now_ms=self.clock()
            )
        finally:
            self._on_write(collection)
        return bool(deleted)

    @staticmethod
    def _search_query(spec: SearchSpec) -> DocQuery:
        try:
            filters = tuple(Filter(f.field, f.op, f.value) for f in spec.filters)  # type: ignore[arg-type]
        except ValueError as exc:
            raise V3Error(400, f"Bad filter: {exc}") from None
        return DocQuery(
            filters=filters,
            sort=spec.sort,
            limit=spec.limit,
            skip=spec.skip,
            include_invalid=False,
        )

    async def search(self, collection: str, spec: SearchSpec) -> list[Doc]:
        """Valid documents matching ``spec``, sorted, paged and projected."""
        query = self._search_query(spec)
        try:
            docs: list[Doc] = await self._store.find(collection, query)
        except ValueError as exc:  # an operator the value's type cannot take (gt true)
            raise V3Error(400, f"Bad filter: {exc}") from None
        return docs

    async def search_raw(self, collection: str, spec: SearchSpec) -> list[RawDoc]:
        """``search`` undecoded (``spec.fields`` is not applied)."""
        query = self._search_query(spec)
        try:
            raws: list[RawDoc] = await self._store.find_raw(collection, query)
        except ValueError as exc:
            raise V3Error(400, f"Bad filter: {exc}") from None
        return raws

    async def history(
        self, collection: str, since_ms: int, *, inclusive: bool, limit: int
    ) -> list[Doc]:
        """Documents (deleted ones too) modified after ``since_ms`` (or at it when inclusive)."""
        query = DocQuery(
            filters=(Filter("srvModified", "gte" if inclusive else "gt", since_ms),),
            sort=(("srvModified", False), ("identifier", False)),
            limit=limit,
            include_invalid=True,
        )
        docs: list[Doc] = await self._store.find(collection, query)
        return docs

    async def newest(self, collection: str) -> int | None:
        """Largest ``srvModified`` of the collection (epoch ms), or None when empty."""
        value = await self._store.last_modified(collection)
        return int(value) if value is not None else None

    async def newest_by(self, collection: str, field: str) -> Doc | None:
        """The document with the largest ``field`` (deleted ones too), or None."""
        query = DocQuery(sort=((field, True),), limit=1, include_invalid=True)
        docs: list[Doc] = await self._store.find(collection, query)
        return docs[0] if docs else None


def storage_of(request: Request) -> V3Storage:
    """The storage of the app serving ``request`` (``app.state.store``, ``app.state.clock``);
    its writes invalidate the app's v1 response cache."""
    clock = getattr(request.app.state, "clock", None)
    cache = response_cache(request)
    return V3Storage(
        request.app.state.store, clock if callable(clock) else now_ms, on_write=cache.invalidate
    )
