"""/api/v2/authorization: subjects, roles, access tokens, JWTs; tokens on v1 routes."""

from __future__ import annotations

import httpx
import jwt
from tests.server.conftest import ADMIN, NOW_MS, FrozenClock, sgv

BASE = "/api/v2/authorization"


async def make_subject(client: httpx.AsyncClient, name: str, roles: list[str]) -> dict[str, str]:
    res = await client.post(f"{BASE}/subjects", json={"name": name, "roles": roles}, headers=ADMIN)
    assert res.status_code == 200, res.text
    body: dict[str, str] = res.json()
    return body


async def test_subject_token_and_jwt_flow(client: httpx.AsyncClient) -> None:
    subject = await make_subject(client, "Uploader Phone", ["careportal", "devicestatus-upload"])
    token = subject["accessToken"]
    assert token.startswith("uploaderph-") and len(token.split("-")[1]) == 16
    listed = (await client.get(f"{BASE}/subjects", headers=ADMIN)).json()
    assert [s["name"] for s in listed] == ["Uploader Phone"]

    res = await client.get(f"{BASE}/request/{token}")
    assert res.status_code == 200
    body = res.json()
    assert body["sub"] == "Uploader Phone"
    assert body["exp"] - body["iat"] == 8 * 3600
    assert ["api:treatments:create"] in body["permissionGroups"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["accessToken"] == token

    bearer = {"Authorization": f"Bearer {body['token']}"}
    treat = {"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "notes": "hi"}
    assert (await client.post("/api/v1/treatments", json=treat, headers=bearer)).status_code == 200
    entries = await client.post("/api/v1/entries", json=[sgv(NOW_MS)], headers=bearer)
    assert entries.status_code == 401  # careportal cannot write entries
    via_query = await client.post(f"/api/v1/treatments?token={token}", json=treat)
    assert via_query.status_code == 200
    via_header = await client.post(
        "/api/v1/treatments", json=treat, headers={"api-secret": f"token={token}"}
    )
    assert via_header.status_code == 200
    verify = (await client.get(f"/api/v1/verifyauth?token={token}")).json()["message"]
    assert verify["message"] == "OK" and verify["canWrite"] is False


async def test_bad_token_is_401_and_penalised(client: httpx.AsyncClient) -> None:
    res = await client.get(f"{BASE}/request/nobody-0123456789abcdef")
    assert res.status_code == 401
    assert res.json()["message"] == "Unauthorized"


async def test_expired_jwt_falls_back_to_default_roles(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    subject = await make_subject(client, "admin2", ["admin"])
    issued = (await client.get(f"{BASE}/request/{subject['accessToken']}")).json()
    assert issued["token"]
    # JWT clock is wall time; an altered token is simply invalid
    bearer = {"Authorization": f"Bearer {issued['token']}x"}
    res = await client.post("/api/v1/entries", json=[sgv(NOW_MS)], headers=bearer)
    assert res.status_code == 401


async def test_admin_only_administration(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{BASE}/subjects")).status_code == 401
    assert (await client.get(f"{BASE}/roles")).status_code == 401
    roles = (await client.get(f"{BASE}/roles", headers=ADMIN)).json()
    assert {"admin", "readable", "denied", "careportal"} <= {r["name"] for r in roles}
    new = {"name": "watcher", "permissions": ["api:entries:read"], "notes": "watch"}
    assert (await client.post(f"{BASE}/roles", json=new, headers=ADMIN)).status_code == 200
    dup = await client.post(f"{BASE}/roles", json=new, headers=ADMIN)
    assert dup.status_code == 409
    subject = await make_subject(client, "watch", ["watcher"])
    check = await client.get(f"{BASE}/debug/check/api:entries:read?token={subject['accessToken']}")
    assert check.json() == {"check": True}
    upd = {"_id": subject["_id"], "roles": ["denied"]}
    assert (await client.put(f"{BASE}/subjects", json=upd, headers=ADMIN)).status_code == 200
    res = await client.delete(f"{BASE}/subjects/{subject['_id']}", headers=ADMIN)
    assert res.status_code == 200
    gone = await client.get(f"{BASE}/request/{subject['accessToken']}")
    assert gone.status_code == 401
    bad = await client.post(f"{BASE}/subjects", json={"roles": ["x"]}, headers=ADMIN)
    assert bad.status_code == 400
