"""NightscoutV3Output passes the output contract against the fake Nightscout (15.0.7 semantics).

In process (``httpx.ASGITransport``; broken = 503 with an outage page) and over loopback
(broken = the connection is cut mid-answer). v3 answers every create with 201 (new) or 200
``isDeduplication``, so the counts are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pydantic import SecretStr

from nightbridge.engine.pipeline import sync_once
from nightbridge.engine.retry import NO_RETRY
from nightbridge.model import Collection
from nightbridge.outputs.base import Output
from nightbridge.outputs.nightscout_v3 import NightscoutV3Output
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock
from tests.engine.memory_state import MemoryState
from tests.fakes.loopback import serve
from tests.fakes.nightscout import FakeNightscout
from tests.outputs.contract import (
    ACCOUNT,
    HOUR,
    SIMULATED,
    SYNC_NOW,
    Breaker,
    Healer,
    OutputContract,
    Stored,
    identifiers,
)

TOKEN = "contract-0123456789abcdef"
BASE = "http://ns.test:1337"


@pytest.fixture
def fake() -> FakeNightscout:
    return FakeNightscout(api_secret="contract secret for v3", tokens={TOKEN: "admin"})


class TestNightscoutV3Contract(OutputContract):
    @pytest.fixture
    async def output(self, fake: FakeNightscout) -> AsyncIterator[Output]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
            out = NightscoutV3Output(BASE, SecretStr(TOKEN), client=client)
            await out.open()
            yield out
            await out.aclose()

    @pytest.fixture
    def stored(self, fake: FakeNightscout) -> Stored:
        async def read(collection: Collection) -> list[dict[str, object]]:
            return [dict(doc) for doc in fake.docs(collection.value)]

        return read

    @pytest.fixture
    def break_output(self, fake: FakeNightscout) -> Breaker:
        async def break_it() -> None:
            fake.down(True)

        return break_it

    @pytest.fixture
    def heal_output(self, fake: FakeNightscout, output: Output) -> Healer:
        async def heal() -> Output:
            fake.down(False)
            return output

        return heal


class TestNightscoutV3ContractLoopback(TestNightscoutV3Contract):
    @pytest.fixture
    def base_url(self, fake: FakeNightscout) -> Iterator[str]:
        with serve(fake.app) as url:
            yield url

    @pytest.fixture
    async def output(self, base_url: str) -> AsyncIterator[Output]:
        out = NightscoutV3Output(base_url, SecretStr(TOKEN))
        await out.open()
        yield out
        await out.aclose()

    @pytest.fixture
    def break_output(self, fake: FakeNightscout) -> Breaker:
        async def break_it() -> None:
            fake.down(True, mode="drop")

        return break_it


async def test_a_sync_whose_creates_partly_fail_is_redelivered_once(fake: FakeNightscout) -> None:
    """Some creates of a chunk landed before the server died: the cursor stays, the whole chunk
    is pending, and its redelivery leaves one copy of every document."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        out = NightscoutV3Output(BASE, SecretStr(TOKEN), client=client, concurrency=2)
        await out.open()
        clock = FakeClock(SYNC_NOW)
        source = SimulatorSource(account=ACCOUNT, seed=5, clock=clock)
        state = MemoryState()
        await state.set_cursor(ACCOUNT, out.label, SYNC_NOW - HOUR)
        fake.die_after(5)  # five creates, then the server dies
        cut = await sync_once(
            source, [out], state, now_ms=SYNC_NOW, lookback_ms=HOUR, retry=NO_RETRY
        )
        assert cut.failed_outputs == (out.label,)
        assert state.cursors[(ACCOUNT, out.label)] == SYNC_NOW - HOUR
        landed = len(fake.entries)
        assert 0 < landed < cut.fetched and cut.pending == cut.fetched
        fake.die_after(None)
        fake.down(False)
        healed = await sync_once(source, [out], state, now_ms=SYNC_NOW, retry=NO_RETRY)
    assert healed.failed_outputs == () and healed.delivered == cut.pending
    assert healed.created == cut.fetched - landed
    assert state.cursors[(ACCOUNT, out.label)] == SYNC_NOW
    held = {c: identifiers(fake.docs(c.value)) for c in SIMULATED}
    assert sum(len(ids) for ids in held.values()) == cut.fetched
    for ids in held.values():
        assert len(ids) == len(set(ids))
