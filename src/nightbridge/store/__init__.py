"""The embedded store: the only code that speaks SQL.

``await Store.open(url)`` connects to SQLite (a file; the default) or PostgreSQL (by URL), applies
the schema migrations, and returns a store with the document API (``upsert``, ``find`` ...),
the v1 write semantics (``upsert_natural``), engine state (cursors, pending batches, connector
status) and the server's roles and subjects. Same code on both databases.
"""

from __future__ import annotations

from typing import Self

from nightbridge.store.auth import AuthMixin, Role, Subject
from nightbridge.store.db import create_engine, normalise_url
from nightbridge.store.documents import UpsertResult
from nightbridge.store.migrations import migrate
from nightbridge.store.natural import NaturalMixin
from nightbridge.store.queries import DocQuery, Filter
from nightbridge.store.state import ConnectorStatus, PendingBatch, StateMixin


class Store(NaturalMixin, StateMixin, AuthMixin):
    """An open database. Create with ``await Store.open(url)``; ``await store.close()``."""

    @classmethod
    async def open(cls, url: str) -> Self:
        """Connect to ``url`` (see ``store.db``) and migrate to the latest schema.

        Raises ConfigError for an unusable URL, RetriableError when the database cannot be
        reached or migrated.
        """
        sa_url = normalise_url(url)
        dialect = sa_url.get_backend_name()
        secrets = (sa_url.password,) if sa_url.password else ()
        store = cls(create_engine(sa_url), dialect, secrets)
        try:
            async with store._write() as conn:
                await migrate(conn, dialect)
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
