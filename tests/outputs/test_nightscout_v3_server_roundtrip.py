"""nightbridge's ``nightscout_v3`` output writes into nightbridge's own server over loopback.

The real app (``create_app``) runs on 127.0.0.1 over SQLite or PostgreSQL; an admin creates an
uploader subject through ``/api/v2/authorization`` with the API secret, the output exchanges its
access token for a JWT and creates documents through ``/api/v3``. Writing the same batch twice
leaves one copy of each document; the second round is answered 200 ``isDeduplication``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from nightbridge.model import Collection, Entry, Treatment
from nightbridge.model.time import now_ms
from nightbridge.outputs.base import WriteResult
from nightbridge.outputs.nightscout_v3 import NightscoutV3Output
from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig
from tests.fakes.loopback import serve
from tests.server.v3_harness import BACKENDS, fresh_database

SECRET = "roundtrip-secret-0123456789"
ADMIN = {"api-secret": hashlib.sha1(SECRET.encode()).hexdigest()}


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Base URL of the real server on loopback over a fresh database."""
    for url in fresh_database(request.param, tmp_path):
        config = ServerConfig.from_env(
            {
                "API_SECRET": SECRET,
                "NIGHTBRIDGE_DATABASE_URL": url,
                "NIGHTBRIDGE_DATA_DIR": str(tmp_path),
                "AUTH_DEFAULT_ROLES": "denied",
            }
        )
        with serve(create_app(config)) as base:
            yield base


async def _uploader_token(client: httpx.AsyncClient) -> str:
    role = await client.post(
        "/api/v2/authorization/roles",
        json={"name": "uploader", "permissions": ["api:*:read", "api:*:create", "api:*:update"]},
        headers=ADMIN,
    )
    assert role.status_code == 200, role.text
    subject = await client.post(
        "/api/v2/authorization/subjects",
        json={"name": "nightbridge", "roles": ["uploader"]},
        headers=ADMIN,
    )
    assert subject.status_code == 200, subject.text
    token: str = subject.json()["accessToken"]
    return token


def _batch() -> tuple[list[Entry], list[Treatment]]:
    start = now_ms() - 3_600_000
    entries = [
        Entry.build(type="sgv", sgv=100 + i, date=start + i * 300_000, device="nightbridge-test")
        for i in range(5)
    ]
    treatments = [
        Treatment.build(
            eventType="Correction Bolus", insulin=1.5, date=start, device="nightbridge-test"
        ),
        Treatment.build(
            eventType="Carb Correction", carbs=12, date=start, device="nightbridge-test"
        ),
    ]
    return entries, treatments


async def test_v3_output_round_trips_and_deduplicates(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        token = await _uploader_token(client)
        output = NightscoutV3Output(server, SecretStr(token), client=client)
        await output.open()
        entries, treatments = _batch()

        assert await output.write(Collection.ENTRIES, entries) == WriteResult(created=5)
        assert await output.write(Collection.TREATMENTS, treatments) == WriteResult(created=2)
        assert await output.write(Collection.ENTRIES, entries) == WriteResult(duplicates=5)
        assert await output.write(Collection.TREATMENTS, treatments) == WriteResult(duplicates=2)
        assert await output.newest(Collection.ENTRIES, "nightbridge-test") == entries[-1].date

        jwt = (await client.get(f"/api/v2/authorization/request/{token}")).json()["token"]
        bearer = {"Authorization": f"Bearer {jwt}"}
        stored = (await client.get("/api/v3/entries", headers=bearer)).json()["result"]
        assert sorted(d["sgv"] for d in stored) == [100, 101, 102, 103, 104]
        assert {d["identifier"] for d in stored} == {e.identifier for e in entries}
        assert all(d["subject"] == "nightbridge" for d in stored)
        kept = (await client.get("/api/v3/treatments", headers=bearer)).json()["result"]
        assert len(kept) == 2

        # The same document once more, as raw HTTP: 200 with isDeduplication.
        again = await client.post("/api/v3/entries", json=stored[0], headers=bearer)
        assert again.status_code == 200
        assert again.json()["isDeduplication"] is True
        assert again.json()["identifier"] == stored[0]["identifier"]
        await output.aclose()
