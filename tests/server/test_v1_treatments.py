"""API v1 treatments and devicestatus: normalisation, upsert keys, queries, deletes."""

from __future__ import annotations

import httpx
from tests.server.conftest import ADMIN, NOW_MS

T = "/api/v1/treatments"


async def test_post_normalises_like_prepare_data(client: httpx.AsyncClient) -> None:
    doc = {
        "eventType": "Meal Bolus",
        "created_at": "2024-06-01 13:40:00+02:00",
        "insulin": "2.35",
        "carbs": 0,
        "glucose": "",
        "glucoseType": "Finger",
        "notes": "",
        "duration": "abc",
        "enteredBy": "tconnectsync",
    }
    body = (await client.post(T, json=doc, headers=ADMIN)).json()
    assert len(body) == 1
    stored = body[0]
    assert stored["created_at"] == "2024-06-01T11:40:00.000Z"
    assert stored["utcOffset"] == 120
    assert stored["insulin"] == 2.35
    for gone in ("carbs", "glucose", "glucoseType", "notes", "duration"):
        assert gone not in stored
    assert len(stored["_id"]) == 24


async def test_upsert_on_created_at_and_event_type(client: httpx.AsyncClient) -> None:
    first = {"eventType": "Correction Bolus", "created_at": "2024-06-01T11:00:00Z", "insulin": 1}
    second = {**first, "insulin": 1.5, "created_at": "2024-06-01T13:00:00+02:00"}
    other = {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "notes": "x"}
    await client.post(T, json=first, headers=ADMIN)
    await client.post(T, json=[second, other], headers=ADMIN)
    listed = (await client.get(f"{T}.json")).json()
    assert sorted(t["eventType"] for t in listed) == ["Correction Bolus", "Note"]
    bolus = next(t for t in listed if t["eventType"] == "Correction Bolus")
    assert bolus["insulin"] == 1.5
    note = next(t for t in listed if t["eventType"] == "Note")
    assert note["carbs"] is None and note["insulin"] is None  # Number(undefined) as NS


async def test_prebolus_splits_carbs_and_announcement(client: httpx.AsyncClient) -> None:
    meal = {
        "eventType": "Meal Bolus",
        "created_at": "2024-06-01T11:00:00Z",
        "insulin": 3,
        "carbs": 40,
        "preBolus": 15,
    }
    body = (await client.post(T, json=meal, headers=ADMIN)).json()
    assert len(body) == 2
    assert "carbs" not in body[0]
    assert body[1]["carbs"] == 40 and body[1]["created_at"] == "2024-06-01T11:15:00.000Z"
    ann = {"eventType": "Announcement", "created_at": "2024-06-01T11:30:00Z", "notes": "hi"}
    assert (await client.post(T, json=ann, headers=ADMIN)).json()[0]["isAnnouncement"] is True


async def test_find_created_at_and_regex_fields(client: httpx.AsyncClient) -> None:
    docs = [
        {"eventType": "Note", "created_at": "2024-06-01T09:00:00Z", "notes": "Pizza night"},
        {"eventType": "Note", "created_at": "2024-06-01T10:00:00Z", "notes": "walk"},
        {"eventType": "Carb Correction", "created_at": "2024-06-01T11:00:00Z", "carbs": 12},
    ]
    await client.post(T, json=docs, headers=ADMIN)
    since = "2024-06-01T10:30:00+01:00"  # '+' unescaped in the query becomes a space
    res = await client.get(f"{T}.json?find[created_at][$gte]={since}")
    assert [t["eventType"] for t in res.json()] == ["Carb Correction", "Note"]
    res = await client.get(f"{T}.json?find[notes]=/pizza/i")
    assert [t["notes"] for t in res.json()] == ["Pizza night"]
    res = await client.get(f"{T}.json?find[carbs][$gte]=10")
    assert [t["carbs"] for t in res.json()] == [12]
    res = await client.get(f"{T}.json?find[eventType][$ne]=Note")
    assert len(res.json()) == 1
    res = await client.get("/api/v1/treatments.json??find[eventType]=Note")  # oref0's '??'
    assert len(res.json()) == 2
    bad = await client.get(f"{T}.json?find[created_at][$gte]=yesterday")
    assert bad.status_code == 400
    assert "ISO-8601" in bad.json()["description"]


async def test_put_and_delete(client: httpx.AsyncClient) -> None:
    doc = {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "notes": "a"}
    stored = (await client.post(T, json=doc, headers=ADMIN)).json()[0]
    put = await client.put(T, json={**stored, "notes": "b"}, headers=ADMIN)
    assert put.status_code == 200
    listed = (await client.get(f"{T}.json")).json()
    assert [t["notes"] for t in listed] == ["b"]
    res = await client.delete(f"{T}/{stored['_id']}", headers=ADMIN)
    assert res.json()["deletedCount"] == 1
    assert (await client.get(f"{T}.json")).json() == []


async def test_devicestatus_plain_insert_and_bad_id(client: httpx.AsyncClient) -> None:
    ds = {
        "device": "openaps://rig",
        "created_at": "2024-06-01T11:55:00Z",
        "openaps": {"suggested": {"predBGs": {"IOB": list(range(400))}}},
    }
    D = "/api/v1/devicestatus"
    first = (await client.post(D, json=ds, headers=ADMIN)).json()
    assert len(first[0]["openaps"]["suggested"]["predBGs"]["IOB"]) == 288
    await client.post(D, json=[ds], headers=ADMIN)
    assert len((await client.get(f"{D}.json")).json()) == 2  # no dedup in v1, as Nightscout
    bad = await client.post(D, json={**ds, "_id": "not-an-object-id"}, headers=ADMIN)
    assert bad.status_code == 400
    assert bad.json()["message"] == "Invalid _id format"
    assert (await client.delete(f"{D}/nope", headers=ADMIN)).status_code == 400
    res = await client.delete(f"{D}?find[device]=openaps://rig", headers=ADMIN)
    assert res.json()["deletedCount"] == 2


async def test_defaults_window_for_treatments(client: httpx.AsyncClient) -> None:
    old = {"eventType": "Note", "created_at": "2024-05-20T11:00:00Z", "notes": "old"}
    new = {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "notes": "new"}
    await client.post(T, json=[old, new], headers=ADMIN)
    assert [t["notes"] for t in (await client.get(T)).json()] == ["new"]
    res = await client.get(f"{T}?find[created_at][$gte]=2024-05-01")
    assert len(res.json()) == 2
    assert NOW_MS > 0
