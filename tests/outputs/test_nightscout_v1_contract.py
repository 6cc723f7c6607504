"""NightscoutV1Output passes the output contract against the fake Nightscout (15.0.7 semantics).

In process (``httpx.ASGITransport``; broken = the server answers 503 with an outage page) and
over loopback (broken = the connection is cut mid-answer). v1 never says which documents of a
POST were new: the output reads it from the ``_id`` in the echo, which an older server sends for
upserts too, so the contract runs with ``exact_counts = False`` (stored copies stay exact; the
exact split against a 15.0.7 server is checked in test_nightscout_v1.py).
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
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
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

SECRET = "contract secret for v1"
BASE = "http://ns.test:1337"


@pytest.fixture
def fake() -> FakeNightscout:
    return FakeNightscout(api_secret=SECRET)


def fake_stored(fake: FakeNightscout) -> Stored:
    """What the fake holds in a collection (copies, read straight from its storage)."""

    async def read(collection: Collection) -> list[dict[str, object]]:
        return [dict(doc) for doc in fake.docs(collection.value)]

    return read


class TestNightscoutV1Contract(OutputContract):
    exact_counts = False

    @pytest.fixture
    async def output(self, fake: FakeNightscout) -> AsyncIterator[Output]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
            out = NightscoutV1Output(BASE, SecretStr(SECRET), client=client)
            await out.open()
            yield out
            await out.aclose()

    @pytest.fixture
    def stored(self, fake: FakeNightscout) -> Stored:
        return fake_stored(fake)

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


class TestNightscoutV1ContractLoopback(TestNightscoutV1Contract):
    @pytest.fixture
    def base_url(self, fake: FakeNightscout) -> Iterator[str]:
        with serve(fake.app) as url:
            yield url

    @pytest.fixture
    async def output(self, base_url: str) -> AsyncIterator[Output]:
        out = NightscoutV1Output(base_url, SecretStr(SECRET))
        await out.open()
        yield out
        await out.aclose()

    @pytest.fixture
    def break_output(self, fake: FakeNightscout) -> Breaker:
        async def break_it() -> None:
            fake.down(True, mode="drop")

        return break_it


async def test_a_sync_cut_off_between_posts_is_redelivered_once(fake: FakeNightscout) -> None:
    """Half of a chunk landed before the server died: the cursor stays, the whole chunk is
    pending, and its redelivery leaves one copy of every document."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        out = NightscoutV1Output(BASE, SecretStr(SECRET), client=client, batch_size=4)
        await out.open()
        clock = FakeClock(SYNC_NOW)
        source = SimulatorSource(account=ACCOUNT, seed=5, clock=clock)
        state = MemoryState()
        await state.set_cursor(ACCOUNT, out.label, SYNC_NOW - HOUR)
        fake.die_after(2)  # two POSTs of four entries each, then the server dies
        cut = await sync_once(
            source, [out], state, now_ms=SYNC_NOW, lookback_ms=HOUR, retry=NO_RETRY
        )
        assert cut.failed_outputs == (out.label,)
        assert state.cursors[(ACCOUNT, out.label)] == SYNC_NOW - HOUR
        assert len(fake.entries) == 8 and cut.pending == cut.fetched
        fake.die_after(None)
        fake.down(False)
        healed = await sync_once(source, [out], state, now_ms=SYNC_NOW, retry=NO_RETRY)
    assert healed.failed_outputs == () and healed.delivered == cut.pending
    assert state.cursors[(ACCOUNT, out.label)] == SYNC_NOW
    held = {c: identifiers(fake.docs(c.value)) for c in SIMULATED}
    assert sum(len(ids) for ids in held.values()) == cut.fetched
    for ids in held.values():
        assert len(ids) == len(set(ids))
