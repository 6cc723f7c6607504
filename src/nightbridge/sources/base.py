"""What every source is: a small Protocol, plus the values it exchanges with the engine.

A source speaks one vendor's wire protocol and returns model documents (already transformed,
not yet identified). It never writes anything and never retries on its own beyond the one
re-login its auth flow does on "session expired": retries and backoff are the engine's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar, Protocol, runtime_checkable

from nightbridge.model import Collection, DeviceStatus, Entry, Food, NSDocument, Profile, Treatment


@dataclass(frozen=True, slots=True)
class FetchWindow:
    """The half-open time range ``[start_ms, end_ms)`` a fetch asks for, UTC epoch ms."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError(f"empty window: {self.start_ms} > {self.end_ms}")

    @property
    def span(self) -> timedelta:
        return timedelta(milliseconds=self.end_ms - self.start_ms)


@dataclass(slots=True)
class Batch:
    """What one fetch produced: documents per collection and how many records were skipped."""

    entries: list[Entry] = field(default_factory=list)
    treatments: list[Treatment] = field(default_factory=list)
    devicestatus: list[DeviceStatus] = field(default_factory=list)
    profile: list[Profile] = field(default_factory=list)
    food: list[Food] = field(default_factory=list)
    #: Malformed vendor records counted and left out (SkippableError), by field name.
    skipped: dict[str, int] = field(default_factory=dict)

    def by_collection(self) -> dict[Collection, list[NSDocument]]:
        """Non-empty collections of this batch, in upload order (entries first)."""
        pairs: list[tuple[Collection, list[NSDocument]]] = [
            (Collection.ENTRIES, list(self.entries)),
            (Collection.TREATMENTS, list(self.treatments)),
            (Collection.DEVICESTATUS, list(self.devicestatus)),
            (Collection.PROFILE, list(self.profile)),
            (Collection.FOOD, list(self.food)),
        ]
        return {c: docs for c, docs in pairs if docs}

    def add(self, doc: NSDocument) -> None:
        """Append ``doc`` to the list of its collection."""
        getattr(self, doc.collection.value).append(doc)

    def count_skip(self, field_name: str | None) -> None:
        key = field_name or "record"
        self.skipped[key] = self.skipped.get(key, 0) + 1

    def __len__(self) -> int:
        return sum(len(docs) for docs in self.by_collection().values())

    def __iter__(self) -> Iterator[NSDocument]:
        for docs in self.by_collection().values():
            yield from docs


@runtime_checkable
class Source(Protocol):
    """One configured vendor account.

    ``cadence``: how often the vendor gets a new reading (the poll loop aligns to it).
    ``max_history``: how far back the vendor keeps data (never ask for more).
    ``session_lifetime``: how long a login may be reused (None: no session).
    """

    kind: ClassVar[str]
    account: str
    cadence: timedelta
    max_history: timedelta
    session_lifetime: timedelta | None

    async def check(self) -> None:
        """Log in (or make the cheapest authenticated call); raise the error tree on failure."""

    async def fetch(self, window: FetchWindow) -> Batch:
        """Documents whose time lies in ``window``. Raises FatalError / RetriableError."""

    async def aclose(self) -> None:
        """Release the HTTP client and session."""
