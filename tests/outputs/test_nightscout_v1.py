"""NightscoutV1Output against the fake Nightscout (ASGI in-process, and real loopback)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from nightbridge.errors import (
    AuthError,
    CannotConnectError,
    ConfigError,
    RateLimitedError,
    RemoteServerError,
)
from nightbridge.identity import identify
from nightbridge.model import Collection, DeviceStatus, Entry, Treatment
from nightbridge.model.time import now_ms
from nightbridge.outputs.base import Output, WriteResult
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
from tests.fakes.loopback import serve
from tests.fakes.nightscout import FakeNightscout

SECRET = "correct horse battery"
SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()
TOKEN = "bridge-0123456789abcdef"
READER = "reader-fedcba9876543210"
BASE = "http://ns.test:1337"
FIVE_MIN = 300_000
START = now_ms() - 6 * 24 * 3600 * 1000  # older than the server's 4-day default window


def entries(n: int, start: int = START, device: str = "sim") -> list[Entry]:
    docs = [
        Entry.build(type="sgv", sgv=80 + i % 200, date=start + i * FIVE_MIN, device=device)
        for i in range(n)
    ]
    return [identify(d) for d in docs]  # type: ignore[misc]


def treatments(n: int, start: int = START) -> list[Treatment]:
    docs = [
        Treatment.build(eventType="Correction Bolus", insulin=1.5, date=start + i * 3_600_000)
        for i in range(n)
    ]
    return [identify(d) for d in docs]  # type: ignore[misc]


def statuses(n: int, start: int = START, device: str = "pump") -> list[DeviceStatus]:
    docs = [
        DeviceStatus.build(date=start + i * FIVE_MIN, device=device, pump={"reservoir": 100 - i})
        for i in range(n)
    ]
    return [identify(d) for d in docs]  # type: ignore[misc]


@pytest.fixture
def fake() -> FakeNightscout:
    return FakeNightscout(api_secret=SECRET, tokens={TOKEN: "admin", READER: "readable"})


def client_for(fake: FakeNightscout) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))


@pytest.fixture
async def output(fake: FakeNightscout) -> AsyncIterator[NightscoutV1Output]:
    async with client_for(fake) as client:
        out = NightscoutV1Output(BASE, SecretStr(SECRET), client=client, batch_size=500)
        yield out
        await out.aclose()


def test_is_an_output_with_a_secret_free_label() -> None:
    out = NightscoutV1Output("https://me:pw@ns.example.org/", SecretStr(SECRET))
    assert isinstance(out, Output)
    assert out.kind == "nightscout_v1"
    assert out.label == "https://ns.example.org:443"
    assert NightscoutV1Output("ns.example.org:8081", SecretStr(SECRET)).label.endswith(":8081")


def test_needs_a_credential() -> None:
    with pytest.raises(ConfigError):
        NightscoutV1Output(BASE)


async def test_open_calls_verifyauth_with_the_sha1_header(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    await output.open()
    assert [r.route for r in fake.requests] == ["/api/v1/verifyauth"]
    assert fake.requests[0].headers["api-secret"] == SHA1
    assert SECRET not in str(fake.requests[0])


async def test_wrong_secret_stops_before_any_write(fake: FakeNightscout) -> None:
    async with client_for(fake) as client:
        out = NightscoutV1Output(BASE, SecretStr("wrong secret value"), client=client)
        with pytest.raises(AuthError) as caught:
            await out.open()
    assert "rejected" in str(caught.value)
    assert "wrong secret value" not in str(caught.value)
    assert hashlib.sha1(b"wrong secret value").hexdigest() not in str(caught.value)
    assert fake.count("POST") == 0


async def test_read_only_token_cannot_write(fake: FakeNightscout) -> None:
    async with client_for(fake) as client:
        out = NightscoutV1Output(BASE, token=SecretStr(READER), client=client)
        with pytest.raises(AuthError, match="cannot write"):
            await out.open()
        assert READER in fake.requests[0].query


async def test_token_and_pre_hashed_secret(fake: FakeNightscout) -> None:
    async with client_for(fake) as client:
        by_token = NightscoutV1Output(BASE, token=SecretStr(TOKEN), client=client)
        await by_token.open()
        assert (await by_token.write(Collection.ENTRIES, entries(3))).created == 3
        hashed = NightscoutV1Output(
            BASE, SecretStr(SHA1.upper()), client=client, secret_is_hashed=True
        )
        await hashed.open()
    assert fake.requests[-1].headers["api-secret"] == SHA1
    assert all(f"token={TOKEN}" in r.query for r in fake.requests[:2])


async def test_batches_of_500(output: NightscoutV1Output, fake: FakeNightscout) -> None:
    await output.open()
    result = await output.write(Collection.ENTRIES, entries(1200))
    assert result == WriteResult(created=1200)
    assert fake.count("POST", "/api/v1/entries") == 3
    assert len(fake.entries) == 1200


async def test_entries_and_treatments_twice_leave_one_copy(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    await output.open()
    for collection, docs in (
        (Collection.ENTRIES, entries(30)),
        (Collection.TREATMENTS, treatments(5)),
    ):
        first = await output.write(collection, docs)
        second = await output.write(collection, docs)
        assert first == WriteResult(created=len(docs))
        assert second == WriteResult(duplicates=len(docs))
    assert len(fake.entries) == 30
    assert len(fake.treatments) == 5
    assert {t["identifier"] for t in fake.treatments} == {t.identifier for t in treatments(5)}


async def test_devicestatus_is_not_doubled(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    await output.open()
    docs = statuses(12)
    assert await output.write(Collection.DEVICESTATUS, docs[:8]) == WriteResult(created=8)
    assert await output.write(Collection.DEVICESTATUS, docs) == WriteResult(created=4, duplicates=8)
    assert len(fake.devicestatus) == 12
    # Another uploader's copy (no identifier) at the same instant and device also counts.
    later = statuses(1, start=START + 100 * FIVE_MIN)[0]
    fake.insert("devicestatus", {"device": "pump", "created_at": later.created_at})
    assert await output.write(Collection.DEVICESTATUS, [later]) == WriteResult(duplicates=1)
    assert len(fake.devicestatus) == 13


async def test_newest_looks_past_the_four_day_window(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    assert await output.newest(Collection.ENTRIES) is None
    await output.write(Collection.ENTRIES, entries(10, device="a") + entries(3, START + 1, "b"))
    assert await output.newest(Collection.ENTRIES) == START + 9 * FIVE_MIN
    assert await output.newest(Collection.ENTRIES, device="b") == START + 1 + 2 * FIVE_MIN
    await output.write(Collection.TREATMENTS, treatments(4))
    assert await output.newest(Collection.TREATMENTS) == START + 3 * 3_600_000
    await output.write(Collection.DEVICESTATUS, statuses(2))
    assert await output.newest(Collection.DEVICESTATUS, device="pump") == START + FIVE_MIN
    assert await output.newest(Collection.DEVICESTATUS, device="other") is None


async def test_rate_limit_carries_retry_after(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    fake.fail_next(1, status=429, retry_after=42)
    with pytest.raises(RateLimitedError) as caught:
        await output.write(Collection.ENTRIES, entries(2))
    assert caught.value.retry_after == 42
    assert fake.entries == []


@pytest.mark.parametrize(
    ("status", "body"), [(500, "json"), (502, "html"), (200, "html"), (200, "malformed")]
)
async def test_server_failures_are_transient(
    output: NightscoutV1Output, fake: FakeNightscout, status: int, body: str
) -> None:
    fake.fail_next(1, status=status, body=body)  # type: ignore[arg-type]
    with pytest.raises(RemoteServerError) as caught:
        await output.write(Collection.ENTRIES, entries(2))
    assert SECRET not in str(caught.value) and SHA1 not in str(caught.value)
    assert await output.write(Collection.ENTRIES, entries(2)) == WriteResult(created=2)


async def test_credentials_revoked_mid_run_is_auth_error(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    fake.fail_next(1, status=401)
    with pytest.raises(AuthError):
        await output.write(Collection.TREATMENTS, treatments(1))


async def test_timeout_is_cannot_connect() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(timeout)) as client:
        out = NightscoutV1Output(BASE, SecretStr(SECRET), client=client)
        with pytest.raises(CannotConnectError) as caught:
            await out.write(Collection.ENTRIES, entries(1))
    assert SHA1 not in str(caught.value)


async def test_over_loopback_down_then_back(fake: FakeNightscout) -> None:
    with serve(fake.app) as base_url:
        out = NightscoutV1Output(base_url, SecretStr(SECRET))
        try:
            await out.open()
            fake.down(True, mode="drop")
            with pytest.raises(CannotConnectError):
                await out.write(Collection.ENTRIES, entries(5))
            fake.down(True)
            with pytest.raises(RemoteServerError):
                await out.write(Collection.ENTRIES, entries(5))
            fake.down(False)
            assert await out.write(Collection.ENTRIES, entries(5)) == WriteResult(created=5)
        finally:
            await out.aclose()
    assert len(fake.entries) == 5


async def test_devicestatus_bodies_stay_under_one_megabyte(
    output: NightscoutV1Output, fake: FakeNightscout
) -> None:
    docs = statuses(30)
    for doc in docs:
        doc.pump = {"reservoir": 100, "padding": "x" * 100_000}  # a large Loop-style status
    assert await output.write(Collection.DEVICESTATUS, docs) == WriteResult(created=30)
    posts = [r for r in fake.requests if r.method == "POST"]
    assert len(posts) == 4  # 30 x ~100 kB split into bodies of at most 900 kB
    assert int(posts[0].headers["content-length"]) <= 900_000
    assert len(fake.devicestatus) == 30
