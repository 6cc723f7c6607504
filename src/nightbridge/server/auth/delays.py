"""Each failed authentication slows the failing address down (cgm-remote-monitor's delay list).

Nightscout adds ``AUTH_FAIL_DELAY`` (5000 ms) per failure to the delay of later requests from the
same IP, cumulative, forgotten on the next success or 60 s after the last failure. We do the
same with an injectable ``clock`` (epoch seconds) and ``sleep``; a delay longer than
``max_wait_s`` is not slept at all but answered 429 with ``Retry-After`` so a hammering client
cannot pin connections.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nightbridge.server.errors import ApiError

FORGET_AFTER_S = 60.0
#: Addresses tracked at most (oldest forgotten first) so a flood cannot exhaust memory.
MAX_ADDRESSES = 10_000


@dataclass(slots=True)
class _Record:
    failures: int
    last_failure: float


class FailureDelays:
    """Per-address penalties. ``delay_s`` per failure; ``max_wait_s`` cap before answering 429."""

    def __init__(
        self,
        delay_s: float = 5.0,
        *,
        max_wait_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.delay_s = delay_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._records: dict[str, _Record] = {}

    def penalty(self, address: str) -> float:
        """Seconds a request from ``address`` must still wait (0 when none)."""
        record = self._records.get(address)
        if record is None:
            return 0.0
        now = self._clock()
        if now - record.last_failure >= FORGET_AFTER_S:
            del self._records[address]
            return 0.0
        return max(0.0, record.last_failure + record.failures * self.delay_s - now)

    async def wait(self, address: str) -> None:
        """Sleep out the address's penalty, or raise 429 when it exceeds ``max_wait_s``."""
        if not self._records:
            return
        remaining = self.penalty(address)
        if remaining <= 0:
            return
        if remaining > self.max_wait_s:
            raise ApiError(
                429,
                "Too Many Requests",
                "Too many failed authentication attempts from this address",
                headers={"Retry-After": str(math.ceil(remaining))},
            )
        await self._sleep(remaining)

    def record_failure(self, address: str) -> None:
        record = self._records.get(address)
        now = self._clock()
        if record is None or now - record.last_failure >= FORGET_AFTER_S:
            if len(self._records) >= MAX_ADDRESSES:
                del self._records[next(iter(self._records))]
            self._records[address] = _Record(1, now)
        else:
            record.failures += 1
            record.last_failure = now

    def clear(self, address: str) -> None:
        self._records.pop(address, None)

    def failures(self, address: str) -> int:
        record = self._records.get(address)
        return record.failures if record else 0
