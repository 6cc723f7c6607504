"""Nothing lost, nothing doubled: a process lost mid-chunk, late vendor records, history bounds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from nightbridge.engine.pipeline import sync_once
from nightbridge.identity import unique_by_identifier
from nightbridge.model import Collection, EventType, NSDocument, Treatment
from nightbridge.outputs.base import WriteResult
from nightbridge.sources.base import FetchWindow
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock, MemoryOutput, SpySource
from tests.engine.memory_state import MemoryState

NOW = 1_699_999_800_000  # on the 5-minute grid
MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
DEVICE = "nightbridge-simulator"


class ProcessLost(Exception):
    """Stands for SIGKILL: nothing in the engine catches it, nothing after it runs."""


class CrashingOutput(MemoryOutput):
    """Loses the process on the ``nth`` write (1-based) of ``collection``, once."""

    def __init__(self, collection: Collection, nth: int = 1) -> None:
        super().__init__()
        self.crash_on: tuple[Collection, int] | None = (collection, nth)
        self.seen: Counter[Collection] = Counter()

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        self.seen[collection] += 1
        if self.crash_on == (collection, self.seen[collection]):
            self.crash_on = None
            raise ProcessLost(f"killed while writing {collection}")
        return await super().write(collection, docs)


class CrashingState(MemoryState):
    """Loses the process when storing a pending batch of ``collection``, once."""

    def __init__(self, collection: Collection) -> None:
        super().__init__()
        self.crash_on: str | None = collection.value

    async def add_pending(
        self, account: str, output: str, collection: str, docs: list[dict[str, Any]]
    ) -> int:
        if collection == self.crash_on:
            self.crash_on = None
            raise ProcessLost(f"killed while storing pending {collection}")
        return await super().add_pending(account, output, collection, docs)


def source(clock: FakeClock, max_history: timedelta = timedelta(days=90)) -> SpySource:
    return SpySource(SimulatorSource(account="a", seed=5, clock=clock, max_history=max_history))


async def simulated(start_ms: int, end_ms: int) -> set[tuple[Collection, str]]:
    """Every (collection, identifier) the simulator has in ``[start_ms, end_ms)``."""
    sim = SimulatorSource(account="a", seed=5, clock=FakeClock(end_ms))
    batch = await sim.fetch(FetchWindow(start_ms, end_ms))
    keys = set()
    for collection, docs in batch.by_collection().items():
        keys |= {(collection, d.identifier or "") for d in unique_by_identifier(docs)}
    return keys


def assert_exactly(out: MemoryOutput, expected: set[tuple[Collection, str]]) -> None:
    counts = Counter(out.created_ids)
    assert max(counts.values()) == 1, "a document was created twice"
    missing = expected - set(out.docs)
    assert not missing, f"lost {len(missing)}: {sorted({c for c, _ in missing})}"
    assert set(out.docs) == expected


@pytest.mark.parametrize("collection", [Collection.TREATMENTS, Collection.DEVICESTATUS])
async def test_first_sync_lost_between_collections_restart_delivers_exactly_once(
    collection: Collection,
) -> None:
    clock, state = FakeClock(NOW), MemoryState()
    out = CrashingOutput(collection)
    with pytest.raises(ProcessLost):
        await sync_once(source(clock), [out], state, now_ms=NOW, lookback_ms=DAY)
    assert not state.cursors, "the cursor moved before every collection was acknowledged"
    assert out.count(Collection.ENTRIES) > 0 and out.count(collection) == 0
    clock.advance(timedelta(minutes=1))
    report = await sync_once(source(clock), [out], state, now_ms=clock.now, lookback_ms=DAY)
    assert report.window_start_ms == clock.now - DAY  # no information on ``collection``
    assert_exactly(out, await simulated(NOW - DAY, clock.now + 1))
    assert state.cursors[("a", "memory")] == NOW


async def test_backfill_lost_in_its_second_chunk_restart_delivers_exactly_once() -> None:
    clock, state = FakeClock(NOW - 3 * DAY), MemoryState()
    out = CrashingOutput(Collection.TREATMENTS, nth=3)  # day 1 of the earlier sync, then 2
    await sync_once(source(clock), [out], state, now_ms=clock.now, lookback_ms=DAY)
    clock.now = NOW
    with pytest.raises(ProcessLost):
        await sync_once(source(clock), [out], state, now_ms=NOW)
    cursor = state.cursors[("a", "memory")]
    assert NOW - 3 * DAY < cursor < NOW - 2 * DAY  # chunk 1 complete, chunk 2 not
    await sync_once(source(clock), [out], state, now_ms=NOW)
    assert_exactly(out, await simulated(NOW - 4 * DAY, NOW + 1))
    assert state.cursors[("a", "memory")] == NOW


async def test_lost_while_storing_pending_restart_delivers_exactly_once() -> None:
    clock, state = FakeClock(NOW), CrashingState(Collection.TREATMENTS)
    out = MemoryOutput()
    out.down = True
    with pytest.raises(ProcessLost):
        await sync_once(source(clock), [out], state, now_ms=NOW, lookback_ms=DAY)
    assert {b.collection for _, _, b in state.pending.values()} == {"entries"}
    out.down = False
    clock.advance(timedelta(minutes=5))
    report = await sync_once(source(clock), [out], state, now_ms=clock.now, lookback_ms=DAY)
    assert report.delivered > 0 and await state.count_pending() == 0
    assert_exactly(out, await simulated(NOW - DAY, clock.now + 1))


def late_bolus(date_ms: int) -> Treatment:
    return Treatment.build(
        eventType=EventType.CORRECTION_BOLUS, insulin=1.2, date=date_ms, device=DEVICE
    )


async def test_late_record_inside_the_overlap_is_delivered_once() -> None:
    clock, state = FakeClock(NOW), MemoryState()
    spy, out = source(clock), MemoryOutput()
    await sync_once(spy, [out], state, now_ms=NOW, lookback_ms=DAY)
    spy.late = [late_bolus(NOW - 40 * MIN)]  # entered after the fact, dated 40 min ago
    clock.advance(timedelta(minutes=5))
    report = await sync_once(spy, [out], state, now_ms=clock.now)
    assert spy.windows[-1].start_ms == NOW + 1 - HOUR
    assert report.created == 2  # the late bolus and the new reading
    assert report.duplicates == report.fetched - 2
    late = spy.late[0]
    assert any(
        d.date == late.date and d.collection == Collection.TREATMENTS for d in out.docs.values()
    )
    clock.advance(timedelta(minutes=5))
    again = await sync_once(spy, [out], state, now_ms=clock.now)
    assert again.created == 1 and max(Counter(out.created_ids).values()) == 1


async def test_late_record_older_than_the_overlap_needs_a_backfill() -> None:
    clock, state = FakeClock(NOW), MemoryState()
    spy, out = source(clock), MemoryOutput()
    await sync_once(spy, [out], state, now_ms=NOW, lookback_ms=DAY)
    spy.late = [late_bolus(NOW - 3 * HOUR)]
    clock.advance(timedelta(minutes=5))
    poll = await sync_once(spy, [out], state, now_ms=clock.now)
    assert poll.created == 1  # only the new reading: the poll re-reads one hour
    backfill = await sync_once(spy, [out], state, now_ms=clock.now, since_ms=NOW - 6 * HOUR)
    assert backfill.created == 1


async def test_output_holding_only_ancient_data_is_not_asked_beyond_max_history() -> None:
    clock, state = FakeClock(NOW), MemoryState()
    spy, out = source(clock, max_history=timedelta(days=2)), MemoryOutput()
    await out.write(Collection.TREATMENTS, unique_by_identifier([late_bolus(NOW - 200 * DAY)]))
    report = await sync_once(spy, [out], state, now_ms=NOW, lookback_ms=DAY)
    assert report.window_start_ms == NOW - 2 * DAY
    assert min(w.start_ms for w in spy.windows) == NOW - 2 * DAY


async def test_ancient_cursor_is_not_asked_beyond_max_history() -> None:
    clock, state = FakeClock(NOW), MemoryState()
    await state.set_cursor("a", "memory", NOW - 200 * DAY)
    spy = source(clock, max_history=timedelta(days=2))
    report = await sync_once(spy, [MemoryOutput()], state, now_ms=NOW)
    assert report.window_start_ms == NOW - 2 * DAY == min(w.start_ms for w in spy.windows)


async def test_overlap_never_reaches_past_max_history() -> None:
    clock, state = FakeClock(NOW), MemoryState()
    await state.set_cursor("a", "memory", NOW - 10 * MIN)
    spy = source(clock, max_history=timedelta(minutes=30))  # overlap 1 h > what it keeps
    await sync_once(spy, [MemoryOutput()], state, now_ms=NOW)
    assert [w.start_ms for w in spy.windows] == [NOW - 30 * MIN]
