"""LibreLinkUpSource passes the contract every source passes, over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nightbridge.sources.base import FetchWindow, Source
from nightbridge.sources.librelinkup import LibreLinkUpSource
from tests.fakes.librelinkup import FakeLibreLinkUp
from tests.fakes.loopback import serve
from tests.sources.contract import SourceContract
from tests.sources.librelinkup.conftest import NOW_S, settings

NOW_MS = int(NOW_S * 1000)


class TestLibreLinkUpContract(SourceContract):
    @pytest.fixture
    def now_ms(self) -> int:
        return NOW_MS

    @pytest.fixture
    async def source(self) -> AsyncIterator[Source]:
        fake = FakeLibreLinkUp(clock=lambda: NOW_S)
        with serve(fake) as base_url:
            async with httpx.AsyncClient(timeout=5) as client:
                src = LibreLinkUpSource.from_settings(settings(server=base_url), client=client)
                yield src
                await src.aclose()

    @pytest.fixture
    def window(self) -> FetchWindow:
        return FetchWindow(start_ms=NOW_MS - 6 * 3_600_000, end_ms=NOW_MS)
