"""``/healthz`` (process alive, no database) and ``/readyz`` (store reachable and migrated)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig
from nightbridge.store import Store
from nightbridge.store.migrations import latest_version


async def test_a_working_store_is_ready(client: httpx.AsyncClient, store: Store) -> None:
    alive = await client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": latest_version(store.dialect)}
    assert ready.headers["cache-control"] == "no-store"


async def test_a_closed_store_is_not_ready_but_the_process_is_alive(
    client: httpx.AsyncClient, store: Store
) -> None:
    await store.close()
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "store unreachable"}
    assert (await client.get("/healthz")).status_code == 200


async def test_probes_need_no_credential(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(ServerConfig.from_env({"API_SECRET": "x" * 16, "AUTH_DEFAULT_ROLES": "denied"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/api/v1/entries.json")).status_code == 401


async def test_missing_migrations_are_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "behind.db"
    store = await Store.open(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:  # as if an older release had created the file
        conn.execute("DELETE FROM nb_schema_versions")
    conn.close()
    app = create_app(ServerConfig(), store=store)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as c:
                ready = await c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "migrations pending"
    finally:
        await store.close()
