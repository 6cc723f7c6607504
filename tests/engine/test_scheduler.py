"""The poll loop on a fake clock: cadence, jitter, backoff, Retry-After, fatal, stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from nightbridge.engine.scheduler import (
    DEFAULT_TIMING,
    Job,
    PollTiming,
    failure_delay,
    next_poll_delay,
    run_forever,
)
from nightbridge.errors import AuthError, RateLimitedError, RemoteServerError
from nightbridge.model import Collection
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock, MemoryOutput, SpySource
from tests.engine.memory_state import MemoryState

NOW = 1_699_999_800_000
FIVE = timedelta(minutes=5)


@pytest.mark.parametrize(
    ("newest_age_s", "expected"),
    [
        (0, 300 + 20),  # just got a reading: the next one is due in 5 min, poll 20 s after
        (60, 240 + 20),
        (290, 10 + 20),  # due in 10 s: poll 30 s from now
        (330, 270 + 20),  # the reading at +300 is late but its slot passed: align to the next
        (3600 + 120, 180 + 20),  # sensor silent for an hour: stay on its 5-minute grid
    ],
)
def test_poll_aligned_to_cadence(newest_age_s: int, expected: float) -> None:
    delay = next_poll_delay(
        NOW - newest_age_s * 1000,
        NOW,
        FIVE,
        timedelta(0),
        lag=timedelta(seconds=20),
        floor=timedelta(seconds=5),
    )
    assert delay == pytest.approx(expected)


def test_poll_without_any_reading_waits_one_cadence() -> None:
    assert next_poll_delay(None, NOW, FIVE, timedelta(0)) == 300


def test_poll_never_faster_than_floor() -> None:
    delay = next_poll_delay(
        NOW - 299_000, NOW, FIVE, timedelta(0), lag=timedelta(0), floor=timedelta(seconds=15)
    )
    assert delay == 15


@pytest.mark.parametrize("r", [0.0, 0.5, 0.999])
def test_jitter_stays_within_bounds(r: float) -> None:
    base = next_poll_delay(NOW, NOW, FIVE, timedelta(0), rand=lambda: r)
    jittered = next_poll_delay(NOW, NOW, FIVE, timedelta(seconds=10), rand=lambda: r)
    assert base <= jittered <= base + 10
    assert jittered - base == pytest.approx(10 * r)


def test_backoff_grows_exponentially_up_to_the_ceiling() -> None:
    delays = [failure_delay(n, rand=lambda: 0.0) for n in range(1, 12)]
    assert delays[:5] == [5, 10, 20, 40, 80]
    assert delays[-1] == 900 == max(delays)
    assert delays == sorted(delays)


def test_backoff_jitter_only_shortens_by_up_to_a_fifth() -> None:
    assert failure_delay(3, rand=lambda: 0.999) == pytest.approx(20 * 0.8, rel=1e-2)
    assert failure_delay(100, rand=lambda: 0.999) <= 900


def test_retry_after_honoured_beyond_backoff_and_capped() -> None:
    assert failure_delay(1, 120, rand=lambda: 0.0) == 120
    assert failure_delay(10, 1, rand=lambda: 0.0) == 900
    assert failure_delay(1, 10**9) == DEFAULT_TIMING.max_retry_after.total_seconds()


def _job(account: str, clock: FakeClock, out: MemoryOutput | None = None) -> tuple[Job, SpySource]:
    spy = SpySource(SimulatorSource(account=account, clock=clock))
    return Job(spy, [out or MemoryOutput()], lookback=timedelta(hours=1)), spy


def _stop_after(clock: FakeClock, stop: asyncio.Event, span: timedelta) -> None:
    deadline = clock.now + int(span.total_seconds() * 1000)

    def check(c: FakeClock) -> None:
        if c.now >= deadline:
            stop.set()

    clock.on_sleep = check


async def test_forever_polls_on_cadence_and_keeps_output_current() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    out = MemoryOutput()
    job, spy = _job("demo", clock, out)
    _stop_after(clock, stop, timedelta(hours=2))
    result = await run_forever([job], state, clock=clock, stop=stop, rand=lambda: 0.0)
    assert result == {"demo": None}
    # polls land 20 s after each reading is due: first +320 s, then every 300 s
    assert clock.sleeps[0] == 320 and set(clock.sleeps[1:]) == {300}, clock.sleeps
    assert len(spy.windows) == len(clock.sleeps) >= 24
    assert await out.newest(Collection.ENTRIES) == (clock.now // 300_000) * 300_000 - 300_000
    assert all(r.ok and r.next_poll_ms is not None for r in state.runs)


async def test_failures_back_off_then_recover() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    job, spy = _job("demo", clock)
    spy.failures = [RemoteServerError("x: HTTP 502")] * 3 + [RateLimitedError("x: 429", 600)]
    _stop_after(clock, stop, timedelta(hours=1))
    await run_forever([job], state, clock=clock, stop=stop, rand=lambda: 0.0)
    assert clock.sleeps[:4] == [5, 10, 20, 600]
    assert [r.error_family for r in state.runs[:4]] == ["server"] * 3 + ["rate_limited"]
    assert state.runs[4].ok and job.failures == 0


async def test_fatal_stops_one_account_only() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    bad_job, bad = _job("bad", clock)
    good_out = MemoryOutput()
    good_job, good = _job("good", clock, good_out)
    bad.failures = [AuthError("vendor: credentials rejected")]
    _stop_after(clock, stop, timedelta(hours=1))
    result = await run_forever([bad_job, good_job], state, clock=clock, stop=stop)
    assert isinstance(result["bad"], AuthError) and result["good"] is None
    assert len(bad.windows) == 1 and len(good.windows) > 5
    stopped = [r for r in state.runs if r.account == "bad"]
    assert [(r.ok, r.error_family, r.next_poll_ms) for r in stopped] == [(False, "auth", None)]
    assert good_out.docs


async def test_unexpected_error_backs_off_instead_of_stopping() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    job, spy = _job("demo", clock)
    spy.failures = [ValueError("a bug")]
    _stop_after(clock, stop, timedelta(minutes=30))
    result = await run_forever([job], state, clock=clock, stop=stop, rand=lambda: 0.0)
    assert result == {"demo": None}
    assert state.runs[0].error_family == "internal" and state.runs[1].ok


async def test_stop_finishes_the_current_write_first() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    out = MemoryOutput()
    job, spy = _job("demo", clock, out)
    spy.after_fetch = stop.set  # SIGINT arrives while the batch is in flight
    await asyncio.wait_for(run_forever([job], state, clock=clock, stop=stop), timeout=5)
    assert len(spy.windows) == 1
    assert out.docs and state.cursors[("demo", "memory")] == await out.newest(Collection.ENTRIES)


async def test_stop_already_set_polls_nothing() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    stop.set()
    job, spy = _job("demo", clock)
    assert await run_forever([job], state, clock=clock, stop=stop) == {"demo": None}
    assert spy.windows == [] and state.runs == []


async def test_output_down_is_recorded_but_polling_continues_on_cadence() -> None:
    clock, state, stop = FakeClock(NOW), MemoryState(), asyncio.Event()
    out = MemoryOutput()
    out.down = True
    job, _ = _job("demo", clock, out)
    _stop_after(clock, stop, timedelta(minutes=20))
    timing = PollTiming(jitter=timedelta(0))
    await run_forever([job], state, clock=clock, stop=stop, timing=timing)
    assert state.runs[0].ok and state.runs[0].error_family == "output"
    assert await state.count_pending() >= 2
    assert all(s > 60 for s in clock.sleeps)
