"""Time as the engine sees it, injected so tests run on a fake clock and never sleep.

``WallClock`` only tells the time (what a source needs to never produce future data);
``Clock`` can also sleep, waking early when a stop event is set (clean shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol


class WallClock(Protocol):
    def now_ms(self) -> int:
        """Current time, UTC epoch milliseconds."""


class Clock(WallClock, Protocol):
    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> None:
        """Wait ``seconds`` or until ``stop`` is set, whichever comes first."""


class SystemClock:
    """The real clock: wall time and ``asyncio`` waiting."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float, stop: asyncio.Event | None = None) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
