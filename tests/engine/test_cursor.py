"""Gap analysis arithmetic: cursor, what the output holds, lookback, overlap, history floor."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest

from nightbridge.engine.cursor import (
    BATCH_COLLECTIONS,
    DEFAULT_OVERLAP,
    collections_of,
    output_start,
    overlap_of,
)
from nightbridge.model import Collection
from nightbridge.sources.base import Batch, FetchWindow

NOW = 1_699_999_800_000
HOUR = 3_600_000
DAY = 24 * HOUR


@pytest.mark.parametrize(
    ("cursor", "held", "since", "expected"),
    [
        (None, (), None, NOW - DAY),  # nothing known: look back
        (NOW - HOUR, (), None, NOW - 2 * HOUR + 1),  # cursor minus overlap
        (NOW - HOUR, (NOW - 5 * HOUR,), None, NOW - 2 * HOUR + 1),  # cursor wins over held
        (None, (NOW - HOUR, NOW - 3 * HOUR), None, NOW - 4 * HOUR + 1),  # oldest held
        (None, (NOW - HOUR, None), None, NOW - DAY),  # a collection with nothing: lookback
        (None, (NOW - 30 * DAY, None), None, NOW - 7 * DAY),  # never past max_history
        (None, (), NOW - 2 * DAY, NOW - 2 * DAY),  # backfill: no overlap
        (NOW - 8 * DAY, (), None, NOW - 7 * DAY),
    ],
)
def test_output_start(
    cursor: int | None, held: tuple[int | None, ...], since: int | None, expected: int
) -> None:
    start = output_start(
        now_ms=NOW,
        max_history=timedelta(days=7),
        cursor_ms=cursor,
        held_ms=held,
        lookback=timedelta(days=1),
        overlap=timedelta(hours=1),
        since_ms=since,
    )
    assert start == expected


class _Bare:
    """A source that declares neither ``collections`` nor ``overlap``."""

    kind: ClassVar[str] = "bare"
    account = "b"
    cadence = timedelta(minutes=5)
    max_history = timedelta(minutes=20)
    session_lifetime: timedelta | None = None

    async def check(self) -> None:
        pass

    async def fetch(self, window: FetchWindow) -> Batch:
        return Batch()

    async def aclose(self) -> None:
        pass


def test_undeclared_source_may_produce_every_collection_a_batch_holds() -> None:
    assert collections_of(_Bare()) == BATCH_COLLECTIONS
    assert set(BATCH_COLLECTIONS) == {c for c in Collection if hasattr(Batch(), c.value)}


def test_overlap_defaults_and_is_capped_by_what_the_source_keeps() -> None:
    bare = _Bare()
    assert bare.max_history < DEFAULT_OVERLAP
    assert overlap_of(bare) == timedelta(minutes=20)
    bare.max_history = timedelta(days=1)
    assert overlap_of(bare) == DEFAULT_OVERLAP
    bare.overlap = timedelta(minutes=-5)  # type: ignore[attr-defined]
    assert overlap_of(bare) == timedelta(0)
