"""The one retry policy for a single request or attempt (a fetch of one chunk, one write).

Bounded in attempts and total time, exponentially jittered (stamina), honouring the remote's
``RetriableError.retry_after`` when it fits the budget. ``FatalError`` is never retried (retrying
a wrong password walks the account towards a vendor lockout) and neither is ``SkippableError``.
A wait the remote asks for that exceeds ``max_retry_after`` is left to the scheduler's poll
backoff instead of being slept here: retries are never nested inside the poll cadence.

Tests switch off the waiting with ``stamina.set_testing(True)`` (or ``attempts=1``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import stamina

from nightbridge.errors import RetriableError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries within ``timeout`` total; waits ``wait_initial`` … ``wait_max``."""

    attempts: int = 3
    timeout: timedelta = timedelta(seconds=60)
    wait_initial: timedelta = timedelta(seconds=1)
    wait_max: timedelta = timedelta(seconds=10)
    wait_jitter: timedelta = timedelta(seconds=1)
    #: A Retry-After longer than this is not waited for here (the scheduler backs off instead).
    max_retry_after: timedelta = timedelta(seconds=30)

    def should_retry(self, exc: Exception) -> bool | float:
        """stamina backoff hook: False, True (default backoff) or seconds to wait."""
        if not isinstance(exc, RetriableError):
            return False
        if exc.retry_after is None:
            return True
        if exc.retry_after > self.max_retry_after.total_seconds():
            return False
        return max(exc.retry_after, 0.001)


DEFAULT_POLICY = RetryPolicy()
#: No retry at all: one attempt (for callers that retry at another layer, and for tests).
NO_RETRY = RetryPolicy(attempts=1)


async def call_with_retry(
    fn: Callable[[], Awaitable[T]], policy: RetryPolicy = DEFAULT_POLICY, *, name: str = "call"
) -> T:
    """Await ``fn()`` under ``policy``; the last error propagates once the budget is spent."""
    if policy.attempts <= 1:
        return await fn()
    async for attempt in stamina.retry_context(
        on=policy.should_retry,
        attempts=policy.attempts,
        timeout=policy.timeout,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    ):
        with attempt:
            return await fn()
    raise AssertionError(f"{name}: retry loop ended without a result")  # pragma: no cover
