"""An in-memory ``StateStore`` for engine tests (the real one is ``nightbridge.store.Store``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MemoryBatch:
    id: int
    collection: str
    docs: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RunRecord:
    account: str
    source: str
    ok: bool
    at_ms: int
    error_family: str | None
    error_message: str | None
    next_poll_ms: int | None
    newest_ms: int | None


class MemoryState:
    """Cursors, pending batches and runs in dicts; documents are deep-copied like a database."""

    def __init__(self) -> None:
        self.cursors: dict[tuple[str, str], int] = {}
        self.pending: dict[int, tuple[str, str, MemoryBatch]] = {}
        self.runs: list[RunRecord] = []
        self.cursor_history: list[tuple[str, str, int]] = []
        self._next_id = 1

    async def get_cursor(self, account: str, output: str) -> int | None:
        return self.cursors.get((account, output))

    async def set_cursor(self, account: str, output: str, position_ms: int) -> None:
        self.cursors[(account, output)] = position_ms
        self.cursor_history.append((account, output, position_ms))

    async def add_pending(
        self, account: str, output: str, collection: str, docs: list[dict[str, Any]]
    ) -> int:
        batch_id = self._next_id
        self._next_id += 1
        batch = MemoryBatch(batch_id, collection, copy.deepcopy(docs))
        self.pending[batch_id] = (account, output, batch)
        return batch_id

    async def list_pending(self, account: str, output: str) -> list[MemoryBatch]:
        return [
            copy.deepcopy(b)
            for (a, o, b) in sorted(self.pending.values(), key=lambda t: t[2].id)
            if (a, o) == (account, output)
        ]

    async def drop_pending(self, batch_id: int) -> None:
        del self.pending[batch_id]

    async def count_pending(self) -> int:
        return len(self.pending)

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
        self.runs.append(
            RunRecord(
                account, source, ok, at_ms, error_family, error_message, next_poll_ms, newest_ms
            )
        )

    def pending_docs(self, account: str, output: str) -> list[dict[str, Any]]:
        return [
            doc
            for (a, o, b) in self.pending.values()
            if (a, o) == (account, output)
            for doc in b.docs
        ]
