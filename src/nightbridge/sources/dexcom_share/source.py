"""``DexcomShareSource``: a Share account as a nightbridge Source.

Share only answers "the last N minutes, at most M readings" relative to *now*, so a fetch window
becomes ``minutes`` = now - window start (+1 min of slack, capped at 1440) and ``maxCount`` =
readings that fit (one per 5 min, capped at 288); what comes back is then cut to the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar

import httpx

from nightbridge.engine.sessions import Clock, monotonic
from nightbridge.errors import SkippableError
from nightbridge.model import Collection
from nightbridge.model.time import now_ms
from nightbridge.sources.base import Batch, FetchWindow
from nightbridge.sources.dexcom_share.api import (
    MAX_COUNT,
    MAX_MINUTES,
    SESSION_LIFETIME,
    DexcomShareApi,
)
from nightbridge.sources.dexcom_share.settings import DexcomSettings
from nightbridge.sources.dexcom_share.transform import to_entry

WallClock = Callable[[], int]
"""Current UTC time in epoch ms."""

CADENCE = timedelta(minutes=5)


class DexcomShareSource:
    """Sgv entries of one Share publisher account (the last 24 h only)."""

    kind: ClassVar[str] = "dexcom_share"
    #: Share only has sgv readings: the engine's gap analysis asks an output for these alone.
    collections: ClassVar[tuple[Collection, ...]] = (Collection.ENTRIES,)
    cadence: timedelta = CADENCE
    max_history: timedelta = timedelta(minutes=MAX_MINUTES)
    session_lifetime: timedelta | None = SESSION_LIFETIME

    def __init__(
        self,
        api: DexcomShareApi,
        *,
        account: str,
        device: str,
        client: httpx.AsyncClient | None = None,
        wall_clock: WallClock = now_ms,
    ) -> None:
        self.api = api
        self.account = account
        self.device = device
        self._client = client
        self._wall_clock = wall_clock

    @classmethod
    def from_settings(
        cls,
        settings: DexcomSettings,
        *,
        client: httpx.AsyncClient,
        clock: Clock = monotonic,
        wall_clock: WallClock = now_ms,
    ) -> DexcomShareSource:
        """Build the source; ``client`` is closed by ``aclose``. ``clock`` ages the session
        (monotonic seconds), ``wall_clock`` (epoch ms) turns windows into Share's minutes."""
        api = DexcomShareApi(settings, client, clock)
        return cls(
            api,
            account=settings.account,
            device=settings.device,
            client=client,
            wall_clock=wall_clock,
        )

    async def check(self) -> None:
        """Log in (both steps unless the account id is known); raises the error tree."""
        await self.api.ensure_session()

    async def fetch(self, window: FetchWindow) -> Batch:
        """Entries with ``window.start_ms <= date < window.end_ms``, oldest first."""
        batch = Batch()
        minutes, max_count = request_size(window, self._wall_clock())
        if minutes == 0:
            return batch
        answer = await self.api.latest_glucose(minutes, max_count)
        for error in answer.rejected:
            batch.count_skip(error.field)
        entries = []
        for reading in answer.readings:
            try:
                entry = to_entry(reading, self.device)
            except SkippableError as exc:
                batch.count_skip(exc.field)
                continue
            if window.start_ms <= entry.date < window.end_ms:
                entries.append(entry)
        entries.sort(key=lambda e: e.date)
        batch.entries.extend(entries)
        return batch

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def request_size(window: FetchWindow, now: int) -> tuple[int, int]:
    """(minutes, maxCount) that cover ``window`` as seen at ``now`` (epoch ms); (0, 0) when the
    window lies entirely in the future or more than 24 h back."""
    if window.end_ms <= now - MAX_MINUTES * 60_000 or window.start_ms > now:
        return 0, 0
    minutes = min(MAX_MINUTES, math.ceil(max(0, now - window.start_ms) / 60_000) + 1)
    step = int(CADENCE.total_seconds() // 60)
    return minutes, min(MAX_COUNT, math.ceil(minutes / step) + 1)
