"""End to end over real loopback HTTP: nightbridge's own nightscout_v1 output writes into the
server twice and the server holds one copy (entries and treatments)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from tests.fakes.loopback import serve
from tests.server.conftest import PG_BASE, SECRET, SECRET_SHA1

from nightbridge.model import Collection, Entry, Treatment
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig

pytestmark = pytest.mark.e2e
NOW = 1_717_243_200_000


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'loop.db'}"
        return
    import asyncio

    import asyncpg  # type: ignore[import-untyped]

    schema = f"l_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_BASE)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def base_url(database_url: str) -> Iterator[str]:
    config = ServerConfig(api_secret=SecretStr(SECRET), database_url=database_url)
    with serve(create_app(config)) as url:
        yield url


def _entries() -> list[Entry]:
    return [
        Entry.build(type="sgv", sgv=100 + i, date=NOW - i * 300_000, device="loop-test")
        for i in range(12)
    ]


def _treatments() -> list[Treatment]:
    return [
        Treatment.build(eventType="Correction Bolus", date=NOW - 600_000, insulin=1.5),
        Treatment.build(eventType="Carb Correction", date=NOW - 900_000, carbs=20),
    ]


async def test_v1_output_round_trip_writes_once(base_url: str) -> None:
    output = NightscoutV1Output(base_url, SecretStr(SECRET))
    await output.open()
    try:
        for _ in range(2):
            await output.write(Collection.ENTRIES, _entries())
            await output.write(Collection.TREATMENTS, _treatments())
        assert await output.newest(Collection.ENTRIES) == NOW
    finally:
        await output.aclose()
    headers = {"api-secret": SECRET_SHA1}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        since = NOW - 10 * 86_400_000
        entries = await client.get(f"/api/v1/entries.json?count=100&find[date][$gte]={since}")
        assert len(entries.json()) == 12
        assert entries.json()[0]["sgv"] == 100
        treatments = await client.get(
            "/api/v1/treatments.json?find[created_at][$gte]=2024-05-01T00:00:00Z"
        )
        assert sorted(t["eventType"] for t in treatments.json()) == [
            "Carb Correction",
            "Correction Bolus",
        ]
