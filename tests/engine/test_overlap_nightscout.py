"""The poll overlap against a real output: Nightscout v1 on the fake server (ASGI, in-process).

Devicestatus is a plain insert on a Nightscout server; re-reading the overlap must not double it
(the v1 output reads back what the server holds first). Entries and treatments are upserted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from nightbridge.engine.pipeline import sync_once
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
from nightbridge.sources.base import FetchWindow
from nightbridge.sources.simulator import SimulatorSource
from tests.engine.fakes import FakeClock
from tests.engine.memory_state import MemoryState
from tests.fakes.nightscout import FakeNightscout

NOW = 1_699_999_800_000
HOUR = 3_600_000
SECRET = "overlap-test-secret"


@pytest.fixture
def fake() -> FakeNightscout:
    return FakeNightscout(api_secret=SECRET)


@pytest.fixture
async def output(fake: FakeNightscout) -> AsyncIterator[NightscoutV1Output]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport) as client:
        out = NightscoutV1Output("http://ns.test", SecretStr(SECRET), client=client)
        await out.open()
        yield out


async def test_polls_with_overlap_double_nothing_on_nightscout_v1(
    fake: FakeNightscout, output: NightscoutV1Output
) -> None:
    clock, state = FakeClock(NOW), MemoryState()
    source = SimulatorSource(account="a", seed=2, clock=clock)
    first = await sync_once(source, [output], state, now_ms=NOW, lookback_ms=3 * HOUR)
    polls = []
    for _ in range(4):  # two hours of polls, each re-reading the last hour
        clock.advance(timedelta(minutes=30))
        polls.append(await sync_once(source, [output], state, now_ms=clock.now))
    assert all(p.duplicates > 0 for p in polls)
    expected = await source.fetch(FetchWindow(NOW - 3 * HOUR, clock.now + 1))
    statuses = Counter((d["created_at"], d["device"]) for d in fake.devicestatus)
    assert max(statuses.values()) == 1, "a devicestatus was posted twice"
    assert {d["date"] for d in fake.devicestatus} == {d.date for d in expected.devicestatus}
    assert sorted(e["date"] for e in fake.entries) == [e.date for e in expected.entries]
    assert Counter(t["date"] for t in fake.treatments) == Counter(
        t.date for t in expected.treatments
    )
    assert first.created + sum(p.created for p in polls) == len(expected)
