"""DexcomShareSource passes the contract every source passes, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nightbridge.sources.base import FetchWindow, Source
from nightbridge.sources.dexcom_share import DexcomShareSource
from tests.fakes.dexcom_share import FakeDexcomShare
from tests.fakes.loopback import serve
from tests.sources.contract import SourceContract
from tests.sources.dexcom_share.support import NOW_MS, settings


class TestDexcomShareContract(SourceContract):
    @pytest.fixture
    def now_ms(self) -> int:
        return NOW_MS

    @pytest.fixture
    async def source(self) -> AsyncIterator[Source]:
        fake = FakeDexcomShare(now_ms=lambda: NOW_MS)
        with serve(fake.app) as base_url:
            client = httpx.AsyncClient(timeout=5)
            src = DexcomShareSource.from_settings(
                settings(server=base_url), client=client, wall_clock=lambda: NOW_MS
            )
            yield src
            await src.aclose()

    @pytest.fixture
    def window(self) -> FetchWindow:
        return FetchWindow(start_ms=NOW_MS - 6 * 3_600_000, end_ms=NOW_MS)
