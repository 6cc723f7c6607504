"""What the engine needs to remember between runs, as a Protocol the store implements.

The engine keeps three things per account and output, all behind ``StateStore``:

- the **cursor** (``position_ms``): epoch ms of the newest document the output acknowledged;
- **pending batches**: documents fetched for an output that could not take them, kept until it
  can (so a fetched batch is never lost, even across restarts);
- the **run log**: the outcome of every poll (for status, health and backoff decisions).

``nightbridge.store.Store`` implements it on SQLite/PostgreSQL; tests use an in-memory one.
Pending documents are plain Nightscout JSON (``NSDocument.to_nightscout()``, identifier set).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PendingBatch(Protocol):
    """One stored batch: its ``id``, the ``collection`` name and the documents as JSON dicts."""

    @property
    def id(self) -> int: ...

    @property
    def collection(self) -> str: ...

    @property
    def docs(self) -> list[dict[str, Any]]: ...


@runtime_checkable
class StateStore(Protocol):
    """Cursors, pending batches and run outcomes. Every method is a coroutine."""

    async def get_cursor(self, account: str, output: str) -> int | None:
        """Epoch ms the (account, output) cursor stands at, or None if never written."""

    async def set_cursor(self, account: str, output: str, position_ms: int) -> None:
        """Move the cursor; called only after the output acknowledged everything up to it."""

    async def add_pending(
        self, account: str, output: str, collection: str, docs: list[dict[str, Any]]
    ) -> int:
        """Keep ``docs`` for later delivery to ``output``; returns the new batch id."""

    async def list_pending(self, account: str, output: str) -> Sequence[PendingBatch]:
        """Pending batches of (account, output), oldest (lowest id) first."""

    async def drop_pending(self, batch_id: int) -> None:
        """Forget a batch once its output acknowledged it."""

    async def count_pending(self) -> int:
        """Number of pending batches over all accounts and outputs."""

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
        """Remember the outcome of one poll of ``account`` (source kind ``source``)."""
