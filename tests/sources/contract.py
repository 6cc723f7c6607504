"""The contract every Source passes. Each vendor's test module subclasses ``SourceContract``.

How to use it (e.g. ``tests/sources/dexcom_share/test_contract.py``)::

    from collections.abc import AsyncIterator
    import pytest
    from nightbridge.sources.base import FetchWindow, Source
    from tests.sources.contract import SourceContract

    class TestDexcomShareContract(SourceContract):
        @pytest.fixture
        async def source(self) -> AsyncIterator[Source]:
            # an opened source pointed at the fake vendor server, with good credentials
            with serve(fake_app()) as base_url:
                src = DexcomShareSource(..., server=base_url)
                yield src
                await src.aclose()

        @pytest.fixture
        def window(self) -> FetchWindow:
            # a window in which the fake holds data (the fixtures' times)
            return FetchWindow(start_ms=..., end_ms=...)

Optionally override ``now_ms`` (defaults to the wall clock) when the fake's data lies in the
past or future of today, and ``expects_data`` (True) when a window may legitimately be empty.
The subclass name must start with ``Test`` so pytest collects it; this module is never collected.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from nightbridge.identity import unique_by_identifier
from nightbridge.model import (
    Collection,
    DeviceStatus,
    Entry,
    Food,
    NSDocument,
    Profile,
    Treatment,
)
from nightbridge.model.time import MAX_FUTURE, MIN_VALID_MS, iso_utc, now_ms
from nightbridge.sources.base import Batch, FetchWindow, Source

_TYPES: dict[Collection, type[NSDocument]] = {
    Collection.ENTRIES: Entry,
    Collection.TREATMENTS: Treatment,
    Collection.DEVICESTATUS: DeviceStatus,
    Collection.PROFILE: Profile,
    Collection.FOOD: Food,
}


def _keys(batch: Batch) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for collection, docs in batch.by_collection().items():
        for doc in unique_by_identifier(docs):
            assert doc.identifier is not None
            keys.add((collection.value, doc.identifier))
    return keys


class SourceContract:
    """Behaviour the engine relies on from every Source (see the module docstring)."""

    #: False when the source may legitimately return nothing for ``window``.
    expects_data: bool = True

    @pytest.fixture
    def now_ms(self) -> int:
        """ "Now" for plausibility checks, epoch ms; override when the fake's clock is fixed."""
        return now_ms()

    def test_is_a_source(self, source: Source) -> None:
        assert isinstance(source, Source)
        assert isinstance(source.kind, str) and source.kind
        assert source.account
        assert source.cadence > timedelta(0)
        assert source.max_history >= source.cadence
        assert source.session_lifetime is None or source.session_lifetime > timedelta(0)

    async def test_check_passes_with_good_credentials(self, source: Source) -> None:
        await source.check()

    async def test_fetch_returns_model_documents_in_their_lists(
        self, source: Source, window: FetchWindow
    ) -> None:
        batch = await source.fetch(window)
        assert isinstance(batch, Batch)
        if self.expects_data:
            assert len(batch) > 0, "the window should hold data in the fake"
        for collection, docs in batch.by_collection().items():
            for doc in docs:
                assert type(doc) is _TYPES[collection]
                assert doc.collection is collection
        assert all(isinstance(n, int) and n >= 0 for n in batch.skipped.values())

    async def test_fetch_returns_only_documents_inside_the_window(
        self, source: Source, window: FetchWindow
    ) -> None:
        batch = await source.fetch(window)
        outside = [d.date for d in batch if not window.start_ms <= d.date < window.end_ms]
        assert outside == []

    async def test_times_are_plausible_utc(
        self, source: Source, window: FetchWindow, now_ms: int
    ) -> None:
        batch = await source.fetch(window)
        limit = now_ms + int(MAX_FUTURE.total_seconds() * 1000)
        for doc in batch:
            assert MIN_VALID_MS <= doc.date <= limit
            stamp = getattr(doc, "dateString", None) or getattr(doc, "created_at", None)
            if stamp:
                assert stamp == iso_utc(doc.date)

    async def test_fetching_twice_gives_the_same_identifiers(
        self, source: Source, window: FetchWindow
    ) -> None:
        first = _keys(await source.fetch(window))
        second = _keys(await source.fetch(window))
        assert first == second
