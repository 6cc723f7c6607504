"""The embedded store: the only code that speaks SQL.

``await Store.open(url)`` connects to SQLite (a file; the default) or PostgreSQL (by URL), applies
the schema migrations, and returns a store with the document API (``upsert``, ``find`` ...),
the v1 write semantics (``upsert_natural``), engine state (cursors, pending batches, connector
status) and the server's roles and subjects. Same API on both databases.

Importing this package does not import SQLAlchemy: on SQLite the connector path (open,
``upsert``, ``newest_date``, the engine state) is plain SQL on ``sqlite3``; SQLAlchemy Core is
imported on the first query that needs it (``find``, ``count``, v1 writes ...) and for
PostgreSQL.
"""

from __future__ import annotations

from typing import Self

from nightbridge.store.auth import AuthMixin, Role, Subject
from nightbridge.store.db import normalise_url
from nightbridge.store.docquery import DocQuery, Filter
from nightbridge.store.documents import UpsertResult
from nightbridge.store.migrations import migrate
from nightbridge.store.natural import NaturalMixin
from nightbridge.store.state import ConnectorStatus, PendingBatch, StateMixin


class Store(NaturalMixin, StateMixin, AuthMixin):
    """An open database. Create with ``await Store.open(url)``; ``await store.close()``."""

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect to ``url`` (see ``store.db``) and migrate to the latest schema.

        Raises ConfigError for an unusable URL, RetriableError when the database cannot be
        reached or migrated.
        """
        store = cls(normalise_url(url))
        try:
            async with store._write() as conn:
                await migrate(conn, store.dialect)
        except BaseException:
            await store.close()
            raise
        return store


__all__ = [
    "ConnectorStatus",
    "DocQuery",
    "Filter",
    "PendingBatch",
    "Role",
    "Store",
    "Subject",
    "UpsertResult",
]
