"""Inputs the fuzz tests found answering 500 (OPEN-1 … OPEN-6, issue 5 item 6): now 4xx.

Each case is the smallest reproduction of one bug; the answer must be 400 in the error shape
(v1 ``{status, message, description}``, v3 ``{status, message}``) and write nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.server.conftest import ADMIN, NOW_MS

HUGE = "9" * 40
IDENTIFIER = "00000000-0000-0000-0000-00000000000a"


def assert_400(res: httpx.Response, *words: str) -> dict[str, Any]:
    assert res.status_code == 400, res.text
    body: dict[str, Any] = res.json()
    assert body["status"] == 400 and isinstance(body["message"], str)
    text = f"{body['message']} {body.get('description', '')}"
    for word in words:
        assert word in text, text
    return body


@pytest.fixture
async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    """Headers with the JWT of an admin subject (API v3 takes no api-secret)."""
    body = {"name": "regressions", "roles": ["admin"]}
    subject = await client.post("/api/v2/authorization/subjects", json=body, headers=ADMIN)
    issued = await client.get(f"/api/v2/authorization/request/{subject.json()['accessToken']}")
    return {"authorization": f"Bearer {issued.json()['token']}"}


async def _count(client: httpx.AsyncClient, collection: str) -> int:
    find = "find[date][$gte]=0" if collection == "entries" else "find[created_at][$gte]=2000"
    res = await client.get(f"/api/v1/{collection}.json?count=1000&{find}", headers=ADMIN)
    assert res.status_code == 200, res.text
    return len(res.json())


# OPEN-1: numbers past 64 bits in v1 find values.
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/api/v1/entries?find[date][$gte]={HUGE}"),
        ("GET", f"/api/v1/entries.json?find[sgv]={HUGE}"),
        ("GET", f"/api/v2/entries?find[date][$lt]=-{HUGE}"),
        ("DELETE", f"/api/v1/entries?find[date]={HUGE}"),
        ("GET", f"/api/v1/treatments?find[insulin]={HUGE}"),
        ("GET", f"/api/v1/treatments?find[carbs][$in][]=1&find[carbs][$in][]={HUGE}"),
    ],
)
async def test_find_number_past_64_bits(client: httpx.AsyncClient, method: str, url: str) -> None:
    assert_400(await client.request(method, url, headers=ADMIN), "64-bit")


async def test_find_64_bit_edge_still_works(client: httpx.AsyncClient) -> None:
    url = f"/api/v1/entries.json?find[date][$lt]={2**63 - 1}&find[date][$gte]={NOW_MS}"
    res = await client.get(url, headers=ADMIN)
    assert res.status_code == 200 and res.json() == []


# OPEN-2: field names the store refuses.
@pytest.mark.parametrize("key", ["find[a..b]", "find[][$lt]", "find[.a]"])
async def test_find_bad_field_name(client: httpx.AsyncClient, key: str) -> None:
    res = await client.get(f"/api/v1/devicestatus?{key}=1", headers=ADMIN)
    assert_400(res, "field")


# OPEN-3: regular expressions Python cannot compile.
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entries?find[type][$regex]=(",
        "/api/v1/entries?find[type][$regex]=[z-a]",
        "/api/v1/treatments?find[notes]=/(/i",
    ],
)
async def test_find_invalid_regex(client: httpx.AsyncClient, url: str) -> None:
    assert_400(await client.get(url, headers=ADMIN), "regular expression")


async def test_find_valid_regex_literal_still_works(client: httpx.AsyncClient) -> None:
    res = await client.get("/api/v1/treatments?find[notes]=/a.c/i", headers=ADMIN)
    assert res.status_code == 200 and res.json() == []


# OPEN-4: v3 SEARCH date values past 64 bits.
@pytest.mark.parametrize(
    "key", ["created_at$gte", "created_at", "date$lt", "srvModified$gt", "sgv$gt", "sgv"]
)
async def test_v3_search_time_past_64_bits(
    client: httpx.AsyncClient, bearer: dict[str, str], key: str
) -> None:
    res = await client.get(f"/api/v3/entries?{key}={HUGE}", headers=bearer)
    assert res.status_code == 400, res.text
    assert res.json()["status"] == 400 and res.json()["message"]


# OPEN-5: out-of-range numbers and times in bodies.
@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/api/v1/entries", {"type": "sgv", "sgv": 120, "date": 1e30}, "date"),
        ("POST", "/api/v1/entries", {"type": "sgv", "sgv": 120, "date": -1e30}, "date"),
        (
            "POST",
            "/api/v1/entries",
            {"type": "sgv", "dateString": "9" * 30, "date": NOW_MS},
            "dateString",
        ),
        ("POST", "/api/v1/treatments", {"eventType": "Note", "created_at": 1e30}, "created_at"),
        (
            "POST",
            "/api/v1/treatments",
            {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "insulin": 1e30},
            "insulin",
        ),
        (
            "POST",
            "/api/v1/treatments",
            {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "carbs": -(2**70)},
            "carbs",
        ),
        (
            "POST",
            "/api/v1/treatments",
            {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "date": 2**64},
            "date",
        ),
        ("POST", "/api/v1/devicestatus", {"device": "x", "created_at": 1e30}, "created_at"),
        ("POST", "/api/v3/treatments", {"eventType": "Note", "date": 1e30, "app": "x"}, "date"),
        ("PUT", f"/api/v3/entries/{IDENTIFIER}", {"type": "sgv", "date": 1e30, "app": "x"}, "date"),
        (
            "POST",
            "/api/v3/treatments",
            {"eventType": "Note", "created_at": 1e30, "app": "x"},
            "date",
        ),
    ],
)
async def test_body_numbers_out_of_range(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any],
    field: str,
) -> None:
    collection = url.split("/")[3]
    before = await _count(client, collection)
    headers = bearer if url.startswith("/api/v3") else ADMIN
    res = await client.request(method, url, json=body, headers=headers)
    assert_400(res, field)
    assert await _count(client, collection) == before


async def test_huge_number_in_other_fields_is_kept_as_a_float(client: httpx.AsyncClient) -> None:
    """A number no time or typed field reads is stored as any JSON number (as Nightscout)."""
    doc = {"type": "sgv", "sgv": 120, "date": NOW_MS, "extra": {"deep": [2**64]}}
    res = await client.post("/api/v1/entries", json=doc, headers=ADMIN)
    assert res.status_code == 200 and res.json()[0]["extra"] == {"deep": [2.0**64]}


# OPEN-6: "identifier": null is absent; the server assigns one.
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            "/api/v1/treatments",
            {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "identifier": None},
        ),
        (
            "POST",
            "/api/v1/treatments",
            {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "identifier": None},
        ),
        ("POST", "/api/v1/food", {"name": "apple", "identifier": None}),
        ("PUT", "/api/v1/food", {"name": "apple", "identifier": None}),
        ("POST", "/api/v1/profile", {"defaultProfile": "a", "store": {}, "identifier": None}),
        ("PUT", "/api/v1/profile", {"defaultProfile": "a", "store": {}, "identifier": None}),
    ],
)
async def test_null_identifier_is_assigned(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> None:
    res = await client.request(method, path, json=body, headers=ADMIN)
    assert res.status_code == 200, res.text
    answer = res.json()
    doc = answer[0] if isinstance(answer, list) else answer
    assert isinstance(doc["identifier"], str) and doc["identifier"]
    listed = (await client.get(f"{path}.json?count=10", headers=ADMIN)).json()
    assert [d["identifier"] for d in listed] == [doc["identifier"]]


# Found while fixing: a v3 identifier outside Latin-1 broke the Location header.
async def test_v3_non_latin1_identifier(client: httpx.AsyncClient, bearer: dict[str, str]) -> None:
    body = {"type": "sgv", "sgv": 120, "date": NOW_MS, "app": "x", "identifier": "Ā-1"}
    res = await client.post("/api/v3/entries", json=body, headers=bearer)
    assert res.status_code == 201, res.text
    assert res.headers["location"] == "/api/v3/entries/%C4%80-1"
    again = await client.post("/api/v3/entries", json=body, headers=bearer)
    assert again.status_code == 200 and again.json()["isDeduplication"] is True


# Found while fixing: NUL characters, which PostgreSQL text cannot hold, in v3 filters.
@pytest.mark.parametrize(
    "url",
    [
        "/api/v3/entries?find%5Bdate%5D%5B%24gte%5D=%00",
        "/api/v3/entries?type=a%00b",
        "/api/v3/entries?a%00b$gt=1",
        "/api/v3/entries?type$in=a|%00",
    ],
)
async def test_nul_in_v3_filter(
    client: httpx.AsyncClient, bearer: dict[str, str], url: str
) -> None:
    res = await client.get(url, headers=bearer)
    assert res.status_code == 400, res.text
    assert res.json() == {"status": 400, "message": "Bad filter: NUL character"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/entries", b'{"type":"sgv","sgv":120,"date":1700000000000,"x":"a\\u0000"}'),
        (
            "/api/v1/treatments",
            b'{"eventType":"Note","created_at":"2024-06-01T11:00:00Z","n":"\\u0000"}',
        ),
        ("/api/v1/profile", b'[{"store": {"k\\u0000": 1}, "startDate": "2024-01-01"}]'),
    ],
)
async def test_nul_character_is_refused_and_nothing_written(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    headers = {**ADMIN, "content-type": "application/json"}
    collection = path.rsplit("/", 1)[1]
    before = await _count(client, collection)
    assert_400(await client.post(path, content=body, headers=headers), "NUL")
    assert await _count(client, collection) == before
