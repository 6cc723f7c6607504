"""API v3 SEARCH, HISTORY, lastModified, version, status and auth (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from tests.server.conftest import SECRET
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

from nightbridge.server.config import ServerConfig
from nightbridge.store import Store

T0 = 1705320000000  # 2024-01-15T12:00:00Z


def _body(resp: httpx.Response) -> Any:
    return resp.json()


async def _seed_entries(v3: V3) -> None:
    rows = [
        ("sgv", 65, "dexcom G6"),
        ("sgv", 70, "dexcom G6"),
        ("sgv", 180, "xDrip-G6"),
        ("sgv", 181, "dexcom G6"),
        ("mbg", 120, "meter"),
        ("cal", 0, "dexcom G7"),
    ]
    for i, (kind, value, device) in enumerate(rows):
        doc: dict[str, Any] = {
            "type": kind,
            "date": T0 + i * 300_000,
            "app": "test",
            "device": device,
            "sgv" if kind == "sgv" else kind: value,
        }
        assert (await v3.post("entries", doc)).status_code == 201


async def _search(v3: V3, **params: Any) -> list[dict[str, Any]]:
    resp = await v3.get("entries", params=params)
    assert resp.status_code == 200, resp.text
    body = _body(resp)
    assert body["status"] == 200
    result: list[dict[str, Any]] = body["result"]
    return result


async def test_filters_and_sorting(v3: V3) -> None:
    await _seed_entries(v3)
    assert len(await _search(v3)) == 6
    assert {d["type"] for d in await _search(v3, type="sgv")} == {"sgv"}
    assert {d["type"] for d in await _search(v3, **{"type$ne": "mbg"})} == {"sgv", "cal"}
    assert [d["sgv"] for d in await _search(v3, **{"sgv$gt": 180})] == [181]
    assert sorted(d["sgv"] for d in await _search(v3, **{"sgv$gte": "180"})) == [180, 181]
    assert [d["sgv"] for d in await _search(v3, **{"sgv$lt": 70})] == [65]
    ranged = await _search(v3, **{"sgv$gte": 70, "sgv$lte": 180, "sort": "date"})
    assert [d["sgv"] for d in ranged] == [70, 180]
    assert len(await _search(v3, **{"type$in": "mbg|cal"})) == 2
    assert {d["type"] for d in await _search(v3, **{"type$nin": "cal|mbg"})} == {"sgv"}
    regex = await _search(v3, **{"device$re": "dexcom.*G6"})
    assert len(regex) == 3
    desc = await _search(v3, **{"sort$desc": "date", "limit": 2})
    assert [d["date"] for d in desc] == [T0 + 5 * 300_000, T0 + 4 * 300_000]
    page = await _search(v3, sort="date", limit=2, skip=2)
    assert [d["date"] for d in page] == [T0 + 2 * 300_000, T0 + 3 * 300_000]
    by_date = await _search(v3, **{"date$gte": "2024-01-15T12:20:00Z"})
    assert len(by_date) == 2
    quoted = await _search(v3, device="'meter'")
    assert [d["type"] for d in quoted] == ["mbg"]


async def test_fields_projection_and_soft_deleted_hidden(v3: V3) -> None:
    await _seed_entries(v3)
    projected = await _search(v3, fields="date,sgv", type="sgv", sort="date", limit=1)
    assert projected == [{"date": T0, "sgv": 65}]
    everything = await _search(v3, fields="_all", limit=1)
    assert "identifier" in everything[0]
    victim = everything[0]["identifier"]
    assert (
        await v3.client.delete(f"/api/v3/entries/{victim}", headers=v3.admin)
    ).status_code == 200
    assert victim not in {d["identifier"] for d in await _search(v3)}


async def test_search_parameter_errors(v3: V3) -> None:
    for params, message in [
        ({"limit": -5}, "Parameter limit out of tolerance"),
        ({"skip": -10}, "Parameter skip out of tolerance"),
        ({"sort": "date", "sort$desc": "date"}, "Parameters sort and sort_desc cannot be combined"),
        ({"sgv$like": "180"}, "Unsupported filter operator like"),
    ]:
        resp = await v3.get("entries", params=params)
        assert (resp.status_code, _body(resp)) == (400, {"status": 400, "message": message})
    for params in ({"isSMB$gt": "true"}, {"a..b": "1"}):
        resp = await v3.get("treatments", params=params)
        assert resp.status_code == 400
        assert _body(resp)["message"].startswith("Bad filter")


async def test_history_by_path_and_header(v3: V3) -> None:
    await v3.post("treatments", {"identifier": "a", "date": T0, "app": "t", "eventType": "Note"})
    start = _body(await v3.get("treatments/a"))["result"]["srvModified"]
    await v3.post(
        "treatments", {"identifier": "b", "date": T0 + 1, "app": "t", "eventType": "Note"}
    )
    await v3.client.delete("/api/v3/treatments/a", headers=v3.admin)

    since = await v3.get(f"treatments/history/{start - 1}")
    assert since.status_code == 200
    docs = _body(since)["result"]
    assert {d["identifier"] for d in docs} == {"a", "b"}
    assert [d["srvModified"] for d in docs] == sorted(d["srvModified"] for d in docs)
    deleted = next(d for d in docs if d["identifier"] == "a")
    assert deleted["isValid"] is False
    newest = max(d["srvModified"] for d in docs)
    assert since.headers["etag"] == f'W/"{newest}"'
    assert since.headers["last-modified"].endswith("GMT")

    header = await v3.get(
        "treatments/history",
        headers={**v3.admin, "Last-Modified": "Thu, 15 Jan 2015 12:00:00 GMT"},
    )
    assert len(_body(header)["result"]) == 2
    limited = await v3.get(
        f"treatments/history/{start - 1}", params={"limit": 1, "fields": "identifier"}
    )
    assert len(_body(limited)["result"]) == 1
    assert set(_body(limited)["result"][0]) == {"identifier"}
    empty = await v3.get(f"treatments/history/{newest}")
    assert _body(empty)["result"] == []
    assert "etag" not in empty.headers


async def test_history_without_timestamp_is_400(v3: V3) -> None:
    resp = await v3.get("entries/history")
    assert _body(resp) == {
        "status": 400,
        "message": "Bad or missing Last-Modified header/parameter",
    }
    bad = await v3.get("entries/history/yesterday")
    assert bad.status_code == 400


async def test_last_modified_version_status(v3: V3) -> None:
    await v3.post("entries", {"type": "sgv", "sgv": 100, "date": T0, "app": "t"})
    last = _body(await v3.get("lastModified"))["result"]
    assert set(last["collections"]) == {"entries"}
    assert last["collections"]["entries"] >= T0
    assert isinstance(last["srvDate"], int)

    version = await v3.client.get("/api/v3/version")  # public: no token
    assert version.status_code == 200
    info = _body(version)["result"]
    assert info["apiVersion"].startswith("3.")
    assert info["storage"]["storage"] in ("sqlite", "postgresql")

    admin_status = _body(await v3.get("status"))["result"]
    assert admin_status["apiPermissions"]["settings"] == "crud"
    # The default role here is ``readable``: every subject can read every collection.
    writer = await v3.jwt_for("api:treatments:create")
    status = _body(await v3.get("status", headers=writer))["result"]
    assert status["apiPermissions"]["treatments"] == "cr"
    assert status["apiPermissions"]["entries"] == "r"


async def test_last_modified_lists_only_readable_collections(
    make_app: Callable[..., FastAPI], store: Store, sleeps: Any
) -> None:
    app = make_app(ServerConfig.from_env({"API_SECRET": SECRET, "AUTH_DEFAULT_ROLES": "denied"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            v3 = V3(client, store, app.state.auth, slept=sleeps.calls)
            v3.admin = await v3.jwt_for("*")
            await v3.post("entries", {"type": "sgv", "sgv": 100, "date": T0, "app": "t"})
            await v3.post("food", {"date": T0, "app": "t", "name": "apple"})
            reader = await v3.jwt_for("api:entries:read", "api:treatments:read,create")
            status = _body(await v3.get("status", headers=reader))["result"]
            assert status["apiPermissions"] == {"entries": "r", "treatments": "cr"}
            last = _body(await v3.get("lastModified", headers=reader))["result"]
            assert set(last["collections"]) == {"entries"}
            everything = _body(await v3.get("lastModified"))["result"]
            assert set(everything["collections"]) == {"entries", "food"}


async def test_auth_is_bearer_jwt_only(v3: V3) -> None:
    missing = await v3.client.get("/api/v3/entries")
    assert _body(missing) == {"status": 401, "message": "Missing or bad access token or JWT"}
    assert v3.slept == []
    bad = await v3.client.get("/api/v3/entries", headers={"Authorization": "Bearer nope"})
    assert _body(bad) == {"status": 401, "message": "Bad access token or JWT"}
    secret = await v3.client.get(
        "/api/v3/entries", headers={"api-secret": "whatever"}, params={"token": "x"}
    )
    assert secret.status_code == 401
    no_status = await v3.client.get("/api/v3/status")
    assert no_status.status_code == 401
    assert v3.slept and v3.slept[0] > 0  # a bad JWT slows the address down


async def test_permissions_per_operation(v3: V3) -> None:
    reader = await v3.jwt_for("api:entries:read")
    assert (await v3.get("entries", headers=reader)).status_code == 200
    denied = await v3.post("entries", {"date": T0, "app": "t"}, headers=reader)
    assert _body(denied) == {"status": 403, "message": "Missing permission api:entries:create"}
    settings = await v3.get("settings", headers=await v3.jwt_for("api:settings:read"))
    assert _body(settings) == {"status": 403, "message": "Missing permission api:settings:admin"}
    admin_settings = await v3.get("settings", headers=await v3.jwt_for("api:settings:admin"))
    assert admin_settings.status_code == 200
