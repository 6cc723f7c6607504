"""Server test fixtures: the app over SQLite and PostgreSQL, clients, a fixed clock.

``backend`` is parametrized: every test using ``app``/``client`` runs on SQLite (a temp file)
and PostgreSQL (a fresh schema in database ``test`` on 127.0.0.1:5432, marked ``postgres``;
skipped with one line when the port is closed).
"""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightbridge.server.app import create_app
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.config import ServerConfig
from nightbridge.store import Store

SECRET = "a-secret-of-length-16"
SECRET_SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()
SECRET_SHA512 = hashlib.sha512(SECRET.encode()).hexdigest()
ADMIN = {"api-secret": SECRET_SHA1}
#: 2024-06-01T12:00:00Z: the frozen "now" of the app under test.
NOW_MS = 1_717_243_200_000
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


class FrozenClock:
    """Epoch ms (``__call__``) and seconds (``seconds``) that tests move by hand."""

    def __init__(self, ms: int = NOW_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def seconds(self) -> float:
        return self.ms / 1000

    def advance(self, ms: int) -> None:
        self.ms += ms


class RecordingSleep:
    """An injected ``sleep`` that records what it was asked to wait and never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not _postgres_up():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    return str(request.param)


@pytest.fixture
async def store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    if backend == "sqlite":
        opened = await Store.open(f"sqlite:///{tmp_path / 'server.db'}")
        yield opened
        await opened.close()
        return
    import asyncpg  # type: ignore[import-untyped]

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_BASE)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        opened = await Store.open(f"{PG_BASE}?options=-csearch_path%3D{schema}")
        yield opened
        await opened.close()
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def config() -> ServerConfig:
    return ServerConfig.from_env({"API_SECRET": SECRET, "NIGHTBRIDGE_DATA_DIR": "/nonexistent"})


@pytest.fixture
def make_app(store: Store, clock: FrozenClock, sleeps: RecordingSleep) -> Callable[..., FastAPI]:
    def build(config: ServerConfig | None = None, **kwargs: Any) -> FastAPI:
        delays = FailureDelays(5.0, clock=clock.seconds, sleep=sleeps)
        cfg = config or ServerConfig.from_env({"API_SECRET": SECRET})
        return create_app(cfg, store=store, clock=clock, delays=delays, **kwargs)

    return build


@pytest.fixture
async def app(make_app: Callable[..., FastAPI], config: ServerConfig) -> AsyncIterator[FastAPI]:
    built = make_app(config)
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://nightscout.test") as c:
        yield c


def sgv(ms: int, value: int = 120, **extra: Any) -> dict[str, Any]:
    """An sgv entry as xDrip+/uploaders send it."""
    from nightbridge.model.time import iso_utc

    return {
        "type": "sgv",
        "sgv": value,
        "date": ms,
        "dateString": iso_utc(ms),
        "direction": "Flat",
        "device": "xDrip-DexcomG6",
        **extra,
    }
