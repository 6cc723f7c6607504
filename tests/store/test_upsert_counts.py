"""Upsert counts when one call mixes every case (SQLite counts without a look-up first)."""

from __future__ import annotations

from nightbridge.store import Store, UpsertResult

T0 = 1_700_000_000_000


def entry(i: int, sgv: int = 100) -> dict[str, object]:
    return {"identifier": f"id-{i}", "type": "sgv", "date": T0 + i * 300_000, "sgv": sgv}


async def test_one_call_with_every_case_counts_each_once(store: Store) -> None:
    await store.upsert("entries", [entry(1), entry(2), entry(3)], now_ms=T0)
    assert await store.delete("entries", "id-3", now_ms=T0 + 1)
    batch = [
        entry(1),  # unchanged
        entry(2, sgv=150),  # updated
        entry(3),  # revived: updated
        entry(4),  # created
        entry(4, sgv=180),  # the same again, changed: updated, last wins
        entry(5),  # created
    ]
    result = await store.upsert("entries", batch, now_ms=T0 + 2)
    assert result == UpsertResult(created=2, updated=3, unchanged=1)
    again = await store.upsert("entries", [entry(4), entry(5)], now_ms=T0 + 3)
    assert again == UpsertResult(updated=1, unchanged=1)
    fourth = await store.get("entries", "id-4")
    assert fourth is not None and fourth["sgv"] == 100 and fourth["srvCreated"] == T0 + 2
    second = await store.get("entries", "id-2")
    assert second is not None and second["srvCreated"] == T0 and second["srvModified"] == T0 + 2
    assert await store.count("entries") == 5
