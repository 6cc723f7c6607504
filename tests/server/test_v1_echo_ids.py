"""API v1 POST echoes: ``_id`` only for newly inserted documents (reference §2.4, §2.5).

cgm-remote-monitor 15.0.7 fills the ``_id`` of the upserted documents only; a document that
matched a stored one comes back without. nightbridge's own ``nightscout_v1`` output counts
created documents by that ``_id``, so a re-sent batch must count as duplicates.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from tests.server.conftest import ADMIN, NOW_MS, SECRET, sgv

from nightbridge.model import Collection, Entry, Treatment
from nightbridge.outputs.base import WriteResult
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output

ENTRY = {
    "type": "sgv",
    "sgv": 120,
    "date": 1700000000000,
    "dateString": "2023-11-14T22:13:20.000Z",
    "device": "x",
}
TREATMENT = {"eventType": "Note", "created_at": "2024-06-01T11:00:00.000Z", "notes": "hi"}


async def _post(client: httpx.AsyncClient, path: str, body: Any) -> list[dict[str, Any]]:
    res = await client.post(f"/api/v1/{path}", json=body, headers=ADMIN)
    assert res.status_code == 200
    echo: list[dict[str, Any]] = res.json()
    return echo


async def test_entry_posted_twice_has_id_only_the_first_time(client: httpx.AsyncClient) -> None:
    first = await _post(client, "entries", ENTRY)
    second = await _post(client, "entries", ENTRY)
    assert len(first[0]["_id"]) == 24
    assert "_id" not in second[0]
    assert second[0]["identifier"] == first[0]["identifier"]
    assert second[0]["sgv"] == 120
    assert second[0]["sysTime"] == "2023-11-14T22:13:20.000Z"
    listed = (await client.get("/api/v1/entries.json?find[date]=1700000000000")).json()
    assert [d["_id"] for d in listed] == [first[0]["_id"]]


async def test_repeat_within_one_batch_has_no_id(client: httpx.AsyncClient) -> None:
    docs = [sgv(NOW_MS - 60_000, 100), sgv(NOW_MS - 120_000, 101), sgv(NOW_MS - 60_000, 102)]
    echo = await _post(client, "entries", docs)
    assert ["_id" in d for d in echo] == [True, True, False]
    assert echo[2]["sgv"] == 102
    assert echo[2]["identifier"] == echo[0]["identifier"]


async def test_mixed_batch_marks_only_the_new_ones(client: httpx.AsyncClient) -> None:
    await _post(client, "entries", [sgv(NOW_MS - 60_000)])
    echo = await _post(client, "entries", [sgv(NOW_MS - 120_000), sgv(NOW_MS - 60_000)])
    assert ["_id" in d for d in echo] == [True, False]


async def test_client_sent_object_id_is_echoed_on_update(client: httpx.AsyncClient) -> None:
    oid = "65a1b2c3d4e5f60718293a4b"
    await _post(client, "entries", [{**ENTRY, "_id": oid}])
    again = await _post(client, "entries", [{**ENTRY, "_id": oid, "sgv": 121}])
    assert again[0]["_id"] == oid
    assert again[0]["sgv"] == 121


async def test_treatment_posted_twice_has_id_only_the_first_time(
    client: httpx.AsyncClient,
) -> None:
    first = await _post(client, "treatments", TREATMENT)
    second = await _post(client, "treatments", {**TREATMENT, "notes": "changed"})
    assert len(first[0]["_id"]) == 24
    assert "_id" not in second[0]
    assert second[0]["notes"] == "changed"
    listed = (await client.get("/api/v1/treatments.json")).json()
    assert [(t["_id"], t["notes"]) for t in listed] == [(first[0]["_id"], "changed")]


async def test_v1_output_counts_a_resent_batch_as_duplicates(client: httpx.AsyncClient) -> None:
    entries = [Entry.build(type="sgv", sgv=100 + i, date=NOW_MS - i * 300_000) for i in range(3)]
    treatments = [Treatment.build(eventType="Correction Bolus", date=NOW_MS, insulin=1.0)]
    output = NightscoutV1Output(str(client.base_url), SecretStr(SECRET), client=client)
    first = await output.write(Collection.ENTRIES, entries)
    again = await output.write(Collection.ENTRIES, entries)
    assert (first, again) == (WriteResult(created=3), WriteResult(duplicates=3))
    assert await output.write(Collection.TREATMENTS, treatments) == WriteResult(created=1)
    assert await output.write(Collection.TREATMENTS, treatments) == WriteResult(duplicates=1)
