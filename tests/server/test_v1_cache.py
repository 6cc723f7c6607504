"""The v1 response cache and the spliced read path.

The cache may only serve what a client could not tell apart from a fresh read: every v1 *and*
v3 write to a collection drops its cached answers. The spliced JSON (api_v1.splice) must be
the document that decoding and re-encoding gives.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from tests.server.conftest import ADMIN, NOW_MS, sgv
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

from nightbridge.server.api_v1.cache import ResponseCache
from nightbridge.server.api_v1.documents import with_object_id
from nightbridge.server.api_v1.splice import json_documents, newest_date
from nightbridge.store import Store
from nightbridge.store.codec import decode
from nightbridge.store.documents import RawDoc

V1_LIST = "/api/v1/entries.json?count=50"


def _long_cache(app: FastAPI) -> None:
    """A cache that never expires during the test: only invalidation can refresh it."""
    app.state.v1_cache = ResponseCache(ttl_s=3600)


async def _v1_sgvs(v3: V3) -> list[Any]:
    resp = await v3.client.get(V1_LIST, headers=ADMIN)
    assert resp.status_code == 200
    return [d.get("sgv") for d in resp.json()]


async def test_v3_writes_invalidate_the_v1_cache(v3: V3, app: FastAPI, store: Store) -> None:
    _long_cache(app)
    assert await _v1_sgvs(v3) == []
    # A write that bypasses both APIs stays invisible while cached: the cache is in effect.
    await store.upsert_natural("entries", [sgv(NOW_MS - 600_000, 90)])
    assert await _v1_sgvs(v3) == []

    created = await v3.post("entries", {**sgv(NOW_MS - 300_000, 110), "app": "test"})
    assert created.status_code == 201
    assert await _v1_sgvs(v3) == [110, 90]

    ident = created.json()["identifier"]
    patched = await v3.client.patch(f"/api/v3/entries/{ident}", json={"sgv": 115}, headers=v3.admin)
    assert patched.status_code == 200
    assert await _v1_sgvs(v3) == [115, 90]

    deleted = await v3.client.delete(f"/api/v3/entries/{ident}", headers=v3.admin)
    assert deleted.status_code == 200
    assert await _v1_sgvs(v3) == [90]


async def test_v1_post_invalidates_and_reads_its_own_write(v3: V3, app: FastAPI) -> None:
    _long_cache(app)
    assert await _v1_sgvs(v3) == []
    posted = await v3.client.post("/api/v1/entries", json=[sgv(NOW_MS, 140)], headers=ADMIN)
    assert posted.status_code == 200
    assert await _v1_sgvs(v3) == [140]


def _decoded(raw: RawDoc, object_id: bool) -> dict[str, Any]:
    doc = decode(raw.body, raw.identifier, raw.srv_created, raw.srv_modified, raw.is_valid)
    if object_id:
        return with_object_id(doc)
    doc.pop("_id", None)
    return doc


RAWS = [
    RawDoc(
        '{"date":1,"sgv":100,"type":"sgv"}', "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", 5, 6, True, 1
    ),
    RawDoc("{}", "plain", 7, 8, True, None),
    RawDoc('{"_id":"65a1b2c3d4e5f60718293a4b","date":3}', "x-y", 1, 2, True, 3),
    RawDoc('{"n": {"_id": 1}, "q": "a\\"b"}', 'we"ird\\id', 1, 2, False, None),
    RawDoc('{"date": 2, "k": [1, 2]}', "pg-style", 3, 4, True, 2),
]


def test_spliced_json_equals_decoded_documents() -> None:
    for object_id in (True, False):
        spliced = orjson.loads(json_documents(RAWS, object_id=object_id))
        assert spliced == [_decoded(raw, object_id) for raw in RAWS]
    first = orjson.loads(json_documents(RAWS[:1], object_id=True))[0]
    assert first["_id"] == "0a1b2c3d4e5f60718293a4b5"
    assert list(first) == ["date", "sgv", "type", "identifier", "srvCreated", "srvModified", "_id"]
    client_id = orjson.loads(json_documents(RAWS[2:3], object_id=True))[0]
    assert client_id["_id"] == "65a1b2c3d4e5f60718293a4b"
    assert "_id" not in orjson.loads(json_documents(RAWS[2:3], object_id=False))[0]
    assert orjson.loads(json_documents(RAWS[3:4], object_id=False))[0]["isValid"] is False
    assert json_documents([], object_id=True) == "[]"
    assert newest_date(RAWS) == 3
    assert newest_date(RAWS[1:2]) is None
