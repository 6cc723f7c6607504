"""The ``store`` output: documents into the embedded store (SQLite or PostgreSQL).

Writes ``NSDocument.to_nightscout()`` dicts with ``Store.upsert`` (keyed by identifier, one
transaction per write: all or nothing). ``created`` counts new identifiers; ``duplicates`` the
ones already present (identical or updated). The store is the engine's own and is neither
opened nor closed here. Database failures raise ``RetriableError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from nightbridge.errors import RetriableError
from nightbridge.model import Collection, NSDocument
from nightbridge.outputs.base import WriteResult
from nightbridge.store import Store


class StoreOutput:
    """Output ``kind = "store"`` over an open ``Store``."""

    kind: ClassVar[str] = "store"

    def __init__(self, store: Store, label: str = "store") -> None:
        self._store = store
        self.label = label

    async def open(self) -> None:
        """Check the database answers; RetriableError if not."""
        if not await self._store.ping():
            raise RetriableError("the store does not answer")

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        """Newest ``date`` (epoch ms) of valid documents in ``collection``."""
        return await self._store.newest_date(collection.value, device)

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        """Upsert ``docs`` (each must carry its identifier) in one transaction."""
        payload = [doc.to_nightscout() for doc in docs]
        result = await self._store.upsert(collection.value, payload)
        return WriteResult(created=result.created, duplicates=result.updated + result.unchanged)

    async def aclose(self) -> None:
        """Nothing to release: the engine owns the store."""
