"""Fakes for engine tests: an in-memory output that can be taken down, a fake clock, spies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import ClassVar

from nightbridge.errors import FatalError, RemoteServerError
from nightbridge.model import Collection, NSDocument
from nightbridge.outputs.base import WriteResult
from nightbridge.sources.base import Batch, FetchWindow, Source


class MemoryOutput:
    """Keeps documents by (collection, identifier).

    ``down``: writes raise RemoteServerError; ``fatal``: writes raise FatalError.
    ``created_ids`` lists every (collection, identifier) ever created.
    """

    kind: ClassVar[str] = "memory"

    def __init__(self, label: str = "memory") -> None:
        self.label = label
        self.docs: dict[tuple[Collection, str], NSDocument] = {}
        self.created_ids: list[tuple[Collection, str]] = []
        self.writes = 0
        self.down = False
        self.fatal = False

    async def open(self) -> None:
        pass

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        dates = [
            d.date
            for (c, _), d in self.docs.items()
            if c == collection and (device is None or d.device == device)
        ]
        return max(dates, default=None)

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        self.writes += 1
        if self.fatal:
            raise FatalError(f"{self.label}: credentials rejected")
        if self.down:
            raise RemoteServerError(f"{self.label}: HTTP 503")
        created = duplicates = 0
        for doc in docs:
            assert doc.identifier is not None, "engine must identify before writing"
            key = (collection, doc.identifier)
            if key in self.docs:
                duplicates += 1
            else:
                created += 1
                self.created_ids.append(key)
            self.docs[key] = doc
        return WriteResult(created, duplicates)

    async def aclose(self) -> None:
        pass

    def count(self, collection: Collection) -> int:
        return sum(1 for c, _ in self.docs if c == collection)


class SpySource:
    """Wraps a source: records every window asked, can fail the next fetches or stop.

    ``late``: documents the vendor "added late"; each fetch returns those inside its window.
    """

    kind: ClassVar[str] = "spy"

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.account = inner.account
        self.cadence = inner.cadence
        self.max_history = inner.max_history
        self.session_lifetime = inner.session_lifetime
        self.device = getattr(inner, "device", None)
        self.collections = getattr(inner, "collections", None)
        if hasattr(inner, "overlap"):
            self.overlap = inner.overlap
        self.windows: list[FetchWindow] = []
        self.failures: list[Exception] = []
        self.after_fetch: Callable[[], None] | None = None
        self.extra_skipped: dict[str, int] = {}
        self.late: list[NSDocument] = []

    async def check(self) -> None:
        await self.inner.check()

    async def fetch(self, window: FetchWindow) -> Batch:
        self.windows.append(window)
        if self.failures:
            raise self.failures.pop(0)
        batch = await self.inner.fetch(window)
        for doc in self.late:
            if window.start_ms <= doc.date < window.end_ms:
                batch.add(doc.model_copy())
        for key, count in self.extra_skipped.items():
            batch.skipped[key] = batch.skipped.get(key, 0) + count
        if self.after_fetch is not None:
            self.after_fetch()
        return batch

    async def aclose(self) -> None:
        await self.inner.aclose()


class FakeClock:
    """Virtual time: ``sleep`` returns at once and moves time forward (or stops on ``stop``).

    ``on_sleep(clock)`` runs after every sleep (tests use it to set the stop event).
    """

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[FakeClock], None] | None = None

    def now_ms(self) -> int:
        return self.now

    def advance(self, span: timedelta) -> None:
        self.now += int(span.total_seconds() * 1000)

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> None:
        self.sleeps.append(seconds)
        if stop is not None and stop.is_set():
            return
        self.now += int(seconds * 1000)
        if self.on_sleep is not None:
            self.on_sleep(self)
        await asyncio.sleep(0)
