"""Fixtures: the fake Share server on an in-process ASGI transport with a hand-driven clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nightbridge.sources.dexcom_share import DexcomShareApi, DexcomShareSource
from tests.fakes.dexcom_share import FakeDexcomShare
from tests.sources.dexcom_share.support import Clocks, settings


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def fake(clocks: Clocks) -> FakeDexcomShare:
    return FakeDexcomShare(now_ms=lambda: clocks.wall_ms)


@pytest.fixture
async def client(fake: FakeDexcomShare) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient, clocks: Clocks) -> DexcomShareApi:
    return DexcomShareApi(settings(), client, clock=lambda: clocks.mono_s)


@pytest.fixture
def source(client: httpx.AsyncClient, clocks: Clocks) -> DexcomShareSource:
    return DexcomShareSource.from_settings(
        settings(),
        client=client,
        clock=lambda: clocks.mono_s,
        wall_clock=lambda: clocks.wall_ms,
    )
