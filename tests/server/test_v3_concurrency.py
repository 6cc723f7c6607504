"""API v3 writes under concurrency and failure (SQLite and PostgreSQL).

Simultaneous creates of one identifier: exactly one 201, the others 200 ``isDeduplication``,
one stored copy. A de-duplication that changes the identifier (a v1 document taken over by
its v3 copy) happens in one transaction: a failure mid-way leaves the old document alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.server.conftest import ADMIN, FrozenClock
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

from nightbridge.store import Store

ENTRY: dict[str, Any] = {
    "type": "sgv",
    "sgv": 120,
    "date": 1700000000000,
    "device": "x",
    "app": "race-test",
}
PARALLEL = 6


async def test_two_simultaneous_creates_answer_201_then_200(v3: V3) -> None:
    uploader = await v3.jwt_for("api:entries:create", "api:entries:update", "api:entries:read")
    first, second = await asyncio.gather(
        v3.post("entries", ENTRY, headers=uploader), v3.post("entries", ENTRY, headers=uploader)
    )
    answers = sorted([first, second], key=lambda r: r.status_code)
    assert [r.status_code for r in answers] == [200, 201]
    dedup, created = answers[0].json(), answers[1].json()
    assert dedup["isDeduplication"] is True
    assert dedup["identifier"] == created["identifier"]
    assert "deduplicatedIdentifier" not in dedup
    found = (await v3.get("entries")).json()["result"]
    assert [d["identifier"] for d in found] == [created["identifier"]]


async def test_many_simultaneous_creates_give_exactly_one_201(v3: V3) -> None:
    answers = await asyncio.gather(
        *(v3.post("entries", {**ENTRY, "sgv": 100 + i}) for i in range(PARALLEL))
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * (PARALLEL - 1) + [201]
    assert all(r.json()["isDeduplication"] is True for r in answers if r.status_code == 200)
    assert len({r.json()["identifier"] for r in answers}) == 1
    assert len((await v3.get("entries")).json()["result"]) == 1


async def test_create_only_caller_losing_the_race_gets_403(v3: V3) -> None:
    create_only = await v3.jwt_for("api:entries:create")
    answers = await asyncio.gather(
        v3.post("entries", ENTRY, headers=create_only),
        v3.post("entries", ENTRY, headers=create_only),
    )
    assert sorted(r.status_code for r in answers) == [201, 403]
    assert len((await v3.get("entries")).json()["result"]) == 1


async def test_simultaneous_puts_of_an_absent_document_create_it_once(v3: V3) -> None:
    ident = "5d4a1b52-6f0e-4c6a-9f0e-3a1e2b3c4d5e"
    answers = await asyncio.gather(
        *(
            v3.client.put(
                f"/api/v3/entries/{ident}", json={**ENTRY, "sgv": 90 + i}, headers=v3.admin
            )
            for i in range(PARALLEL)
        )
    )
    assert sorted(r.status_code for r in answers) == [200] * (PARALLEL - 1) + [201]
    found = (await v3.get("entries")).json()["result"]
    assert [d["identifier"] for d in found] == [ident]


async def _v1_treatment(v3: V3) -> dict[str, Any]:
    """A treatment written through API v1 (the server assigns its identifier)."""
    doc = {
        "eventType": "Meal Bolus",
        "created_at": "2024-01-15T12:00:00.000Z",
        "carbs": 30,
        "enteredBy": "careportal",
    }
    res = await v3.client.post("/api/v1/treatments", json=doc, headers=ADMIN)
    assert res.status_code == 200
    stored = await v3.store.find_natural("treatments", res.json()[0])
    assert stored is not None
    return stored


async def test_dedup_with_new_identifier_keeps_one_copy_and_srv_created(
    v3: V3, clock: FrozenClock
) -> None:
    old = await _v1_treatment(v3)
    clock.advance(60_000)
    v3_copy = {
        "identifier": "0c7d6f10-2b1f-4c53-9d1e-7a35e8a1b2c3",
        "eventType": "Meal Bolus",
        "created_at": "2024-01-15T12:00:00.000Z",
        "date": 1705320000000,
        "carbs": 35,
        "app": "AAPS",
    }
    res = await v3.post("treatments", v3_copy)
    assert res.status_code == 200
    body = res.json()
    assert body["deduplicatedIdentifier"] == old["identifier"]
    found = (await v3.get("treatments")).json()["result"]
    assert [d["identifier"] for d in found] == [v3_copy["identifier"]]
    assert found[0]["carbs"] == 35
    assert found[0]["srvCreated"] == old["srvCreated"]
    assert found[0]["srvModified"] == old["srvCreated"] + 60_000
    assert await v3.store.get("treatments", old["identifier"]) is None


async def test_identifier_change_that_fails_midway_leaves_the_old_document(store: Store) -> None:
    old = {"identifier": "old-one", "eventType": "Note", "created_at": "2024-01-15T12:00:00.000Z"}
    await store.upsert("treatments", [old], now_ms=1_000)
    broken = {"identifier": "new-one", "eventType": "Note", "notes": {1, 2}}  # not JSON
    with pytest.raises(TypeError):
        await store.replace_identifier("treatments", broken, "old-one", now_ms=2_000)
    kept = await store.get("treatments", "old-one")
    assert kept is not None
    assert kept["srvModified"] == 1_000
    assert await store.get("treatments", "new-one") is None


async def test_insert_new_reports_whether_it_inserted(store: Store) -> None:
    doc = {"identifier": "abc", "type": "sgv", "date": 5, "sgv": 100}
    assert await store.insert_new("entries", doc, now_ms=10) is True
    assert await store.insert_new("entries", {**doc, "sgv": 200}, now_ms=20) is False
    stored = await store.get("entries", "abc")
    assert stored is not None
    assert (stored["sgv"], stored["srvCreated"], stored["srvModified"]) == (100, 10, 10)
    await store.delete("entries", "abc", now_ms=30)
    assert await store.insert_new("entries", doc, now_ms=40) is False  # deleted ones count
