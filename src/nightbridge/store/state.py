"""Engine state in the store: cursors, pending batches and connector status.

Implements ``nightbridge.engine.state.StateStore``. Times are epoch ms (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

from nightbridge.model.time import now_ms
from nightbridge.store.db import Database
from nightbridge.store.tables import connector_status, cursors, pending


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """Documents fetched for ``output`` that it has not acknowledged yet."""

    id: int
    account: str
    output: str
    collection: str
    docs: list[dict[str, Any]]
    created_ms: int


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """The last known state of one (source, account) for the dashboard."""

    source: str
    account: str
    last_success_ms: int | None
    last_error_ms: int | None
    last_error_family: str | None
    last_error_message: str | None
    next_poll_ms: int | None
    newest_ms: int | None


class StateMixin(Database):
    """Cursor, pending and run-log operations of ``Store``."""

    def _insert(self, table: Any) -> PgInsert | SqliteInsert:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    async def get_cursor(self, account: str, output: str) -> int | None:
        """Epoch ms the (account, output) cursor stands at, or None if never set."""
        stmt = select(cursors.c.position_ms).where(
            cursors.c.account == account, cursors.c.output == output
        )
        async with self._read() as conn:
            value = (await conn.execute(stmt)).scalar()
        return None if value is None else int(value)

    async def set_cursor(self, account: str, output: str, position_ms: int) -> None:
        """Move the cursor to ``position_ms`` (also backwards: the engine decides)."""
        stmt = self._insert(cursors).values(
            account=account, output=output, position_ms=position_ms, updated_ms=now_ms()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[cursors.c.account, cursors.c.output],
            set_={"position_ms": stmt.excluded.position_ms, "updated_ms": stmt.excluded.updated_ms},
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def add_pending(
        self, account: str, output: str, collection: str, docs: list[dict[str, Any]]
    ) -> int:
        """Keep ``docs`` (JSON dicts) for later delivery; returns the batch id."""
        stmt = (
            insert(pending)
            .values(
                account=account,
                output=output,
                collection=collection,
                docs=orjson.dumps(docs).decode(),
                created_ms=now_ms(),
            )
            .returning(pending.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def list_pending(self, account: str, output: str) -> list[PendingBatch]:
        """Pending batches of (account, output), oldest first."""
        stmt = (
            select(pending)
            .where(pending.c.account == account, pending.c.output == output)
            .order_by(pending.c.id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            PendingBatch(
                r.id, r.account, r.output, r.collection, orjson.loads(r.docs), r.created_ms
            )
            for r in rows
        ]

    async def drop_pending(self, batch_id: int) -> None:
        """Forget a delivered batch (no error if it is already gone)."""
        async with self._write() as conn:
            await conn.execute(delete(pending).where(pending.c.id == batch_id))

    async def count_pending(self) -> int:
        """Pending batches over all accounts and outputs."""
        async with self._read() as conn:
            return int((await conn.execute(select(func.count()).select_from(pending))).scalar_one())

    async def record_run(
        self,
        account: str,
        source: str,
        *,
        ok: bool,
        at_ms: int,
        error_family: str | None = None,
        error_message: str | None = None,
        next_poll_ms: int | None = None,
        newest_ms: int | None = None,
    ) -> None:
        """Remember one poll. Success sets ``last_success_ms``; failure sets the error fields
        (the last error stays visible after a later success). ``next_poll_ms``/``newest_ms``
        are updated only when given."""
        values: dict[str, Any] = {}
        if ok:
            values["last_success_ms"] = at_ms
        else:
            values.update(
                last_error_ms=at_ms,
                last_error_family=error_family,
                last_error_message=error_message,
            )
        if next_poll_ms is not None:
            values["next_poll_ms"] = next_poll_ms
        if newest_ms is not None:
            values["newest_ms"] = newest_ms
        stmt = self._insert(connector_status).values(account=account, source=source, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[connector_status.c.account, connector_status.c.source],
            set_={name: stmt.excluded[name] for name in values},
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def connector_status(self) -> list[ConnectorStatus]:
        """Every (source, account) ever recorded, ordered by source then account."""
        c = connector_status.c
        stmt = select(connector_status).order_by(c.source, c.account)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            ConnectorStatus(
                source=r.source,
                account=r.account,
                last_success_ms=r.last_success_ms,
                last_error_ms=r.last_error_ms,
                last_error_family=r.last_error_family,
                last_error_message=r.last_error_message,
                next_poll_ms=r.next_poll_ms,
                newest_ms=r.newest_ms,
            )
            for r in rows
        ]
