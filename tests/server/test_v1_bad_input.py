"""Bad input answers 4xx in Nightscout's error shape and writes nothing."""

from __future__ import annotations

import httpx
import pytest
from tests.server.conftest import ADMIN, NOW_MS, sgv

from nightbridge.server.deps import SMALL_BODY


def assert_shape(res: httpx.Response, status: int) -> dict[str, object]:
    assert res.status_code == status, res.text
    body = res.json()
    assert body["status"] == status and isinstance(body["message"], str)
    return body  # type: ignore[no-any-return]


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    res = await client.post(
        "/api/v1/entries",
        content=b'[{"type": "sgv",',
        headers={**ADMIN, "content-type": "application/json"},
    )
    assert "malformed JSON" in str(assert_shape(res, 400)["description"])


@pytest.mark.parametrize(
    "body", [42, "text", [1, 2], [{"type": "sgv", "date": NOW_MS}, "x"], [{"date": "soon"}]]
)
async def test_wrong_shapes_write_nothing(client: httpx.AsyncClient, body: object) -> None:
    res = await client.post("/api/v1/entries", json=body, headers=ADMIN)
    assert_shape(res, 400)
    assert (await client.get("/api/v1/entries.json")).json() == []


async def test_one_bad_item_rejects_the_whole_batch(client: httpx.AsyncClient) -> None:
    batch = [sgv(NOW_MS), {"type": "sgv", "sgv": 1, "dateString": "not a date"}]
    assert_shape(await client.post("/api/v1/entries", json=batch, headers=ADMIN), 400)
    assert (await client.get("/api/v1/entries.json")).json() == []


async def test_oversized_bodies(client: httpx.AsyncClient) -> None:
    big = b"[" + b" " * (SMALL_BODY + 1) + b"]"
    res = await client.post(
        "/api/v1/devicestatus", content=big, headers={**ADMIN, "content-type": "application/json"}
    )
    assert_shape(res, 413)


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    assert_shape(await client.get("/api/v1/nosuchcollection"), 404)
    assert_shape(await client.patch("/api/v1/entries", json={}), 405)


async def test_unsupported_media_type(client: httpx.AsyncClient) -> None:
    res = await client.post(
        "/api/v1/treatments",
        content=b"<xml/>",
        headers={**ADMIN, "content-type": "application/xml"},
    )
    assert_shape(res, 415)


async def test_form_encoded_body_is_accepted(client: httpx.AsyncClient) -> None:
    res = await client.post(
        "/api/v1/treatments",
        content=b"eventType=Note&notes=hello&created_at=2024-06-01T11:00:00Z",
        headers={**ADMIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert res.status_code == 200
    assert res.json()[0]["notes"] == "hello"
