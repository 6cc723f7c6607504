"""v1 credentials on real requests: secret forms, tokens, JWTs, default roles, penalties."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI
from tests.server.conftest import (
    NOW_MS,
    SECRET,
    SECRET_SHA1,
    SECRET_SHA512,
    FrozenClock,
    RecordingSleep,
    sgv,
)

from nightbridge.server.config import ServerConfig

UNAUTHORIZED = {"status": 401, "message": "Unauthorized", "description": "Invalid/Missing"}


async def test_secret_forms_that_grant_write(client: httpx.AsyncClient) -> None:
    ok = [
        ({"api-secret": SECRET_SHA1}, ""),
        ({"API-SECRET": SECRET_SHA1.upper()}, ""),
        ({"api-secret": SECRET_SHA512}, ""),
        ({}, f"?secret={SECRET_SHA1}"),
    ]
    for i, (headers, query) in enumerate(ok):
        res = await client.post(
            f"/api/v1/entries{query}", json=[sgv(NOW_MS - i * 60_000)], headers=headers
        )
        assert res.status_code == 200, (headers, query)
    body = [{**sgv(NOW_MS - 10 * 60_000), "secret": SECRET_SHA1}]
    res = await client.post("/api/v1/entries", json=body)
    assert res.status_code == 200
    assert "secret" not in res.json()[0]


async def test_plain_secret_and_wrong_hash_are_refused(client: httpx.AsyncClient) -> None:
    for value in (SECRET, "0" * 40):
        res = await client.post(
            "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": value}
        )
        assert res.status_code == 401
        assert res.json() == UNAUTHORIZED


async def test_anonymous_reads_with_default_readable(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/entries.json")).status_code == 200
    res = await client.post("/api/v1/treatments", json=[{"eventType": "Note"}])
    assert res.status_code == 401


async def test_denied_default_role_blocks_reads(
    make_app: Callable[..., FastAPI],
) -> None:
    cfg = ServerConfig.from_env({"API_SECRET": SECRET, "AUTH_DEFAULT_ROLES": "denied"})
    app = make_app(cfg)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/api/v1/entries.json")).status_code == 401
            ok = await c.get("/api/v1/entries.json", headers={"api-secret": SECRET_SHA1})
            assert ok.status_code == 200
            status = await c.get("/api/v1/status.json")
            assert status.status_code == 401


async def test_failed_attempt_slows_the_address(
    client: httpx.AsyncClient, sleeps: RecordingSleep, clock: FrozenClock
) -> None:
    bad = {"api-secret": "f" * 40}
    assert (await client.post("/api/v1/entries", json=[], headers=bad)).status_code == 401
    await client.get("/api/v1/entries.json")
    assert sleeps.calls == [5.0]
    await client.post("/api/v1/entries", json=[], headers=bad)
    await client.post("/api/v1/entries", json=[], headers=bad)
    res = await client.get("/api/v1/entries.json")
    assert res.status_code == 429
    assert int(res.headers["retry-after"]) >= 10
    clock.advance(61_000)
    ok = await client.post("/api/v1/entries", json=[], headers={"api-secret": SECRET_SHA1})
    assert ok.status_code == 200


async def test_verifyauth_shapes(client: httpx.AsyncClient) -> None:
    anon = (await client.get("/api/v1/verifyauth")).json()
    assert anon["status"] == 200
    assert anon["message"]["canRead"] is True
    assert anon["message"]["canWrite"] is False
    assert anon["message"]["message"] == "UNAUTHORIZED"
    assert anon["message"]["permissions"] == "DEFAULT"
    admin = (await client.get("/api/v1/verifyauth", headers={"api-secret": SECRET_SHA1})).json()
    assert admin["message"] == {
        "canRead": True,
        "canWrite": True,
        "isAdmin": True,
        "message": "OK",
        "rolefound": "FOUND",
        "permissions": "ROLE",
    }


async def test_demo_without_secret_is_read_only(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(ServerConfig(demo=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/api/v1/entries.json")).status_code == 200
            for value in (SECRET_SHA1, "", "token=x"):
                res = await c.post(
                    "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": value}
                )
                assert res.status_code == 401
