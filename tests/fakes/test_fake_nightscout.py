"""The fake Nightscout behaves like cgm-remote-monitor 15.0.7 where our outputs depend on it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.loopback import free_port, serve
from tests.fakes.nightscout import FakeNightscout

SECRET = "correct horse battery"
SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()
TOKEN = "bridge-0123456789abcdef"
READER = "reader-fedcba9876543210"
NOW = 1_795_000_000.0  # epoch seconds, the fake's clock
NOW_MS = int(NOW * 1000)
DAY_MS = 86_400_000


class Clock:
    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeNightscout:
    return FakeNightscout(
        api_secret=SECRET, tokens={TOKEN: "admin", READER: "readable"}, clock=clock
    )


@pytest.fixture
async def http(fake: FakeNightscout) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ns") as client:
        yield client


ADMIN = {"api-secret": SHA1}


async def test_verifyauth_shapes(http: httpx.AsyncClient) -> None:
    ok = (await http.get("/api/v1/verifyauth", headers={"API-SECRET": SHA1.upper()})).json()
    assert ok["status"] == 200
    assert ok["message"]["message"] == "OK"
    assert ok["message"]["canWrite"] is True
    assert ok["message"]["rolefound"] == "FOUND"
    plain = (await http.get("/api/v1/verifyauth", headers={"api-secret": SECRET})).json()
    assert plain["message"]["message"] == "UNAUTHORIZED"
    assert plain["message"]["canRead"] is True  # the default "readable" role
    assert plain["message"]["canWrite"] is False
    reader = (await http.get(f"/api/v1/verifyauth?token={READER}")).json()
    assert reader["message"]["message"] == "OK"
    assert reader["message"]["canWrite"] is False


async def test_write_without_credentials_is_401(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    response = await http.post("/api/v1/entries", json=[{"type": "sgv", "sgv": 1, "date": NOW_MS}])
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "message": "Unauthorized",
        "description": "Invalid/Missing",
    }
    assert fake.entries == []
    by_token = await http.post(
        f"/api/v1/entries?token={TOKEN}", json=[{"type": "sgv", "sgv": 1, "date": NOW_MS}]
    )
    assert by_token.status_code == 200


async def test_entries_upsert_on_systime_and_type(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    doc = {"type": "sgv", "sgv": 120, "date": NOW_MS, "dateString": "2026-11-18T10:26:40.000Z"}
    first = (await http.post("/api/v1/entries", headers=ADMIN, json=[doc])).json()
    again = (await http.post("/api/v1/entries", headers=ADMIN, json=[{**doc, "sgv": 121}])).json()
    assert "_id" in first[0]
    assert "_id" not in again[0]  # matched an existing document
    assert len(fake.entries) == 1
    assert fake.entries[0]["sgv"] == 121
    await http.post("/api/v1/entries", headers=ADMIN, json=[{**doc, "type": "mbg", "mbg": 99}])
    assert len(fake.entries) == 2


async def test_entry_datestring_offset_is_normalised(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    doc = {"type": "sgv", "sgv": 199, "date": 1405842255000}
    doc["dateString"] = "2014-07-20T00:44:15.000-07:00"
    await http.post("/api/v1/entries", headers=ADMIN, json=[doc])
    assert fake.entries[0]["utcOffset"] == -420
    assert fake.entries[0]["dateString"] == "2014-07-20T07:44:15.000Z"
    assert fake.entries[0]["sysTime"] == "2014-07-20T07:44:15.000Z"


async def test_treatments_upsert_and_prepare(http: httpx.AsyncClient, fake: FakeNightscout) -> None:
    doc = {"eventType": "Meal Bolus", "created_at": "2026-11-23 14:40:00-05:00", "carbs": 0}
    await http.post("/api/v1/treatments", headers=ADMIN, json=[{**doc, "insulin": "1.5"}])
    await http.post("/api/v1/treatments", headers=ADMIN, json=[{**doc, "insulin": 2}])
    assert len(fake.treatments) == 1
    stored = fake.treatments[0]
    assert stored["created_at"] == "2026-11-23T19:40:00.000Z"
    assert stored["utcOffset"] == -300
    assert stored["insulin"] == 2
    assert "carbs" not in stored  # zero carbs are dropped by the real server


async def test_devicestatus_is_a_plain_insert(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    doc = {"device": "pump", "created_at": "2026-11-18T10:00:00Z", "pump": {"reservoir": 100}}
    for _ in range(2):
        answer = await http.post("/api/v1/devicestatus", headers=ADMIN, json=[doc])
        assert answer.status_code == 200
    assert len(fake.devicestatus) == 2


async def test_find_default_window_and_operators(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    fake.insert(
        "entries",
        *({"type": "sgv", "sgv": 100 + i, "date": NOW_MS - i * DAY_MS - 60_000} for i in range(8)),
    )
    default = (await http.get("/api/v1/entries.json")).json()
    assert [e["sgv"] for e in default] == [100, 101, 102, 103]  # 4-day window, newest first
    old = (
        await http.get("/api/v1/entries.json?count=1&find[date][$lt]=" + str(NOW_MS - DAY_MS))
    ).json()
    assert [e["sgv"] for e in old] == [101]
    everything = (await http.get("/api/v1/entries.json?count=100&find[date][$gte]=0")).json()
    assert len(everything) == 8
    between = await http.get(
        "/api/v1/entries.json",
        params={"find[date][$gt]": NOW_MS - 6 * DAY_MS, "find[date][$lte]": NOW_MS - DAY_MS},
    )
    assert [e["sgv"] for e in between.json()] == [101, 102, 103, 104, 105]
    assert (await http.get("/api/v1/entries.json?count=0")).json() == []


async def test_find_created_at_and_device(http: httpx.AsyncClient, fake: FakeNightscout) -> None:
    fake.insert(
        "devicestatus",
        {"device": "a", "created_at": "2020-01-01T00:00:00.000Z"},
        {"device": "b", "created_at": "2020-01-02T00:00:00.000Z"},
        {"device": "a", "created_at": "2020-01-03T00:00:00.000Z"},
    )
    assert (await http.get("/api/v1/devicestatus.json")).json() == []  # older than 4 days
    found = await http.get(
        "/api/v1/devicestatus.json",
        params={"find[created_at][$gte]": "2020-01-01T12:00:00+00:00", "find[device]": "a"},
    )
    assert [d["created_at"] for d in found.json()] == ["2020-01-03T00:00:00.000Z"]


async def test_jwt_and_v3_auth(http: httpx.AsyncClient, clock: Clock) -> None:
    answer = (await http.get(f"/api/v2/authorization/request/{TOKEN}")).json()
    assert answer["exp"] - answer["iat"] == 8 * 3600
    assert (await http.get("/api/v2/authorization/request/nope-0000")).status_code == 401
    missing = await http.get("/api/v3/entries")
    assert missing.json() == {"status": 401, "message": "Missing or bad access token or JWT"}
    bearer = {"Authorization": f"Bearer {answer['token']}"}
    assert (await http.get("/api/v3/entries", headers=bearer)).status_code == 200
    assert (await http.get("/api/v3/entries", headers=ADMIN)).status_code == 401  # no secret in v3
    clock.t += 8 * 3600 + 1
    expired = await http.get("/api/v3/entries", headers=bearer)
    assert expired.json()["message"] == "Bad access token or JWT"


async def _bearer(http: httpx.AsyncClient, token: str = TOKEN) -> dict[str, str]:
    answer = (await http.get(f"/api/v2/authorization/request/{token}")).json()
    return {"Authorization": f"Bearer {answer['token']}"}


async def test_v3_create_and_deduplicate(http: httpx.AsyncClient, fake: FakeNightscout) -> None:
    bearer = await _bearer(http)
    doc = {"eventType": "Correction Bolus", "insulin": 1, "date": 1613057404186, "app": "t"}
    doc["device"] = "Samsung XCover 4-861536030196001"
    created = await http.post("/api/v3/treatments", headers=bearer, json=doc)
    assert created.status_code == 201
    assert created.json()["identifier"] == "5b0f7124-475f-5db0-824c-a73c5eea0975"
    assert created.headers["location"].endswith("/5b0f7124-475f-5db0-824c-a73c5eea0975")
    again = await http.post("/api/v3/treatments", headers=bearer, json=doc)
    assert again.status_code == 200
    assert again.json()["isDeduplication"] is True
    assert len(fake.treatments) == 1
    changed = await http.post("/api/v3/treatments", headers=bearer, json={**doc, "app": "other"})
    assert changed.json()["message"] == "Field app cannot be modified by the client"
    no_app = await http.post("/api/v3/treatments", headers=bearer, json={**doc, "app": " "})
    assert no_app.json()["message"] == "Bad or missing app field"
    array = await http.post("/api/v3/treatments", headers=bearer, json=[doc])
    assert array.status_code == 400


async def test_v3_fallback_dedup_against_v1_document(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    stamp = "2026-11-18T10:00:00.000Z"
    fake.insert("devicestatus", {"device": "pump", "created_at": stamp, "utcOffset": 0})
    v1_id = fake.devicestatus[0]["_id"]
    bearer = await _bearer(http)
    doc = {"device": "pump", "date": "2026-11-18T10:00:00Z", "app": "t", "identifier": "x-1"}
    # The stored v1 document lacks date/app: v3 refuses to change these immutable fields.
    refused = await http.post("/api/v3/devicestatus", headers=bearer, json=doc)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Field date cannot be modified by the client"
    fake.devicestatus[0].update(date=1794996000000, app="t")
    answer = await http.post("/api/v3/devicestatus", headers=bearer, json=doc)
    assert answer.status_code == 200
    assert answer.json()["deduplicatedIdentifier"] == v1_id
    assert len(fake.devicestatus) == 1


async def test_v3_search(http: httpx.AsyncClient, fake: FakeNightscout) -> None:
    bearer = await _bearer(http)
    for i, device in enumerate(["a", "b", "a", "7"]):
        doc = {"type": "sgv", "sgv": 100 + i, "date": NOW_MS - i * 300_000, "app": "t"}
        await http.post("/api/v3/entries", headers=bearer, json={**doc, "device": device})
    newest = await http.get(
        "/api/v3/entries?sort$desc=date&limit=1&fields=date&device$eq=a", headers=bearer
    )
    assert newest.json() == {"status": 200, "result": [{"date": NOW_MS}]}
    oldest_b = await http.get("/api/v3/entries?sort=date&device$eq=b", headers=bearer)
    assert [d["sgv"] for d in oldest_b.json()["result"]] == [101]
    quoted = await http.get("/api/v3/entries?device$eq='7'&fields=sgv", headers=bearer)
    assert quoted.json()["result"] == [{"sgv": 103}]
    bad = await http.get("/api/v3/entries?sort=date&sort$desc=date", headers=bearer)
    assert bad.status_code == 400
    assert (await http.get("/api/v3/entries?limit=0", headers=bearer)).status_code == 400


async def test_failure_injection(http: httpx.AsyncClient, fake: FakeNightscout) -> None:
    fake.fail_next(1, status=429, retry_after=7)
    limited = await http.get("/api/v1/entries.json")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    fake.fail_next(2, status=200, body="html")
    for _ in range(2):
        assert (await http.get("/api/v1/verifyauth")).text.startswith("<!DOCTYPE html>")
    fake.fail_next(1, status=200, body="malformed")
    with pytest.raises(ValueError):
        (await http.get("/api/v1/verifyauth")).json()
    fake.fail_next(1, status=500, body={"oops": True})
    assert (await http.get("/api/v1/verifyauth")).json() == {"oops": True}
    assert (await http.get("/api/v1/verifyauth")).status_code == 200
    fake.down(True)
    assert (await http.get("/api/v1/verifyauth")).status_code == 503
    fake.down(False)
    fake.die_after(1)
    assert (await http.get("/api/v1/verifyauth")).status_code == 200
    assert (await http.get("/api/v1/verifyauth")).status_code == 503
    assert fake.count("GET", "/api/v1/verifyauth") == 8


async def test_slow_uses_the_injected_sleep() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    fake = FakeNightscout(api_secret=SECRET, sleep=sleep)
    fake.slow(2.5)
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ns") as client:
        assert (await client.get("/api/v1/verifyauth")).status_code == 200
    assert waits == [2.5]


async def test_dropped_connection_over_loopback() -> None:
    fake = FakeNightscout(api_secret=SECRET)
    fake.down(True, mode="drop")
    with serve(fake.app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            with pytest.raises(httpx.TransportError):
                await client.get("/api/v1/verifyauth")
            fake.down(False)
            assert (await client.get("/api/v1/verifyauth")).status_code == 200


def test_standalone_process_serves() -> None:
    port = free_port()
    args = [sys.executable, "-m", "tests.fakes.nightscout", "--port", str(port)]
    process = subprocess.Popen([*args, "--api-secret", SECRET], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/verifyauth", headers=ADMIN, timeout=1
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert answer.json()["message"]["message"] == "OK"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


async def test_devicestatus_body_limit_is_one_megabyte(
    http: httpx.AsyncClient, fake: FakeNightscout
) -> None:
    big = [{"device": "loop", "created_at": "2026-11-18T10:00:00Z", "pad": "x" * 1_100_000}]
    answer = await http.post("/api/v1/devicestatus", headers=ADMIN, json=big)
    assert answer.status_code == 413
    assert fake.devicestatus == []
