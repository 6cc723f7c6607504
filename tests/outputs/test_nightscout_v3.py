"""NightscoutV3Output against the fake Nightscout: JWT flow, one POST per document, de-dup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from nightbridge.errors import AuthError, CannotConnectError, RateLimitedError, RemoteServerError
from nightbridge.model import Collection, Treatment
from nightbridge.outputs.base import Output, WriteResult
from nightbridge.outputs.nightscout_v3 import NightscoutV3Output
from tests.fakes.loopback import serve
from tests.fakes.nightscout import FakeNightscout
from tests.outputs.test_nightscout_v1 import START, entries, statuses, treatments

TOKEN = "bridge-0123456789abcdef"
BASE = "http://ns.test:1337"
HOUR = 3600.0
JWT_ROUTE = "/api/v2/authorization/request/"


class Clock:
    """A settable clock (seconds)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def server_clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def client_clock() -> Clock:
    return Clock(1000.0)


@pytest.fixture
def fake(server_clock: Clock) -> FakeNightscout:
    return FakeNightscout(
        api_secret="correct horse battery", tokens={TOKEN: "admin"}, clock=server_clock
    )


@pytest.fixture
async def output(fake: FakeNightscout, client_clock: Clock) -> AsyncIterator[NightscoutV3Output]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        out = NightscoutV3Output(BASE, SecretStr(TOKEN), client=client, clock=client_clock)
        yield out
        await out.aclose()


async def test_open_exchanges_the_token_for_a_jwt(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    assert isinstance(output, Output)
    assert output.kind == "nightscout_v3"
    await output.open()
    assert fake.count("GET", JWT_ROUTE) == 1
    assert output.jwt_fetches == 1


async def test_bad_token_is_auth_error_without_the_token(fake: FakeNightscout) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        out = NightscoutV3Output(BASE, SecretStr("nobody-1111111111111111"), client=client)
        with pytest.raises(AuthError) as caught:
            await out.open()
    assert "nobody-1111111111111111" not in str(caught.value)
    assert fake.count("POST") == 0


async def test_creates_with_identifier_app_and_utc_offset(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    docs = treatments(3)
    assert await output.write(Collection.TREATMENTS, docs) == WriteResult(created=3)
    assert fake.count("POST", "/api/v3/treatments") == 3
    stored = {t["identifier"]: t for t in fake.treatments}
    assert set(stored) == {d.identifier for d in docs}
    for doc in docs:
        assert doc.identifier is not None
        assert stored[doc.identifier]["app"] == "nightbridge"
        assert stored[doc.identifier]["utcOffset"] == 0
        assert stored[doc.identifier]["date"] == doc.date


async def test_second_write_is_all_duplicates(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    docs = entries(20)
    assert await output.write(Collection.ENTRIES, docs) == WriteResult(created=20)
    assert await output.write(Collection.ENTRIES, docs) == WriteResult(duplicates=20)
    assert len(fake.entries) == 20
    assert await output.write(Collection.DEVICESTATUS, statuses(4)) == WriteResult(created=4)
    assert await output.write(Collection.DEVICESTATUS, statuses(4)) == WriteResult(duplicates=4)
    assert len(fake.devicestatus) == 4


async def test_existing_v1_document_counts_as_duplicate(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    doc = treatments(1)[0]
    fake.insert("treatments", {"eventType": doc.eventType, "created_at": doc.created_at})
    assert await output.write(Collection.TREATMENTS, [doc]) == WriteResult(duplicates=1)
    assert len(fake.treatments) == 1


async def test_jwt_renewed_before_expiry(
    output: NightscoutV3Output, fake: FakeNightscout, client_clock: Clock, server_clock: Clock
) -> None:
    await output.write(Collection.ENTRIES, entries(2))
    client_clock.t += 8 * HOUR - 4 * 60  # within five minutes of the 8 h expiry
    server_clock.t += 8 * HOUR - 4 * 60
    await output.write(Collection.ENTRIES, entries(4))
    assert fake.count("GET", JWT_ROUTE) == 2
    assert fake.count("POST", "/api/v3/entries") == 6  # no request was refused


async def test_jwt_renewed_once_on_401(
    output: NightscoutV3Output, fake: FakeNightscout, server_clock: Clock
) -> None:
    await output.open()
    server_clock.t += 9 * HOUR  # the server sees the JWT expired; our clock does not
    assert await output.write(Collection.ENTRIES, entries(16)) == WriteResult(created=16)
    assert fake.count("GET", JWT_ROUTE) == 2  # one renewal shared by all requests in flight
    assert len(fake.entries) == 16


async def test_newest_by_date_and_device(output: NightscoutV3Output) -> None:
    assert await output.newest(Collection.ENTRIES) is None
    await output.write(Collection.ENTRIES, entries(5, device="a") + entries(2, START + 7, "12"))
    assert await output.newest(Collection.ENTRIES) == START + 4 * 300_000
    assert await output.newest(Collection.ENTRIES, device="12") == START + 7 + 300_000
    assert await output.newest(Collection.TREATMENTS) is None


async def test_at_most_eight_in_flight(fake: FakeNightscout) -> None:
    in_flight = 0
    peak = 0

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        try:
            await fake.app(scope, receive, send)
        finally:
            in_flight -= 1

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counting)) as client:
        out = NightscoutV3Output(BASE, SecretStr(TOKEN), client=client)
        assert await out.write(Collection.ENTRIES, entries(40)) == WriteResult(created=40)
    assert 2 <= peak <= 8


async def test_rate_limit_and_server_errors(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    await output.open()
    fake.fail_next(1, status=429, retry_after=30)
    with pytest.raises(RateLimitedError) as caught:
        await output.write(Collection.TREATMENTS, treatments(1))
    assert caught.value.retry_after == 30
    fake.fail_next(1, status=503, body="html")
    with pytest.raises(RemoteServerError):
        await output.write(Collection.TREATMENTS, treatments(1))
    fake.fail_next(1, status=200, body="malformed")
    with pytest.raises(RemoteServerError):
        await output.newest(Collection.TREATMENTS)
    assert await output.write(Collection.TREATMENTS, treatments(2)) == WriteResult(created=2)


async def test_a_failed_document_fails_the_write_but_others_land(
    output: NightscoutV3Output, fake: FakeNightscout
) -> None:
    await output.open()
    fake.fail_next(1, status=500)
    with pytest.raises(RemoteServerError):
        await output.write(Collection.TREATMENTS, treatments(3))
    assert len(fake.treatments) == 2
    assert await output.write(Collection.TREATMENTS, treatments(3)) == WriteResult(
        created=1, duplicates=2
    )


async def test_over_loopback_with_a_dropped_connection(fake: FakeNightscout) -> None:
    doc: Treatment = treatments(1)[0]
    with serve(fake.app) as base_url:
        out = NightscoutV3Output(base_url, SecretStr(TOKEN))
        try:
            await out.open()
            fake.down(True, mode="drop")
            with pytest.raises(CannotConnectError):
                await out.write(Collection.TREATMENTS, [doc])
            fake.down(False)
            assert await out.write(Collection.TREATMENTS, [doc]) == WriteResult(created=1)
        finally:
            await out.aclose()
