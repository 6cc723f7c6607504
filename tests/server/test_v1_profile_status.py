"""Profile, food, status.json, versions, pebble and /api/v2/properties."""

from __future__ import annotations

import httpx
from tests.server.conftest import ADMIN, NOW_MS, sgv

PROFILE = {
    "defaultProfile": "Default",
    "startDate": "2024-05-01T00:00:00.000Z",
    "store": {"Default": {"dia": 4, "units": "mg/dl", "basal": [{"time": "00:00", "value": 0.8}]}},
    "units": "mg/dl",
}


async def test_profile_post_current_put_delete(client: httpx.AsyncClient) -> None:
    one = (await client.post("/api/v1/profile", json=PROFILE, headers=ADMIN)).json()
    newer = {**PROFILE, "startDate": "2024-05-20T00:00:00.000Z"}
    arr = (await client.post("/api/v1/profile", json=[newer], headers=ADMIN)).json()
    assert isinstance(arr, list) and len(arr[0]["_id"]) == 24
    current = (await client.get("/api/v1/profile/current")).json()
    assert current["startDate"] == "2024-05-20T00:00:00.000Z"
    assert current["store"] == PROFILE["store"]
    assert len((await client.get("/api/v1/profile.json")).json()) == 2
    changed = {**one, "defaultProfile": "Other"}
    put = await client.put("/api/v1/profile", json=changed, headers=ADMIN)
    assert put.status_code == 200
    listed = (await client.get("/api/v1/profile")).json()
    assert len(listed) == 2 and {p["defaultProfile"] for p in listed} == {"Default", "Other"}
    bad = await client.put("/api/v1/profile", json={**PROFILE, "_id": "xyz"}, headers=ADMIN)
    assert bad.status_code == 400
    assert (await client.delete(f"/api/v1/profile/{one['_id']}", headers=ADMIN)).json() == {}
    assert len((await client.get("/api/v1/profile")).json()) == 1


async def test_food(client: httpx.AsyncClient) -> None:
    food = {"type": "food", "name": "Apple", "carbs": 15, "category": "Fruit"}
    pick = {"type": "quickpick", "name": "Breakfast", "hidden": False}
    await client.post("/api/v1/food", json=[food, pick], headers=ADMIN)
    assert len((await client.get("/api/v1/food.json")).json()) == 2
    assert [f["name"] for f in (await client.get("/api/v1/food/regular")).json()] == ["Apple"]
    assert [f["name"] for f in (await client.get("/api/v1/food/quickpicks")).json()] == [
        "Breakfast"
    ]


async def test_status_json_and_js(client: httpx.AsyncClient) -> None:
    res = await client.get("/api/v1/status.json")
    body = res.json()
    assert body["status"] == "ok"
    assert body["serverTimeEpoch"] == NOW_MS
    assert body["apiEnabled"] is True and body["careportalEnabled"] is True
    assert body["settings"]["units"] == "mg/dl"
    assert body["settings"]["thresholds"] == {
        "bgHigh": 260,
        "bgTargetTop": 180,
        "bgTargetBottom": 80,
        "bgLow": 55,
    }
    js = await client.get("/api/v1/status.js")
    assert js.text.startswith("this.serverSettings = {") and js.text.endswith(";")
    assert (await client.get("/api/v2/status.json")).json()["status"] == "ok"


async def test_versions(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/versions")).json()
    assert [v["url"] for v in body] == ["/api/v1", "/api/v2", "/api/v3"]


async def test_pebble_and_properties(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/entries",
        json=[sgv(NOW_MS - 5 * 60_000, 120), sgv(NOW_MS, 126, direction="FortyFiveUp")],
        headers=ADMIN,
    )
    pebble = (await client.get("/pebble?count=2")).json()
    assert pebble["status"] == [{"now": NOW_MS}]
    assert pebble["bgs"][0] == {
        "sgv": "126",
        "trend": 3,
        "direction": "FortyFiveUp",
        "datetime": NOW_MS,
        "bgdelta": 6,
    }
    mmol = (await client.get("/pebble?units=mmol")).json()
    assert mmol["bgs"][0]["sgv"] == "7.0"
    props = (await client.get("/api/v2/properties")).json()
    assert props["bgnow"]["last"] == 126
    assert props["delta"]["mgdl"] == 6 and props["delta"]["display"] == "+6"
    assert props["direction"]["value"] == "FortyFiveUp"
    some = (await client.get("/api/v2/properties/bgnow,delta")).json()
    assert set(some) == {"bgnow", "delta"}
