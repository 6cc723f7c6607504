"""The connector table's JSON (``/dashboard/connectors.json``) and the packaged assets, over
ASGI (no browser)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig
from nightbridge.server.dashboard.connectors import ConnectorState, plain_words, state_of
from nightbridge.store import ConnectorStatus, Store

SECRET = "connectors-secret-16"
ADMIN = {"api-secret": hashlib.sha1(SECRET.encode()).hexdigest()}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    yield opened
    await opened.close()


async def get(store: Store, path: str, roles: str = "readable", **kw: object) -> httpx.Response:
    config = ServerConfig.from_env({"API_SECRET": SECRET, "AUTH_DEFAULT_ROLES": roles})
    app = create_app(config.model_copy(update={"auth_fail_delay_ms": 0}), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            return await client.get(path, **kw)  # type: ignore[arg-type]


def status(**kw: object) -> ConnectorStatus:
    fields: dict[str, object] = {
        "source": "dexcom_share",
        "account": "a",
        "last_success_ms": None,
        "last_error_ms": None,
        "last_error_family": None,
        "last_error_message": None,
        "next_poll_ms": None,
        "newest_ms": None,
    }
    fields.update(kw)
    return ConnectorStatus(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, ConnectorState.WAITING),
        ({"last_success_ms": 5, "next_poll_ms": 9}, ConnectorState.OK),
        ({"last_success_ms": 5, "last_error_ms": 3, "next_poll_ms": 9}, ConnectorState.OK),
        ({"last_success_ms": 3, "last_error_ms": 5, "next_poll_ms": 9}, ConnectorState.FAILING),
        ({"last_error_ms": 5}, ConnectorState.STOPPED),
    ],
)
def test_state_of(fields: dict[str, object], state: ConnectorState) -> None:
    assert state_of(status(**fields)) is state


@pytest.mark.parametrize(
    ("family", "words"),
    [
        ("auth", "wrong password"),
        ("terms", "terms not accepted"),
        ("server", "vendor down"),
        ("rate_limited", "rate limited"),
        ("something_new", "something new"),
        (None, None),
    ],
)
def test_plain_words(family: str | None, words: str | None) -> None:
    assert plain_words(family) == words


async def test_connectors_json_lists_rows_in_plain_words(store: Store) -> None:
    await store.record_run(
        "mum@example.org",
        "librelinkup",
        ok=False,
        at_ms=1_000,
        error_family="rate_limited",
        error_message="HTTP 429",
        next_poll_ms=2_000,
    )
    response = await get(store, "/dashboard/connectors.json")
    assert response.status_code == 200
    (row,) = response.json()["connectors"]
    assert row["source"] == "librelinkup" and row["account"] == "mum@example.org"
    assert row["state"] == "failing" and row["last_error"] == "rate limited"
    assert row["last_error_detail"] == "HTTP 429" and row["next_poll_ms"] == 2_000


async def test_connectors_need_the_read_permission(store: Store) -> None:
    assert (await get(store, "/dashboard/connectors.json", "denied")).status_code == 401
    allowed = await get(store, "/dashboard/connectors.json", "denied", headers=ADMIN)
    assert allowed.status_code == 200 and allowed.json()["connectors"] == []


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/", "text/html"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
        ("/dashboard/icon.svg", "image/svg+xml"),
    ],
)
async def test_assets_ship_in_the_package(store: Store, path: str, media: str) -> None:
    response = await get(store, path, "denied")  # the shell holds no data: always served
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert b"http://" not in response.content.replace(b"http://www.w3.org", b"")
    assert b"https://" not in response.content


async def test_unknown_assets_are_404(store: Store) -> None:
    assert (await get(store, "/dashboard/index.html")).status_code == 404
    assert (await get(store, "/dashboard/..%2Fconnectors.py")).status_code == 404
