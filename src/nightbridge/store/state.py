"""Engine state in the store: cursors, pending batches and connector status.

Implements ``nightbridge.engine.state.StateStore``. Times are epoch ms (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from nightbridge.model.time import now_ms
from nightbridge.store.db import Database

_SET_CURSOR = (
    "INSERT INTO cursors (account, output, position_ms, updated_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (account, output) DO UPDATE"
    " SET position_ms = excluded.position_ms, updated_ms = excluded.updated_ms"
)
_PENDING_COLUMNS = "id, account, output, collection, docs, created_ms"
_STATUS_COLUMNS = (
    "source, account, last_success_ms, last_error_ms, last_error_family, last_error_message,"
    " next_poll_ms, newest_ms"
)


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
    """Cursor, pending and run-log operations of ``Store`` (plain SQL, both databases)."""

    async def _read_rows(self, sql: str, *values: Any) -> list[Any]:
        async with self._read() as conn:
            return list((await conn.exec_driver_sql(self._sql(sql), values)).all())

    async def _write_sql(self, sql: str, *values: Any, returning: bool = False) -> list[Any]:
        """Run one write statement; the rows of its RETURNING clause when ``returning``."""
        async with self._write() as conn:
            result = await conn.exec_driver_sql(self._sql(sql), values)
            return list(result.all()) if returning else []

    async def get_cursor(self, account: str, output: str) -> int | None:
        """Epoch ms the (account, output) cursor stands at, or None if never set."""
        rows = await self._read_rows(
            "SELECT position_ms FROM cursors WHERE account = ? AND output = ?", account, output
        )
        return int(rows[0][0]) if rows else None

    async def set_cursor(self, account: str, output: str, position_ms: int) -> None:
        """Move the cursor to ``position_ms`` (also backwards: the engine decides)."""
        await self._write_sql(_SET_CURSOR, account, output, position_ms, now_ms())

    async def add_pending(
        self, account: str, output: str, collection: str, docs: list[dict[str, Any]]
    ) -> int:
        """Keep ``docs`` (JSON dicts) for later delivery; returns the batch id."""
        rows = await self._write_sql(
            "INSERT INTO pending (account, output, collection, docs, created_ms)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            account,
            output,
            collection,
            orjson.dumps(docs).decode(),
            now_ms(),
            returning=True,
        )
        return int(rows[0][0])

    async def list_pending(self, account: str, output: str) -> list[PendingBatch]:
        """Pending batches of (account, output), oldest first."""
        rows = await self._read_rows(
            f"SELECT {_PENDING_COLUMNS} FROM pending WHERE account = ? AND output = ? ORDER BY id",
            account,
            output,
        )
        return [
            PendingBatch(ident, acc, out, coll, orjson.loads(docs), created)
            for ident, acc, out, coll, docs, created in rows
        ]

    async def drop_pending(self, batch_id: int) -> None:
        """Forget a delivered batch (no error if it is already gone)."""
        await self._write_sql("DELETE FROM pending WHERE id = ?", batch_id)

    async def count_pending(self) -> int:
        """Pending batches over all accounts and outputs."""
        return int((await self._read_rows("SELECT count(*) FROM pending"))[0][0])

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
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values)
        await self._write_sql(
            f"INSERT INTO connector_status (account, source, {names}) VALUES (?, ?, {marks})"
            f" ON CONFLICT (account, source) DO UPDATE SET {updates}",
            account,
            source,
            *values.values(),
        )

    async def connector_status(self) -> list[ConnectorStatus]:
        """Every (source, account) ever recorded, ordered by source then account."""
        rows = await self._read_rows(
            f"SELECT {_STATUS_COLUMNS} FROM connector_status ORDER BY source, account"
        )
        return [ConnectorStatus(*row) for row in rows]
