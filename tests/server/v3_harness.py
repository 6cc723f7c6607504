"""Helpers for the API v3 tests, on top of tests/server/conftest.py.

``v3`` (fixture) wraps the shared ``app``/``client``/``store`` fixtures — the real
``create_app`` over SQLite and PostgreSQL, a frozen clock, recorded failure delays — and mints
Bearer JWTs for subjects holding any permission set, the way a Nightscout admin would (role,
subject, access token, ``/api/v2/authorization/request`` JWT), without going through HTTP.

``start_v3(url)`` builds the same thing outside the function-scoped fixtures (module-scoped
data sets); ``fresh_database`` yields an empty SQLite or PostgreSQL database URL.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightbridge.server.app import create_app
from nightbridge.server.auth import AuthService
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.auth.roles import Subject
from nightbridge.server.config import ServerConfig
from nightbridge.store import Store

API_SECRET = "v3-test-secret-0123456789"
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class V3:
    """A client of the server plus ways to mint JWTs and reach the store directly."""

    client: httpx.AsyncClient
    store: Store
    auth: AuthService
    admin: dict[str, str] = field(default_factory=dict)
    #: Seconds the failed-login penalty made requests wait (never slept for real).
    slept: list[float] = field(default_factory=list)

    async def jwt_for(self, *permissions: str, name: str | None = None) -> dict[str, str]:
        """Headers with a Bearer JWT of a new subject holding exactly ``permissions``."""
        role = f"role-{uuid.uuid4().hex[:8]}"
        await self.store.create_role(role, permissions)
        subject = Subject(str(uuid.uuid4()), name or f"subj{uuid.uuid4().hex[:6]}", (role,))
        token = self.auth.token_of(subject)
        assert token is not None
        await self.store.create_subject(subject.name, (role,), token, subject_id=subject.id)
        await self.auth.reload()
        return {"Authorization": f"Bearer {self.auth.jwt.issue(token).token}"}

    async def post(self, collection: str, doc: Any, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", self.admin)
        return await self.client.post(f"/api/v3/{collection}", json=doc, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", self.admin)
        return await self.client.get(f"/api/v3/{path}", headers=headers, **kw)


@pytest.fixture(name="v3")
async def v3_fixture(app: FastAPI, client: httpx.AsyncClient, store: Store, sleeps: Any) -> V3:
    """The real app on a fresh store; ``v3.admin`` holds headers with an admin (``*``) JWT."""
    harness = V3(client, store, app.state.auth, slept=sleeps.calls)
    harness.admin = await harness.jwt_for("*", name="admin-tester")
    return harness


@asynccontextmanager
async def start_v3(database_url: str) -> AsyncIterator[V3]:
    """Open a store at ``database_url`` and serve the whole app over it (see ``v3``)."""
    store = await Store.open(database_url)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    config = ServerConfig.from_env({"API_SECRET": API_SECRET})
    app = create_app(config, store=store, delays=FailureDelays(sleep=fake_sleep))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
                harness = V3(client, store, app.state.auth, slept=slept)
                harness.admin = await harness.jwt_for("*", name="admin-tester")
                yield harness
    finally:
        await store.close()


def postgres_reachable() -> bool:
    """True when something listens on 127.0.0.1:5432."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield a URL of an empty database of ``backend``; PostgreSQL schemas are dropped after."""
    if backend == "sqlite":
        yield str(tmp_path / "v3.db")
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    loop = asyncio.new_event_loop()
    gen = _pg_url()
    try:
        yield loop.run_until_complete(gen.__anext__())
    finally:
        loop.run_until_complete(gen.aclose())
        loop.close()


async def _pg_url() -> AsyncGenerator[str, None]:
    import asyncpg  # type: ignore[import-untyped]

    schema = f"v3_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_BASE)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
