"""sync_once: cursors after ack, pending delivery, independent outputs, gap analysis."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import ClassVar

import pytest

from nightbridge.engine.pipeline import sync_once
from nightbridge.errors import CannotConnectError, FatalError, SkippableError
from nightbridge.model import Collection
from nightbridge.sources.base import Batch, FetchWindow
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock, MemoryOutput, SpySource
from tests.engine.memory_state import MemoryState

NOW = 1_699_999_800_000  # on the 5-minute grid
MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000


def make(now: int = NOW) -> tuple[FakeClock, SpySource, MemoryState]:
    clock = FakeClock(now)
    return clock, SpySource(SimulatorSource(account="a", seed=3, clock=clock)), MemoryState()


async def test_first_sync_looks_back_and_advances_cursor_after_ack() -> None:
    _, source, state = make()
    out = MemoryOutput()
    report = await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    assert report.window_start_ms == NOW - DAY
    assert report.window_end_ms == NOW + 1
    assert out.count(Collection.ENTRIES) == 289  # both ends of the day on the grid
    assert report.fetched == len(out.docs) == report.created
    assert report.newest_ms == NOW
    assert state.cursors[("a", "memory")] == NOW
    assert report.pending == 0 and report.failed_outputs == ()


async def test_rerunning_a_window_creates_nothing() -> None:
    _, source, state = make()
    out = MemoryOutput()
    first = await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    again = await sync_once(source, [out], state, now_ms=NOW)
    assert again.created == 0 and again.duplicates == again.fetched > 0  # the overlap
    backfill = await sync_once(source, [out], state, now_ms=NOW, since_ms=NOW - DAY)
    assert backfill.created == 0
    assert backfill.duplicates == first.created


async def test_next_sync_starts_after_cursor() -> None:
    clock, source, state = make()
    out = MemoryOutput()
    await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    clock.advance(timedelta(minutes=10))
    report = await sync_once(source, [out], state, now_ms=clock.now)
    assert source.windows[-1].start_ms == NOW + 1 - HOUR  # the simulator's overlap
    assert report.created == 2  # the readings at +5 and +10 minutes
    assert report.duplicates == report.fetched - 2 > 0
    assert state.cursors[("a", "memory")] == NOW + 10 * MIN


async def test_failed_output_keeps_cursor_and_stores_pending() -> None:
    _, source, state = make()
    out = MemoryOutput()
    out.down = True
    report = await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    assert ("a", "memory") not in state.cursors
    assert report.failed_outputs == ("memory",)
    assert report.pending == report.fetched > 0
    assert len(state.pending_docs("a", "memory")) == report.fetched


async def test_pending_is_not_stored_twice_while_output_stays_down() -> None:
    clock, source, state = make()
    out = MemoryOutput()
    out.down = True
    await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    clock.advance(timedelta(minutes=15))
    second = await sync_once(source, [out], state, now_ms=clock.now, lookback_ms=DAY)
    ids = Counter(
        (b.collection, d["identifier"]) for _, _, b in state.pending.values() for d in b.docs
    )
    assert second.pending == 3  # the readings at +5, +10 and +15 minutes
    assert max(ids.values()) == 1
    assert source.windows[-1].start_ms == NOW + 1


async def test_pending_delivered_next_time_exactly_once() -> None:
    clock, source, state = make()
    out = MemoryOutput()
    out.down = True
    down = await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    out.down = False
    clock.advance(timedelta(minutes=5))
    up = await sync_once(source, [out], state, now_ms=clock.now, lookback_ms=DAY)
    assert up.delivered == down.pending
    assert await state.count_pending() == 0
    assert Counter(out.created_ids).most_common(1)[0][1] == 1
    assert len(out.docs) == up.created == down.pending + 1  # the reading at +5 minutes
    # Delivering pending batches does not move the cursor: what the output now holds decides.
    assert up.window_start_ms <= NOW + 1 - HOUR
    assert up.duplicates == up.fetched - 1
    assert state.cursors[("a", "memory")] == clock.now
    third = await sync_once(source, [out], state, now_ms=clock.now)
    assert third.created == 0 and third.delivered == 0


async def test_two_outputs_keep_independent_cursors() -> None:
    clock, source, state = make()
    good, bad = MemoryOutput("good"), MemoryOutput("bad")
    bad.down = True
    report = await sync_once(source, [good, bad], state, now_ms=NOW, lookback_ms=DAY)
    assert state.cursors[("a", "good")] == NOW
    assert ("a", "bad") not in state.cursors
    assert report.created == len(good.docs) and not bad.docs
    bad.down = False
    clock.advance(timedelta(minutes=5))
    await sync_once(source, [good, bad], state, now_ms=clock.now)
    assert set(good.docs) == set(bad.docs)
    assert state.cursors[("a", "good")] == state.cursors[("a", "bad")] == clock.now


async def test_output_newest_used_when_there_is_no_cursor() -> None:
    _, source, state = make()
    out = MemoryOutput()
    await sync_once(source, [out], MemoryState(), now_ms=NOW - 2 * 60 * MIN, lookback_ms=DAY)
    held = [await out.newest(c, "nightbridge-simulator") for c in SimulatorSource.collections]
    report = await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    known = [h for h in held if h is not None]
    assert len(known) == 3 and known[0] == NOW - 2 * HOUR
    assert source.windows[-1].start_ms == min(known) + 1 - HOUR  # the oldest, minus overlap
    assert out.count(Collection.ENTRIES) == 289 + 24
    assert report.created >= 24


@pytest.mark.parametrize("since_days", [None, 1000])
async def test_window_never_exceeds_max_history(since_days: int | None) -> None:
    _, source, state = make()
    since = None if since_days is None else NOW - since_days * DAY
    report = await sync_once(
        source, [MemoryOutput()], state, now_ms=NOW, since_ms=since, lookback_ms=400 * DAY
    )
    floor = NOW - 90 * DAY
    assert report.window_start_ms == floor
    assert min(w.start_ms for w in source.windows) == floor
    assert all(w.end_ms - w.start_ms <= DAY for w in source.windows)
    assert report.newest_ms == NOW


async def test_progress_reported_per_chunk() -> None:
    _, source, state = make()
    seen: list[tuple[int, int]] = []
    await sync_once(
        source,
        [MemoryOutput()],
        state,
        now_ms=NOW,
        since_ms=NOW - 3 * DAY,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert len(seen) == 4 == len(source.windows)
    assert seen[-1][0] == seen[-1][1] == 3 * DAY + 1
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_source_skips_are_counted() -> None:
    _, source, state = make()
    source.extra_skipped = {"sgv": 2}
    report = await sync_once(source, [MemoryOutput()], state, now_ms=NOW, lookback_ms=60 * MIN)
    assert report.skipped == 2


async def test_fatal_output_error_propagates_and_keeps_cursor() -> None:
    _, source, state = make()
    out = MemoryOutput()
    out.fatal = True
    with pytest.raises(FatalError):
        await sync_once(source, [out], state, now_ms=NOW, lookback_ms=DAY)
    assert not state.cursors and not state.pending


async def test_source_failure_propagates_and_moves_nothing() -> None:
    _, source, state = make()
    source.failures = [CannotConnectError("simulator: cannot connect")]
    with pytest.raises(CannotConnectError):
        await sync_once(source, [MemoryOutput()], state, now_ms=NOW, lookback_ms=DAY)
    assert not state.cursors and not state.pending


async def test_stop_between_chunks_keeps_what_was_written() -> None:
    _, source, state = make()
    stop = asyncio.Event()
    source.after_fetch = stop.set
    out = MemoryOutput()
    report = await sync_once(source, [out], state, now_ms=NOW, since_ms=NOW - 3 * DAY, stop=stop)
    assert len(source.windows) == 1
    assert report.created == len(out.docs) > 0
    assert state.cursors[("a", "memory")] == report.newest_ms


class _Outside:
    """A source that answers more than asked (and a record in the future)."""

    kind: ClassVar[str] = "outside"
    account = "o"
    cadence = timedelta(minutes=5)
    max_history = timedelta(days=1)
    session_lifetime: timedelta | None = None

    async def check(self) -> None:
        pass

    async def fetch(self, window: FetchWindow) -> Batch:
        from nightbridge.model import Entry

        batch = Batch()
        for date in (window.start_ms - MIN, window.start_ms, NOW + MIN):
            batch.add(Entry.build(date=date, sgv=100, device="x"))
        return batch

    async def aclose(self) -> None:
        pass


async def test_documents_outside_the_window_are_left_to_their_own_window() -> None:
    out = MemoryOutput()
    report = await sync_once(_Outside(), [out], MemoryState(), now_ms=NOW, lookback_ms=MIN * 10)
    assert report.fetched == 1
    assert [d.date for d in out.docs.values()] == [NOW - 10 * MIN]


async def test_pending_document_that_became_invalid_is_skipped() -> None:
    state = MemoryState()
    await state.add_pending("a", "memory", "entries", [{"date": NOW, "sgv": 0}])
    _, source, _ = make()
    report = await sync_once(source, [MemoryOutput()], state, now_ms=NOW, lookback_ms=MIN)
    assert report.skipped == 1
    assert await state.count_pending() == 0


def test_skippable_is_an_error_the_pipeline_knows() -> None:
    assert issubclass(SkippableError, Exception)
