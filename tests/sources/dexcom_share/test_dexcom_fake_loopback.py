"""The fake over real loopback HTTP: slow answers against a client timeout, control routes, and
the standalone ``python -m tests.fakes.dexcom_share`` the benchmark and CLI tests use."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nightbridge.errors import CannotConnectError
from nightbridge.sources.base import FetchWindow
from nightbridge.sources.dexcom_share import DexcomShareApi, DexcomShareSource
from tests.fakes.dexcom_share import FakeDexcomShare
from tests.fakes.loopback import free_port, serve
from tests.sources.dexcom_share.support import NOW_MS, settings

ROOT = Path(__file__).resolve().parents[3]


async def test_slow_answer_is_cannot_connect_then_recovers() -> None:
    fake = FakeDexcomShare(now_ms=lambda: NOW_MS)
    with serve(fake.app) as base:
        async with httpx.AsyncClient(timeout=0.2) as client:
            api = DexcomShareApi(settings(server=base), client)
            await api.ensure_session()
            fake.fail_next("slow", route="data", seconds=0.6)
            with pytest.raises(CannotConnectError) as caught:
                await api.latest_glucose(10, 2)
            assert "sessionId" not in str(caught.value)
            answer = await api.latest_glucose(10, 2)
    assert len(answer.readings) == 2
    assert fake.requests["data"] == 2 and fake.sessions_issued == 1


async def test_control_routes_over_loopback() -> None:
    fake = FakeDexcomShare(now_ms=lambda: NOW_MS)
    with serve(fake.app) as base:
        async with httpx.AsyncClient(base_url=base) as control, httpx.AsyncClient() as client:
            source = DexcomShareSource.from_settings(
                settings(server=base), client=client, wall_clock=lambda: NOW_MS
            )
            await source.fetch(FetchWindow(NOW_MS - 600_000, NOW_MS + 1))
            assert (await control.post("/_fake/expire")).status_code == 200
            await control.post("/_fake/fail", json={"kind": "html", "route": "data"})
            stats_before = (await control.get("/_fake/stats")).json()
            assert stats_before["sessions_issued"] == 1
    assert fake.sessions == {} and fake.pending_faults == ["html"]


@pytest.mark.e2e
def test_standalone_fake_serves_a_login() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.dexcom_share", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                stats = httpx.get(f"{base}/_fake/stats", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        assert stats.json()["sessions_issued"] == 0
        answer = httpx.post(
            f"{base}/ShareWebServices/Services/General/AuthenticatePublisherAccount",
            json={"accountName": "u$ern@me", "password": "p@$$w0rd", "applicationId": "x"},
        )
        assert answer.json() == "99999999-9999-9999-9999-999999999999"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
