"""``/metrics``: parsed with prometheus_client's own parser; counters are compared as deltas
(one registry per process, shared by every app a test builds)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from tests.server.conftest import ADMIN, NOW_MS, SECRET, sgv

from nightbridge.engine.clock import SystemClock
from nightbridge.engine.pipeline import sync_once
from nightbridge.engine.scheduler import Job, run_forever
from nightbridge.errors import AuthError
from nightbridge.outputs.store import StoreOutput
from nightbridge.server.config import ServerConfig
from nightbridge.sources.base import Batch, FetchWindow
from nightbridge.sources.simulator import SimulatorSource
from nightbridge.store import Store

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, **kwargs: object) -> Samples:
    response = await client.get("/metrics", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_request_counts_under_its_route_template(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    assert (await client.get("/api/v1/entries/sgv.json")).status_code == 200
    assert (await client.get("/api/v1/entries/sgv.json?count=1")).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)
    route = {"method": "GET", "route": "/api/v1/entries/{spec}"}
    name = "nightbridge_http_requests_total"
    assert (
        value(after, name, **route, status="200") - value(before, name, **route, status="200") == 2
    )
    latency = "nightbridge_http_request_duration_seconds_count"
    assert value(after, latency, **route) - value(before, latency, **route) == 2
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    assert not any("sgv" in dict(labels).get("route", "") for _, labels in after)


async def test_data_lag_and_pending_reflect_the_store(
    client: httpx.AsyncClient, store: Store
) -> None:
    empty = await scrape(client)
    assert math.isnan(value(empty, "nightbridge_data_lag_seconds"))
    assert value(empty, "nightbridge_store_up") == 1
    posted = await client.post(
        "/api/v1/entries", json=[sgv(NOW_MS - 7 * 60_000), sgv(NOW_MS - 12 * 60_000)], headers=ADMIN
    )
    assert posted.status_code == 200
    await store.add_pending("acct", "nightscout", "entries", [{"date": 1}])
    samples = await scrape(client)
    assert value(samples, "nightbridge_data_lag_seconds") == 7 * 60
    assert value(samples, "nightbridge_pending_batches") == 1


class RejectedSource:
    """A source whose vendor refuses the password."""

    kind: ClassVar[str] = "dexcom_share"
    account = "mum@example.org"
    cadence = timedelta(minutes=5)
    max_history = timedelta(days=1)
    session_lifetime: timedelta | None = None

    async def check(self) -> None:
        raise AuthError("Dexcom Share rejected the user name or password")

    async def fetch(self, window: FetchWindow) -> Batch:
        raise AuthError("Dexcom Share rejected the user name or password")

    async def aclose(self) -> None:
        pass


async def test_a_run_failing_with_auth_counts_an_auth_failure(
    client: httpx.AsyncClient, store: Store
) -> None:
    before = await scrape(client)
    stopped = await run_forever(
        [Job(RejectedSource(), [StoreOutput(store)])],
        store,
        clock=SystemClock(),
        stop=asyncio.Event(),
    )
    assert isinstance(stopped["mum@example.org"], AuthError)
    after = await scrape(client)
    failures = "nightbridge_poll_failures_total"
    labels = {"source": "dexcom_share", "family": "auth"}
    assert value(after, failures, **labels) - value(before, failures, **labels) == 1
    polls = "nightbridge_polls_total"
    assert (
        value(after, polls, source="dexcom_share") - value(before, polls, source="dexcom_share")
        == 1
    )


class FixedClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


async def test_records_written_per_output_and_collection(
    client: httpx.AsyncClient, store: Store
) -> None:
    before = await scrape(client)
    source = SimulatorSource(clock=FixedClock(NOW_MS))
    report = await sync_once(
        source, [StoreOutput(store)], store, now_ms=NOW_MS, since_ms=NOW_MS - 3_600_000
    )
    again = await sync_once(
        source, [StoreOutput(store)], store, now_ms=NOW_MS, since_ms=NOW_MS - 3_600_000
    )
    assert report.created > 0 and again.created == 0
    after = await scrape(client)
    name = "nightbridge_records_written_total"
    written = sum(
        value(after, name, output="store", collection=c)
        - value(before, name, output="store", collection=c)
        for c in ("entries", "treatments", "devicestatus")
    )
    assert written == report.created
    entries = value(after, name, output="store", collection="entries") - value(
        before, name, output="store", collection="entries"
    )
    assert entries == 13  # a reading every 5 minutes, both ends of the hour included


async def test_metrics_need_read_permission(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(ServerConfig.from_env({"API_SECRET": SECRET, "AUTH_DEFAULT_ROLES": "denied"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            assert (await client.get("/metrics")).status_code == 401
            samples = await scrape(client, headers=ADMIN)
    assert value(samples, "nightbridge_store_up") == 1
