"""Upsert by identifier: counts, server fields, replacement, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from nightbridge.store import DocQuery, Store, UpsertResult

T0 = 1_700_000_000_000


def entry(i: int, sgv: int = 100, **extra: object) -> dict[str, object]:
    return {
        "identifier": f"id-{i}",
        "type": "sgv",
        "date": T0 + i * 300_000,
        "sgv": sgv,
        "device": "dev",
        **extra,
    }


async def test_insert_sets_server_times_and_keeps_every_field(store: Store) -> None:
    doc = entry(1, extra={"nested": {"a": [1, 2.5, None]}}, weird_key="ü")
    result = await store.upsert("entries", [doc], now_ms=T0 + 5)
    assert result == UpsertResult(created=1)
    got = await store.get("entries", "id-1")
    assert got is not None
    assert got["srvCreated"] == got["srvModified"] == T0 + 5
    assert got["extra"] == {"nested": {"a": [1, 2.5, None]}}
    assert got["weird_key"] == "ü"
    assert "isValid" not in got
    assert {k: got[k] for k in doc} == doc


async def test_identical_rewrite_is_unchanged_and_keeps_srv_modified(store: Store) -> None:
    await store.upsert("entries", [entry(1), entry(2)], now_ms=T0)
    # key order and client server fields do not make a document different
    again = [{"srvModified": 1, **dict(reversed(list(entry(1).items())))}, entry(2)]
    result = await store.upsert("entries", again, now_ms=T0 + 1000)
    assert result == UpsertResult(unchanged=2)
    got = await store.get("entries", "id-1")
    assert got is not None and got["srvModified"] == T0


async def test_changed_document_replaced_srv_created_kept(store: Store) -> None:
    await store.upsert("entries", [entry(1, sgv=100, note="x")], now_ms=T0)
    result = await store.upsert("entries", [entry(1, sgv=120)], now_ms=T0 + 1000)
    assert result == UpsertResult(updated=1)
    got = await store.get("entries", "id-1")
    assert got is not None
    assert got["sgv"] == 120 and "note" not in got
    assert (got["srvCreated"], got["srvModified"]) == (T0, T0 + 1000)
    assert await store.count("entries") == 1


async def test_in_batch_duplicates_count_once_last_wins(store: Store) -> None:
    batch = [entry(1, sgv=100), entry(1, sgv=100), entry(1, sgv=130), entry(2)]
    result = await store.upsert("entries", batch, now_ms=T0)
    assert result == UpsertResult(created=2, updated=1, unchanged=1)
    got = await store.get("entries", "id-1")
    assert got is not None and got["sgv"] == 130
    assert await store.count("entries") == 2


async def test_collections_are_separate(store: Store) -> None:
    await store.upsert("entries", [entry(1)])
    result = await store.upsert("treatments", [{**entry(1), "eventType": "Note"}])
    assert result.created == 1
    assert await store.count("entries") == 1 and await store.count("treatments") == 1


async def test_missing_identifier_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="identifier"):
        await store.upsert("entries", [{"date": T0, "sgv": 100}])
    assert await store.count("entries") == 0


async def test_soft_deleted_document_is_revived_by_upsert(store: Store) -> None:
    await store.upsert("entries", [entry(1)], now_ms=T0)
    assert await store.delete("entries", "id-1", now_ms=T0 + 1)
    result = await store.upsert("entries", [entry(1)], now_ms=T0 + 2)
    assert result == UpsertResult(updated=1)
    got = await store.get("entries", "id-1")
    assert got is not None and "isValid" not in got and got["srvModified"] == T0 + 2


async def test_empty_batch(store: Store) -> None:
    assert await store.upsert("entries", []) == UpsertResult()


async def test_large_batch_crosses_chunks(store: Store) -> None:
    docs = [entry(i, sgv=40 + i % 300) for i in range(2_500)]
    assert (await store.upsert("entries", docs)).created == 2_500
    assert (await store.upsert("entries", docs)).unchanged == 2_500
    assert await store.count("entries") == 2_500


async def test_concurrent_upserts_of_same_identifier_leave_one_row(db_url: str) -> None:
    a, b = await Store.open(db_url), await Store.open(db_url)
    try:
        docs = [entry(i) for i in range(200)]
        results = await asyncio.gather(
            *(s.upsert("entries", docs) for s in (a, b, a, b)),
        )
        assert sum(r.created for r in results) >= 200
        assert all(r.created + r.updated + r.unchanged == 200 for r in results)
        assert await a.count("entries") == 200
        assert len(await a.find("entries", DocQuery(limit=1000))) == 200
    finally:
        await a.close()
        await b.close()
