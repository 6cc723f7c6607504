"""The poll loop: every account polls shortly after its next reading is due, backs off on failure.

- **Cadence**: the next poll is ``newest + cadence + lag`` (the first such instant still in the
  future, on the grid of the newest reading), plus up to ``jitter`` so a host running many
  accounts does not hit a vendor in lock-step; never sooner than ``floor``.
- **Backoff**: after ``n`` consecutive failures wait ``base * 2**(n-1)`` capped at ``ceiling``
  (minus up to 20 % jitter), and at least what the remote asked (``retry_after``).
- **Fatal**: a ``FatalError`` stops that account (recorded) and no other.
- **Stop**: ``run_forever`` returns once ``stop`` is set; a sync in progress finishes first, so a
  fetched batch is acknowledged or stored pending, never lost. Sleeping wakes early on ``stop``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from nightbridge.engine.clock import Clock
from nightbridge.engine.cursor import DEFAULT_LOOKBACK, ms
from nightbridge.engine.pipeline import SyncReport, sync_once
from nightbridge.engine.retry import DEFAULT_POLICY, RetryPolicy
from nightbridge.engine.runs import record_failure, record_success
from nightbridge.engine.state import StateStore
from nightbridge.errors import FatalError, RetriableError
from nightbridge.outputs.base import Output
from nightbridge.sources.base import Source

Random = Callable[[], float]
#: Called after every successful sync (for metrics, the CLI's status line ...).
OnReport = Callable[[Source, SyncReport], None]


@dataclass(frozen=True, slots=True)
class PollTiming:
    """Knobs of the poll loop (seconds unless a timedelta)."""

    #: Give the vendor this long after a reading is due to publish it.
    lag: timedelta = timedelta(seconds=20)
    #: Up to this much random delay added to each poll.
    jitter: timedelta = timedelta(seconds=10)
    #: Never poll one account more often than this.
    floor: timedelta = timedelta(seconds=15)
    backoff_base: timedelta = timedelta(seconds=5)
    backoff_ceiling: timedelta = timedelta(minutes=15)
    #: A Retry-After beyond this is treated as this (a misbehaving server must not park us).
    max_retry_after: timedelta = timedelta(hours=6)


DEFAULT_TIMING = PollTiming()


def next_poll_delay(
    newest_ms: int | None,
    now_ms: int,
    cadence: timedelta,
    jitter: timedelta = DEFAULT_TIMING.jitter,
    *,
    lag: timedelta = DEFAULT_TIMING.lag,
    floor: timedelta = DEFAULT_TIMING.floor,
    rand: Random = random.random,
) -> float:
    """Seconds until the next poll after a success, given the newest reading seen (epoch ms).

    Without any reading yet, poll again one cadence from now.
    """
    step = max(1, ms(cadence))
    if newest_ms is None:
        due = now_ms + step
    else:
        due = newest_ms + step + ms(lag)
        if due <= now_ms:
            due += ((now_ms - due) // step + 1) * step
    delay = (due - now_ms) / 1000 + rand() * jitter.total_seconds()
    return max(floor.total_seconds(), delay)


def failure_delay(
    failures: int,
    retry_after: float | None = None,
    *,
    timing: PollTiming = DEFAULT_TIMING,
    rand: Random = random.random,
) -> float:
    """Seconds to wait after ``failures`` (≥ 1) consecutive failed polls."""
    base = timing.backoff_base.total_seconds()
    ceiling = timing.backoff_ceiling.total_seconds()
    exponent = min(max(failures, 1) - 1, 32)
    delay = min(ceiling, base * 2.0**exponent) * (1 - 0.2 * rand())
    if retry_after is not None:
        delay = max(delay, min(retry_after, timing.max_retry_after.total_seconds()))
    return delay


@dataclass(slots=True)
class Job:
    """One account: an open source and the open outputs it feeds."""

    source: Source
    outputs: Sequence[Output]
    lookback: timedelta = DEFAULT_LOOKBACK
    #: Filled by the loop: consecutive failures and the newest reading seen.
    failures: int = field(default=0, init=False)
    newest_ms: int | None = field(default=None, init=False)


async def run_forever(
    jobs: Sequence[Job],
    state: StateStore,
    *,
    clock: Clock,
    stop: asyncio.Event,
    timing: PollTiming = DEFAULT_TIMING,
    retry: RetryPolicy = DEFAULT_POLICY,
    rand: Random = random.random,
    on_report: OnReport | None = None,
) -> dict[str, FatalError | None]:
    """Poll every job concurrently until ``stop`` is set (or every account stopped fatally).

    Returns, per account, the ``FatalError`` that stopped it or None. Sources and outputs are
    neither opened nor closed here: the caller owns them (and so their sessions, reused across
    polls).
    """
    outcomes = await asyncio.gather(
        *(_poll(job, state, clock, stop, timing, retry, rand, on_report) for job in jobs)
    )
    return {job.source.account: outcome for job, outcome in zip(jobs, outcomes, strict=True)}


async def _poll(
    job: Job,
    state: StateStore,
    clock: Clock,
    stop: asyncio.Event,
    timing: PollTiming,
    retry: RetryPolicy,
    rand: Random,
    on_report: OnReport | None,
) -> FatalError | None:
    source = job.source
    while not stop.is_set():
        started = clock.now_ms()
        try:
            report = await sync_once(
                source,
                job.outputs,
                state,
                now_ms=started,
                lookback_ms=ms(job.lookback),
                retry=retry,
            )
        except FatalError as exc:
            await record_failure(
                state,
                source.account,
                source.kind,
                exc,
                at_ms=started,
                next_poll_ms=None,
                failures=job.failures + 1,
            )
            return exc
        except Exception as exc:  # a bug in one account must not stop the others
            job.failures += 1
            after = exc.retry_after if isinstance(exc, RetriableError) else None
            delay = failure_delay(job.failures, after, timing=timing, rand=rand)
            await record_failure(
                state,
                source.account,
                source.kind,
                exc,
                at_ms=started,
                next_poll_ms=started + int(delay * 1000),
                failures=job.failures,
            )
        else:
            job.failures = 0
            if report.newest_ms is not None:
                job.newest_ms = max(report.newest_ms, job.newest_ms or report.newest_ms)
            now = clock.now_ms()
            delay = next_poll_delay(
                job.newest_ms,
                now,
                source.cadence,
                timing.jitter,
                lag=timing.lag,
                floor=timing.floor,
                rand=rand,
            )
            await record_success(
                state,
                source.account,
                source.kind,
                report,
                at_ms=started,
                next_poll_ms=now + int(delay * 1000),
            )
            if on_report is not None:
                on_report(source, report)
        await clock.sleep(delay, stop)
    return None
