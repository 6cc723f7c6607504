"""API v1 entries: POST upsert, GET list/current/spec, find language, formats, 304, DELETE."""

from __future__ import annotations

import httpx
import pytest
from tests.server.conftest import ADMIN, NOW_MS, sgv

from nightbridge.model.time import iso_utc

MIN = 60_000


async def post(client: httpx.AsyncClient, docs: object) -> httpx.Response:
    return await client.post("/api/v1/entries", json=docs, headers=ADMIN)


async def test_post_array_returns_stored_docs_in_input_order(client: httpx.AsyncClient) -> None:
    docs = [sgv(NOW_MS - 10 * MIN, 110), sgv(NOW_MS - 5 * MIN, 115)]
    res = await post(client, docs)
    assert res.status_code == 200
    body = res.json()
    assert [d["sgv"] for d in body] == [110, 115]
    for doc in body:
        assert len(doc["_id"]) == 24
        assert doc["sysTime"] == iso_utc(doc["date"])
        assert doc["utcOffset"] == 0
        assert doc["identifier"]


async def test_repost_same_time_and_type_is_one_document(client: httpx.AsyncClient) -> None:
    first = await post(client, [sgv(NOW_MS - MIN, 100)])
    again = await post(client, [sgv(NOW_MS - MIN, 101, device="other")])
    assert again.status_code == 200
    listed = (await client.get("/api/v1/entries.json")).json()
    assert len(listed) == 1
    assert listed[0]["sgv"] == 101
    # 15.0.7 echoes ``_id`` only for inserted documents (reference §2.4); the match keeps
    # the stored document's identity.
    assert "_id" not in again.json()[0]
    assert first.json()[0]["_id"] == listed[0]["_id"]
    assert again.json()[0]["identifier"] == listed[0]["identifier"]


async def test_single_object_without_date_is_ignored(client: httpx.AsyncClient) -> None:
    res = await post(client, {"type": "sgv", "sgv": 100})
    assert res.status_code == 200
    assert res.json() == []


async def test_date_string_with_zone_keeps_offset(client: httpx.AsyncClient) -> None:
    doc = {"type": "sgv", "sgv": "199", "dateString": "2024-06-01T04:44:15.000-07:00"}
    body = (await post(client, [doc])).json()
    assert body[0]["utcOffset"] == -420
    assert body[0]["dateString"] == "2024-06-01T11:44:15.000Z"
    assert body[0]["sgv"] == "199"  # no coercion, as Nightscout
    assert body[0]["date"] == 1_717_242_255_000


async def test_get_defaults_to_ten_newest_within_four_days(client: httpx.AsyncClient) -> None:
    docs = [sgv(NOW_MS - i * 5 * MIN, 100 + i) for i in range(15)]
    docs.append(sgv(NOW_MS - 5 * 24 * 60 * MIN, 50))
    await post(client, docs)
    body = (await client.get("/api/v1/entries.json")).json()
    assert len(body) == 10
    assert [d["date"] for d in body] == sorted((d["date"] for d in body), reverse=True)
    assert body[0]["sgv"] == 100
    all_recent = (await client.get("/api/v1/entries.json?count=100")).json()
    assert len(all_recent) == 15  # the 5-day-old one is outside the default window


async def test_find_with_date_reaches_past_the_window(client: httpx.AsyncClient) -> None:
    old = NOW_MS - 5 * 24 * 60 * MIN
    await post(client, [sgv(old, 50), sgv(NOW_MS, 150)])
    res = await client.get(f"/api/v1/entries.json?find[date][$gte]={old}&count=10")
    assert [d["sgv"] for d in res.json()] == [150, 50]
    res = await client.get(f"/api/v1/entries.json?find[date][$lt]={NOW_MS}")
    assert [d["sgv"] for d in res.json()] == [50]


async def test_date_string_prefix_and_comparison_operators(client: httpx.AsyncClient) -> None:
    await post(client, [sgv(NOW_MS - i * 5 * MIN, 90 + 10 * i) for i in range(5)])
    res = await client.get("/api/v1/entries.json?find[sgv][$gte]=110&find[sgv][$lt]=130")
    assert sorted(d["sgv"] for d in res.json()) == [110, 120]
    since = iso_utc(NOW_MS - 10 * MIN)
    res = await client.get(f"/api/v1/entries.json?find[dateString][$gte]={since}")
    assert sorted(d["sgv"] for d in res.json()) == [90, 100, 110]
    res = await client.get("/api/v1/entries.json?find[sgv][$in][]=90&find[sgv][$in][]=130")
    assert sorted(d["sgv"] for d in res.json()) == [90, 130]
    res = await client.get("/api/v1/entries.json?find[sgv][$nin][]=90&find[sgv][$ne]=100")
    assert sorted(d["sgv"] for d in res.json()) == [110, 120, 130]
    res = await client.get("/api/v1/entries.json?find[device][$regex]=^xDrip")
    assert len(res.json()) == 5


async def test_sgv_spec_leaves_out_mbg_and_current_is_newest(client: httpx.AsyncClient) -> None:
    mbg = {"type": "mbg", "mbg": 140, "date": NOW_MS, "device": "meter"}
    await post(client, [sgv(NOW_MS - 5 * MIN, 120), mbg])
    sgvs = (await client.get("/api/v1/entries/sgv.json")).json()
    assert [d["type"] for d in sgvs] == ["sgv"]
    current = (await client.get("/api/v1/entries/current.json")).json()
    assert isinstance(current, list) and current[0]["type"] == "mbg"
    mbgs = (await client.get("/api/v2/entries/mbg")).json()
    assert [d["mbg"] for d in mbgs] == [140]


async def test_get_by_id(client: httpx.AsyncClient) -> None:
    stored = (await post(client, [sgv(NOW_MS, 120)])).json()[0]
    res = await client.get(f"/api/v1/entries/{stored['_id']}")
    assert res.json()[0]["sgv"] == 120
    res = await client.get(f"/api/v1/entries/{stored['identifier']}.json")
    assert res.json()[0]["_id"] == stored["_id"]
    missing = await client.get("/api/v1/entries/0123456789abcdef01234567")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


async def test_csv_tsv_and_text_formats(client: httpx.AsyncClient) -> None:
    await post(client, [sgv(NOW_MS, 120)])
    csv = await client.get("/api/v1/entries.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == f'"{iso_utc(NOW_MS)}",{NOW_MS},120,"Flat","xDrip-DexcomG6"'
    tsv = await client.get("/api/v1/entries", headers={"Accept": "text/tab-separated-values"})
    assert tsv.text.split("\t")[1] == str(NOW_MS)
    txt = await client.get("/api/v1/entries/sgv.txt")
    assert txt.headers["content-type"].startswith("text/plain")
    assert "\t120\t" in txt.text


async def test_if_modified_since_answers_304(client: httpx.AsyncClient) -> None:
    await post(client, [sgv(NOW_MS, 120)])
    first = await client.get("/api/v1/entries.json")
    last_modified = first.headers["last-modified"]
    again = await client.get("/api/v1/entries.json", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304
    older = "Sat, 01 Jun 2024 11:00:00 GMT"
    fresh = await client.get("/api/v1/entries.json", headers={"If-Modified-Since": older})
    assert fresh.status_code == 200


async def test_delete_with_find_and_by_id(client: httpx.AsyncClient) -> None:
    stored = (await post(client, [sgv(NOW_MS - i * 5 * MIN, 100 + i) for i in range(4)])).json()
    res = await client.delete("/api/v1/entries?find[sgv][$gte]=102", headers=ADMIN)
    assert res.status_code == 200
    assert res.json()["deletedCount"] == 2
    res = await client.delete(f"/api/v1/entries/{stored[0]['_id']}", headers=ADMIN)
    assert res.json()["deletedCount"] == 1
    left = (await client.get("/api/v1/entries.json")).json()
    assert [d["sgv"] for d in left] == [101]


async def test_count_zero_without_find_is_empty(client: httpx.AsyncClient) -> None:
    await post(client, [sgv(NOW_MS, 120)])
    assert (await client.get("/api/v1/entries.json?count=0")).json() == []
    res = await client.get(f"/api/v1/entries.json?count=0&find[date][$gte]={NOW_MS - 1}")
    assert len(res.json()) == 1


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("count=abc", "count"),
        ("find[sgv][$gte]=high", "sgv"),
        ("find[sgv][$where]=1", "$where"),
    ],
)
async def test_bad_queries_are_400_in_nightscout_shape(
    client: httpx.AsyncClient, query: str, fragment: str
) -> None:
    res = await client.get(f"/api/v1/entries.json?{query}")
    assert res.status_code == 400
    body = res.json()
    assert body["status"] == 400 and fragment in body["description"]


async def test_typed_date_filter_takes_leading_integer(client: httpx.AsyncClient) -> None:
    """``find[date][$gte]=2024-01-01`` is parseInt'ed to 2024 and so matches everything."""
    old = NOW_MS - 30 * 24 * 60 * MIN
    await post(client, [sgv(old, 50)])
    res = await client.get("/api/v1/entries.json?find[date][$gte]=2024-01-01")
    assert [d["sgv"] for d in res.json()] == [50]
