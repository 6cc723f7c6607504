"""DexcomShareSource over the fake: the Source protocol, windows, limits, skips, errors."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from nightbridge.errors import AuthError
from nightbridge.model import Direction, EntryType
from nightbridge.sources.base import FetchWindow, Source
from nightbridge.sources.dexcom_share import DexcomShareSource
from nightbridge.sources.dexcom_share.source import request_size
from tests.fakes.dexcom_share import PASSWORD, FakeDexcomShare
from tests.sources.dexcom_share.support import NOW_MS, Clocks, settings

HOUR_MS = 3_600_000


def test_is_a_source_with_the_vendor_limits(source: DexcomShareSource) -> None:
    assert isinstance(source, Source)
    assert source.kind == "dexcom_share"
    assert source.cadence == timedelta(minutes=5)
    assert source.max_history == timedelta(hours=24)
    assert source.session_lifetime == timedelta(hours=23)
    assert source.account == "u$ern@me" and PASSWORD not in source.account


async def test_check_logs_in_once(source: DexcomShareSource, fake: FakeDexcomShare) -> None:
    await source.check()
    await source.check()
    assert fake.sessions_issued == 1 and fake.requests["data"] == 0


async def test_check_with_a_wrong_password_is_an_auth_error(
    client: httpx.AsyncClient, fake: FakeDexcomShare
) -> None:
    source = DexcomShareSource.from_settings(settings(password="nope"), client=client)
    with pytest.raises(AuthError):
        await source.check()
    assert fake.login_attempts == 1


async def test_fetch_returns_exactly_the_window_oldest_first(
    source: DexcomShareSource, fake: FakeDexcomShare
) -> None:
    window = FetchWindow(NOW_MS - 2 * HOUR_MS, NOW_MS - HOUR_MS)
    batch = await source.fetch(window)
    dates = [e.date for e in batch.entries]
    assert len(dates) == 12
    assert dates == sorted(dates) and dates[0] == window.start_ms
    assert all(window.start_ms <= d < window.end_ms for d in dates)
    assert all(e.type == EntryType.SGV and e.device == "share2" for e in batch.entries)
    assert all(e.direction in set(Direction) for e in batch.entries)
    assert batch.skipped == {}
    # Share only answers "the last N minutes": the request reached back to the window start.
    assert fake.data_queries[-1]["minutes"] == "121"
    assert fake.data_queries[-1]["maxCount"] == "26"


async def test_fetch_is_repeatable(source: DexcomShareSource) -> None:
    window = FetchWindow(NOW_MS - HOUR_MS, NOW_MS + 1)
    first = [e.to_nightscout() for e in (await source.fetch(window)).entries]
    second = [e.to_nightscout() for e in (await source.fetch(window)).entries]
    assert first == second and len(first) == 13


async def test_full_day_is_capped_at_288(source: DexcomShareSource, fake: FakeDexcomShare) -> None:
    batch = await source.fetch(FetchWindow(NOW_MS - 48 * HOUR_MS, NOW_MS + 1))
    assert len(batch.entries) == 288
    assert (fake.data_queries[-1]["minutes"], fake.data_queries[-1]["maxCount"]) == ("1440", "288")
    assert batch.entries[0].date > NOW_MS - 24 * HOUR_MS


async def test_window_older_than_24h_asks_nothing(
    source: DexcomShareSource, fake: FakeDexcomShare
) -> None:
    batch = await source.fetch(FetchWindow(NOW_MS - 30 * HOUR_MS, NOW_MS - 25 * HOUR_MS))
    assert len(batch) == 0 and fake.requests == {}


async def test_gaps_are_not_invented(source: DexcomShareSource, fake: FakeDexcomShare) -> None:
    fake.missing = {NOW_MS - 10 * 60_000, NOW_MS - 15 * 60_000}
    batch = await source.fetch(FetchWindow(NOW_MS - 30 * 60_000, NOW_MS + 1))
    assert [e.date for e in batch.entries] == [
        NOW_MS - 30 * 60_000,
        NOW_MS - 25 * 60_000,
        NOW_MS - 20 * 60_000,
        NOW_MS - 5 * 60_000,
        NOW_MS,
    ]


async def test_malformed_records_are_counted_and_the_rest_delivered(
    source: DexcomShareSource, fake: FakeDexcomShare
) -> None:
    fake.extra_records = [
        {"WT": "garbage", "Value": 100, "Trend": "Flat"},
        {"WT": f"Date({NOW_MS})", "Value": 0, "Trend": "Flat"},
        {"WT": f"Date({NOW_MS})", "Trend": "Flat"},
    ]
    batch = await source.fetch(FetchWindow(NOW_MS - 30 * 60_000, NOW_MS + 1))
    assert len(batch.entries) == 7
    assert batch.skipped == {"WT": 1, "Value": 2}


@pytest.mark.parametrize("as_int", [False, True])
@pytest.mark.parametrize("legacy", [False, True])
async def test_every_wire_variant_gives_the_same_entries(
    client: httpx.AsyncClient, clocks: Clocks, fake: FakeDexcomShare, as_int: bool, legacy: bool
) -> None:
    source = DexcomShareSource.from_settings(
        settings(), client=client, wall_clock=lambda: clocks.wall_ms
    )
    window = FetchWindow(NOW_MS - HOUR_MS, NOW_MS + 1)
    baseline = [e.to_nightscout() for e in (await source.fetch(window)).entries]
    fake.trend_as_int, fake.legacy_dates = as_int, legacy
    variant = [e.to_nightscout() for e in (await source.fetch(window)).entries]
    assert variant == baseline and len(baseline) == 13
    assert {e["utcOffset"] for e in variant} == {-240}


async def test_aclose_closes_the_client(fake: FakeDexcomShare) -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    source = DexcomShareSource.from_settings(settings(), client=client)
    await source.aclose()
    assert client.is_closed


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOW_MS - 5 * 60_000, NOW_MS + 1, (6, 3)),
        (NOW_MS, NOW_MS + 1, (1, 2)),
        (NOW_MS - 24 * HOUR_MS, NOW_MS, (1440, 288)),
        (NOW_MS - 72 * HOUR_MS, NOW_MS, (1440, 288)),
        (NOW_MS + 60_000, NOW_MS + HOUR_MS, (0, 0)),
        (NOW_MS - 48 * HOUR_MS, NOW_MS - 24 * HOUR_MS, (0, 0)),
    ],
)
def test_request_size(start: int, end: int, expected: tuple[int, int]) -> None:
    assert request_size(FetchWindow(start, end), NOW_MS) == expected
