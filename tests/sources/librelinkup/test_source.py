"""LibreLinkUpSource over the fake: the Source protocol, windows, idempotent re-fetches."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import pytest

from nightbridge.errors import AuthError, TermsNotAcceptedError
from nightbridge.sources.base import FetchWindow, Source
from nightbridge.sources.librelinkup import LibreLinkUpSource
from tests.fakes.librelinkup import FakeLibreLinkUp
from tests.sources.librelinkup.conftest import EMAIL, NOW_S, FakeClock, settings

NOW_MS = int(NOW_S * 1000)
HOUR_MS = 3_600_000


@pytest.fixture
def source(client: httpx.AsyncClient, clock: FakeClock) -> LibreLinkUpSource:
    return LibreLinkUpSource.from_settings(settings(), client=client, clock=clock)


def test_is_a_source(source: LibreLinkUpSource) -> None:
    assert isinstance(source, Source)
    assert source.kind == "librelinkup"
    assert source.account == EMAIL
    assert source.cadence == timedelta(minutes=5)
    assert source.max_history == timedelta(hours=12)


async def test_session_lifetime_comes_from_the_ticket(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    fake = FakeLibreLinkUp(clock=lambda: NOW_S, ticket_duration_ms=3_600_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        source = LibreLinkUpSource.from_settings(settings(), client=http, clock=clock)
        await source.check()
        assert source.session_lifetime == timedelta(hours=1)


async def test_check_logs_in_and_selects_the_patient(
    source: LibreLinkUpSource, fake: FakeLibreLinkUp
) -> None:
    await source.check()
    assert fake.successful_logins == 1
    assert fake.requests["/llu/connections"] == 1


async def test_check_surfaces_terms(source: LibreLinkUpSource, fake: FakeLibreLinkUp) -> None:
    fake.account.steps = ["tou"]
    with pytest.raises(TermsNotAcceptedError):
        await source.check()


async def test_fetch_returns_only_the_window(source: LibreLinkUpSource) -> None:
    window = FetchWindow(NOW_MS - 2 * HOUR_MS, NOW_MS - HOUR_MS)
    batch = await source.fetch(window)
    assert len(batch.entries) == 12  # one graph point every 5 minutes
    assert all(window.start_ms <= d.date < window.end_ms for d in batch)
    assert all(e.device == "nightscout-librelink-up" for e in batch.entries)


async def test_fetch_whole_history_has_current_reading_alarms_and_sensor(
    source: LibreLinkUpSource, fake: FakeLibreLinkUp
) -> None:
    batch = await source.fetch(FetchWindow(NOW_MS - 12 * HOUR_MS, NOW_MS + 1))
    newest = batch.entries[-1]
    assert NOW_MS - newest.date < 60_000
    assert newest.direction is not None
    assert len(batch.devicestatus) == 1
    dates = [e.date for e in batch.entries]
    assert dates == sorted(set(dates))
    assert batch.skipped == {}
    notes = [t for t in batch.treatments if t.eventType == "Note"]
    assert notes and all("alarm" in (t.notes or "") for t in notes)


async def test_sensor_start_inside_a_backfill_window(source: LibreLinkUpSource) -> None:
    batch = await source.fetch(FetchWindow(NOW_MS - 3 * 24 * HOUR_MS, NOW_MS + 1))
    starts = [t for t in batch.treatments if t.eventType == "Sensor Start"]
    assert len(starts) == 1


async def test_refetch_gives_the_same_documents(source: LibreLinkUpSource) -> None:
    window = FetchWindow(NOW_MS - 12 * HOUR_MS, NOW_MS + 1)
    first = [d.to_nightscout() for d in await source.fetch(window)]
    second = [d.to_nightscout() for d in await source.fetch(window)]
    assert first == second and first


async def test_mmol_account_gives_mgdl(client: httpx.AsyncClient, clock: FakeClock) -> None:
    fake = FakeLibreLinkUp(clock=lambda: NOW_S)
    fake.account.units = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        source = LibreLinkUpSource.from_settings(settings(), client=http, clock=clock)
        batch = await source.fetch(FetchWindow(NOW_MS - 12 * HOUR_MS, NOW_MS + 1))
    assert min(e.sgv or 0 for e in batch.entries) >= 80  # mg/dL, not 4.4 mmol/L
    graph_point = await _raw_graph_point(fake)
    assert graph_point["GlucoseUnits"] == 0
    assert isinstance(graph_point["Value"], float) and graph_point["Value"] < 20


async def _raw_graph_point(fake: FakeLibreLinkUp) -> dict[str, object]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        api = LibreLinkUpSource.from_settings(settings(), client=http).api
        session = await api.login()
        response = await http.get(
            f"https://api-eu.libreview.io/llu/connections/{fake.account.patients[0].patient_id}/graph",
            headers={
                "product": "llu.ios",
                "version": "4.16.0",
                "Authorization": f"Bearer {session.token}",
                "Account-Id": session.account_id or "",
            },
        )
    point: dict[str, object] = response.json()["data"]["graphData"][0]
    return point


async def test_wrong_password_stops_after_one_login(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    source = LibreLinkUpSource.from_settings(settings(password="nope"), client=client, clock=clock)
    with pytest.raises(AuthError):
        await source.fetch(FetchWindow(NOW_MS - HOUR_MS, NOW_MS))
    assert fake.logins == 1


async def test_aclose_drops_the_session(source: LibreLinkUpSource, fake: FakeLibreLinkUp) -> None:
    await source.check()
    await source.aclose()
    assert source.api.session is None


async def test_dst_change_moves_the_offset_not_the_readings(clock: FakeClock) -> None:
    # Europe/Berlin switched to summer time at 2024-03-31T01:00Z.
    now_s = 1_711_850_410.0  # 2024-03-31T02:00:10Z
    fake = FakeLibreLinkUp(clock=lambda: now_s)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        source = LibreLinkUpSource.from_settings(settings(), client=http, clock=clock)
        window = FetchWindow(int(now_s * 1000) - 3 * HOUR_MS, int(now_s * 1000) - HOUR_MS // 3)
        batch = await source.fetch(window)
    dates = [e.date for e in batch.entries]
    assert {b - a for a, b in itertools.pairwise(dates)} == {300_000}
    offsets = [e.utcOffset or 0 for e in batch.entries]
    assert offsets[0] == 60 and offsets[-1] == 120
    assert offsets == sorted(offsets)  # one switch, at the change
