"""The contract every Output passes (issue 3 item 5).

How to use it for a new output: subclass ``OutputContract`` in a ``test_<output>.py`` module
(the class name must start with ``Test``) and provide four fixtures as methods of the class::

    class TestMyOutput(OutputContract):
        @pytest.fixture
        async def output(self, ...) -> AsyncIterator[Output]:
            # an OPENED output on an EMPTY destination; aclose() it after the yield
            ...

        @pytest.fixture
        def stored(self, ...) -> Stored:
            # async (collection) -> list of the documents the destination holds there,
            # as Nightscout JSON dicts (read through a separate handle, not the output's cache)
            ...

        @pytest.fixture
        def break_output(self, ...) -> Breaker:
            # async () -> None: make every later write of ``output`` fail with a
            # RetriableError (close the database, take the server down, make the file
            # unwritable); ``stored`` must still work afterwards
            ...

        @pytest.fixture
        def heal_output(self, ...) -> Healer:
            # async () -> Output: undo ``break_output`` and return the output to write with
            # from now on: ``output`` itself when it recovers on its own, else a new OPENED one
            # with the same ``label`` (as after a restart; the fixture closes it afterwards)
            ...

Set ``exact_counts = False`` on the subclass when the destination cannot tell, for every
document, whether a write created it or found it already there (Nightscout v1 answers a POST with
an echo, not with a verdict). That relaxes only the created/duplicates split of ``WriteResult``:
``created + duplicates`` must still equal the number of documents written, and every assertion
on what the destination holds stays exact.

The tests write ``Entry``/``Treatment`` documents with identifiers from ``identity`` and check:
the same batch twice leaves one copy (and reports 0 created the second time when counts are
exact); an in-batch duplicate identifier is stored once (devicestatus too, which a Nightscout
server never de-duplicates); ``newest`` follows the writes (and the
device filter); a failing write raises a ``NightbridgeError`` and leaves both the destination
and ``newest`` unchanged; unknown extra fields survive; collections stay apart; an empty write is
a no-op. Through the engine (``sync_once`` over the simulator with an in-memory state): a failed
write leaves the cursor where it was and the batch pending, and once the output is healed the
batch is delivered exactly once; re-running the whole window then adds no copy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from nightbridge.engine.pipeline import SyncReport, sync_once
from nightbridge.engine.retry import NO_RETRY
from nightbridge.errors import NightbridgeError
from nightbridge.identity import identify
from nightbridge.model import Collection, DeviceStatus, Entry, NSDocument, Treatment
from nightbridge.outputs.base import Output, WriteResult
from nightbridge.sources.base import FetchWindow
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock
from tests.engine.memory_state import MemoryState

Stored = Callable[[Collection], Awaitable[list[dict[str, Any]]]]
Breaker = Callable[[], Awaitable[None]]
Healer = Callable[[], Awaitable[Output]]

#: 2023-11-14T22:13:20Z: old enough for any "plausible time" check, fixed for repeatability.
T0 = 1_700_000_000_000
FIVE_MINUTES = 300_000
#: "Now" of the engine runs: on the 5-minute grid, a little before ``T0``.
SYNC_NOW = 1_699_999_800_000
HOUR = 3_600_000
ACCOUNT = "contract"
#: What the simulator writes: sgv entries, boluses/carbs, a devicestatus every 30 minutes.
SIMULATED = (Collection.ENTRIES, Collection.TREATMENTS, Collection.DEVICESTATUS)


def entries(count: int, *, start: int = T0, device: str = "contract-cgm") -> list[NSDocument]:
    """``count`` sgv entries 5 minutes apart, identified."""
    return [
        identify(
            Entry.build(date=start + i * FIVE_MINUTES, sgv=100 + i, direction="Flat", device=device)
        )
        for i in range(count)
    ]


def treatments(count: int, *, start: int = T0) -> list[NSDocument]:
    """``count`` correction boluses 5 minutes apart, identified."""
    return [
        identify(
            Treatment.build(
                date=start + i * FIVE_MINUTES,
                eventType="Correction Bolus",
                insulin=1 + i,
                device="contract-pump",
            )
        )
        for i in range(count)
    ]


def statuses(count: int, *, start: int = T0) -> list[NSDocument]:
    """``count`` pump devicestatus documents 5 minutes apart, identified."""
    return [
        identify(
            DeviceStatus.build(
                date=start + i * FIVE_MINUTES, device="contract-pump", pump={"reservoir": 100 - i}
            )
        )
        for i in range(count)
    ]


def identifiers(docs: list[dict[str, Any]]) -> list[str]:
    """The identifiers of ``docs``, sorted (a repeated one appears repeatedly)."""
    return sorted(str(d["identifier"]) for d in docs)


async def holdings(stored: Stored) -> dict[Collection, list[str]]:
    """The sorted identifiers held in each collection the simulator writes."""
    return {c: identifiers(await stored(c)) for c in SIMULATED}


async def simulated(
    source: SimulatorSource, start_ms: int, end_ms: int
) -> dict[Collection, list[str]]:
    """The identifiers the (deterministic) simulator produces in ``[start_ms, end_ms)``."""
    batch = await source.fetch(FetchWindow(start_ms, end_ms))
    found = {
        c: [str(identify(d).identifier) for d in docs] for c, docs in batch.by_collection().items()
    }
    return {c: found.get(c, []) for c in SIMULATED}


class OutputContract:
    """Base class of the contract; see the module docstring for the fixtures to provide."""

    #: False: the output cannot split ``created`` from ``duplicates`` reliably (see above).
    exact_counts: ClassVar[bool] = True

    def assert_counts(self, result: WriteResult, *, created: int, duplicates: int) -> None:
        """``result`` is (created, duplicates); only their sum when counts are not exact."""
        if self.exact_counts:
            assert result == WriteResult(created=created, duplicates=duplicates)
        else:
            assert result.created >= 0 and result.duplicates >= 0, result
            assert result.created + result.duplicates == created + duplicates, result

    async def test_writes_and_reads_back(self, output: Output, stored: Stored) -> None:
        batch = entries(3)
        result = await output.write(Collection.ENTRIES, batch)
        self.assert_counts(result, created=3, duplicates=0)
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted(str(d.identifier) for d in batch)
        by_id = {d["identifier"]: d for d in held}
        for doc in batch:
            assert by_id[doc.identifier]["sgv"] == doc.to_nightscout()["sgv"]
            assert by_id[doc.identifier]["date"] == doc.date

    async def test_same_batch_twice_leaves_one_copy(self, output: Output, stored: Stored) -> None:
        batch = entries(5)
        first = await output.write(Collection.ENTRIES, batch)
        second = await output.write(Collection.ENTRIES, batch)
        self.assert_counts(first, created=5, duplicates=0)
        self.assert_counts(second, created=0, duplicates=5)
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted(str(d.identifier) for d in batch)

    async def test_same_treatments_twice_leave_one_copy(
        self, output: Output, stored: Stored
    ) -> None:
        batch = treatments(4)
        self.assert_counts(
            await output.write(Collection.TREATMENTS, batch), created=4, duplicates=0
        )
        self.assert_counts(
            await output.write(Collection.TREATMENTS, batch), created=0, duplicates=4
        )
        held = await stored(Collection.TREATMENTS)
        assert identifiers(held) == sorted(str(d.identifier) for d in batch)

    async def test_overlapping_window_writes_only_new(self, output: Output, stored: Stored) -> None:
        await output.write(Collection.ENTRIES, entries(4))
        result = await output.write(Collection.ENTRIES, entries(6))
        self.assert_counts(result, created=2, duplicates=4)
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted(str(d.identifier) for d in entries(6))

    async def test_in_batch_duplicate_identifier_stored_once(
        self, output: Output, stored: Stored
    ) -> None:
        one, two = entries(2)
        again = one.model_copy(deep=True)
        result = await output.write(Collection.ENTRIES, [one, again, two])
        if self.exact_counts:
            assert result.created == 2
        assert result.created + result.duplicates == 3
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted([str(one.identifier), str(two.identifier)])

    async def test_devicestatus_is_never_doubled(self, output: Output, stored: Stored) -> None:
        """Devicestatus has no natural key on a Nightscout server: repeats must not pile up."""
        batch = statuses(3)
        again = batch[0].model_copy(deep=True)
        first = await output.write(Collection.DEVICESTATUS, [*batch[:2], again])
        self.assert_counts(first, created=2, duplicates=1)
        self.assert_counts(
            await output.write(Collection.DEVICESTATUS, batch), created=1, duplicates=2
        )
        held = await stored(Collection.DEVICESTATUS)
        assert identifiers(held) == sorted(str(d.identifier) for d in batch)
        assert sorted(d["pump"]["reservoir"] for d in held) == [98, 99, 100]

    async def test_newest_reflects_writes(self, output: Output) -> None:
        assert await output.newest(Collection.ENTRIES) is None
        await output.write(Collection.ENTRIES, entries(3))
        newest = T0 + 2 * FIVE_MINUTES
        assert await output.newest(Collection.ENTRIES) == newest
        assert await output.newest(Collection.ENTRIES, device="contract-cgm") == newest
        assert await output.newest(Collection.ENTRIES, device="someone-else") is None
        await output.write(Collection.ENTRIES, entries(1, start=T0 + 10 * FIVE_MINUTES))
        assert await output.newest(Collection.ENTRIES) == T0 + 10 * FIVE_MINUTES
        assert await output.newest(Collection.TREATMENTS) is None

    async def test_failed_write_raises_and_changes_nothing(
        self, output: Output, stored: Stored, break_output: Breaker
    ) -> None:
        await output.write(Collection.ENTRIES, entries(2))
        before = identifiers(await stored(Collection.ENTRIES))
        await break_output()
        with pytest.raises(NightbridgeError):
            await output.write(Collection.ENTRIES, entries(4, start=T0 + 20 * FIVE_MINUTES))
        assert identifiers(await stored(Collection.ENTRIES)) == before
        try:
            newest = await output.newest(Collection.ENTRIES)
        except NightbridgeError:
            return  # a broken output may refuse to answer; it must not claim the new data
        assert newest == T0 + FIVE_MINUTES

    async def test_heals_and_the_retried_batch_is_stored_once(
        self, output: Output, stored: Stored, break_output: Breaker, heal_output: Healer
    ) -> None:
        batch = entries(4)
        await output.write(Collection.ENTRIES, batch[:2])
        await break_output()
        with pytest.raises(NightbridgeError):
            await output.write(Collection.ENTRIES, batch)
        healed = await heal_output()
        assert healed.label == output.label
        result = await healed.write(Collection.ENTRIES, batch)
        self.assert_counts(result, created=2, duplicates=2)
        assert identifiers(await stored(Collection.ENTRIES)) == identifiers(
            [d.to_nightscout() for d in batch]
        )
        assert await healed.newest(Collection.ENTRIES) == T0 + 3 * FIVE_MINUTES

    async def test_unknown_fields_are_kept(self, output: Output, stored: Stored) -> None:
        doc = identify(
            Entry.build(
                date=T0,
                sgv=120,
                device="contract-cgm",
                xDripExtra={"nested": [1, 2.5, "three"]},
                customFlag=True,
            )
        )
        await output.write(Collection.ENTRIES, [doc])
        (held,) = await stored(Collection.ENTRIES)
        assert held["xDripExtra"] == {"nested": [1, 2.5, "three"]}
        assert held["customFlag"] is True

    async def test_collections_stay_apart(self, output: Output, stored: Stored) -> None:
        await output.write(Collection.ENTRIES, entries(2))
        result = await output.write(Collection.TREATMENTS, treatments(3))
        self.assert_counts(result, created=3, duplicates=0)
        held = await stored(Collection.TREATMENTS)
        assert len(held) == 3 and {d["eventType"] for d in held} == {"Correction Bolus"}
        assert len(await stored(Collection.ENTRIES)) == 2

    async def test_empty_write_is_a_no_op(self, output: Output, stored: Stored) -> None:
        assert await output.write(Collection.ENTRIES, []) == WriteResult()
        assert await stored(Collection.ENTRIES) == []

    async def test_engine_cursor_stays_on_failure_and_batch_is_delivered_once(
        self, output: Output, stored: Stored, break_output: Breaker, heal_output: Healer
    ) -> None:
        clock = FakeClock(SYNC_NOW)
        source = SimulatorSource(account=ACCOUNT, seed=11, clock=clock)
        state = MemoryState()
        key = (ACCOUNT, output.label)

        first = await _sync(source, output, state, clock, lookback_ms=HOUR)
        assert first.failed_outputs == () and first.pending == 0 and first.fetched > 0
        assert state.cursors[key] == first.newest_ms == SYNC_NOW
        before = await holdings(stored)
        assert sum(len(ids) for ids in before.values()) == first.fetched

        await break_output()
        clock.advance(timedelta(minutes=35))
        new = await simulated(source, SYNC_NOW + 1, clock.now + 1)
        failed = await _sync(source, output, state, clock)
        assert failed.failed_outputs == (output.label,)
        assert state.cursors[key] == SYNC_NOW, "the cursor moved past an unacknowledged batch"
        pending = state.pending_docs(*key)
        assert failed.pending == len(pending) > 0
        held_pending = {str(doc["identifier"]) for doc in pending}
        assert {i for ids in new.values() for i in ids} <= held_pending, "a fetched doc was lost"
        assert await holdings(stored) == before

        healed = await heal_output()
        assert healed.label == output.label
        delivered = await _sync(source, healed, state, clock)
        assert delivered.failed_outputs == ()
        assert delivered.delivered == len(pending)
        if self.exact_counts:
            assert delivered.created == sum(len(ids) for ids in new.values())
        assert state.pending_docs(*key) == []
        assert state.cursors[key] == failed.newest_ms == clock.now
        after = await holdings(stored)
        assert after == {c: sorted([*before[c], *new[c]]) for c in SIMULATED}
        for ids in after.values():
            assert len(ids) == len(set(ids)), "a document was stored twice"

        rerun = await _sync(source, healed, state, clock, since_ms=SYNC_NOW - HOUR)
        assert rerun.failed_outputs == () and rerun.fetched == sum(map(len, after.values()))
        if self.exact_counts:
            assert rerun.created == 0
        assert await holdings(stored) == after


async def _sync(
    source: SimulatorSource,
    output: Output,
    state: MemoryState,
    clock: FakeClock,
    *,
    lookback_ms: int = HOUR,
    since_ms: int | None = None,
) -> SyncReport:
    """One ``sync_once`` at the clock's now, one attempt per write (no retry waits)."""
    return await sync_once(
        source,
        [output],
        state,
        now_ms=clock.now,
        lookback_ms=lookback_ms,
        since_ms=since_ms,
        retry=NO_RETRY,
    )
