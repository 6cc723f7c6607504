"""API v3 UPDATE (PUT), PATCH and DELETE against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

DOC: dict[str, Any] = {
    "identifier": "t-1",
    "eventType": "Carb Correction",
    "carbs": 10,
    "date": 1705320000000,
    "utcOffset": 0,
    "app": "xDrip",
    "device": "phone",
}


def _body(resp: httpx.Response) -> Any:
    return resp.json()


async def test_put_inserts_then_replaces(v3: V3) -> None:
    inserted = await v3.client.put("/api/v3/treatments/t-1", json=DOC, headers=v3.admin)
    assert inserted.status_code == 201
    assert _body(inserted)["identifier"] == "t-1"
    created = _body(await v3.get("treatments/t-1"))["result"]

    replaced = await v3.client.put(
        "/api/v3/treatments/t-1",
        json={k: v for k, v in DOC.items() if k != "carbs"} | {"notes": "x"},
        headers=v3.admin,
    )
    assert replaced.status_code == 200
    body = _body(replaced)
    assert body["status"] == 200
    assert body["lastModified"] >= created["srvModified"]
    doc = _body(await v3.get("treatments/t-1"))["result"]
    assert "carbs" not in doc
    assert doc["notes"] == "x"
    assert doc["srvCreated"] == created["srvCreated"]


async def test_put_path_identifier_wins(v3: V3) -> None:
    resp = await v3.client.put("/api/v3/treatments/path-id", json=DOC, headers=v3.admin)
    assert resp.status_code == 201
    assert (await v3.get("treatments/path-id")).status_code == 200
    assert (await v3.get("treatments/t-1")).status_code == 404


async def test_put_immutable_field_and_412(v3: V3) -> None:
    await v3.post("treatments", DOC)
    changed = await v3.client.put(
        "/api/v3/treatments/t-1", json={**DOC, "app": "other"}, headers=v3.admin
    )
    assert _body(changed) == {
        "status": 400,
        "message": "Field app cannot be modified by the client",
    }
    stale = await v3.client.put(
        "/api/v3/treatments/t-1",
        json=DOC,
        headers={**v3.admin, "If-Unmodified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"},
    )
    assert (stale.status_code, _body(stale)) == (412, {"status": 412})


async def test_put_insert_needs_create_permission(v3: V3) -> None:
    update_only = await v3.jwt_for("api:treatments:update")
    resp = await v3.client.put("/api/v3/treatments/t-1", json=DOC, headers=update_only)
    assert _body(resp) == {"status": 403, "message": "Missing permission api:treatments:create"}


async def test_patch_merges_and_validates_only_given_fields(v3: V3) -> None:
    await v3.post("treatments", DOC)
    before = _body(await v3.get("treatments/t-1"))["result"]
    patched = await v3.client.patch(
        "/api/v3/treatments/t-1", json={"carbs": 12, "notes": "more"}, headers=v3.admin
    )
    assert (patched.status_code, _body(patched)) == (200, {"status": 200})
    assert patched.headers["last-modified"].endswith("GMT")
    after = _body(await v3.get("treatments/t-1"))["result"]
    assert (after["carbs"], after["notes"], after["app"]) == (12, "more", "xDrip")
    assert after["modifiedBy"] == "admin-tester"
    assert after["srvModified"] >= before["srvModified"]
    assert after["srvCreated"] == before["srvCreated"]

    bad = await v3.client.patch("/api/v3/treatments/t-1", json={"app": ""}, headers=v3.admin)
    assert _body(bad)["status"] == 400
    immutable = await v3.client.patch(
        "/api/v3/treatments/t-1", json={"eventType": "Note"}, headers=v3.admin
    )
    assert _body(immutable) == {
        "status": 400,
        "message": "Field eventType cannot be modified by the client",
    }
    missing = await v3.client.patch("/api/v3/treatments/none", json={"a": 1}, headers=v3.admin)
    assert (missing.status_code, _body(missing)) == (404, {"status": 404})


async def test_soft_delete_then_410_and_recreate(v3: V3) -> None:
    await v3.post("treatments", DOC)
    deleted = await v3.client.delete("/api/v3/treatments/t-1", headers=v3.admin)
    assert (deleted.status_code, _body(deleted)) == (200, {"status": 200})
    gone = await v3.get("treatments/t-1")
    assert (gone.status_code, _body(gone)) == (410, {"status": 410})
    assert _body(await v3.get("treatments"))["result"] == []
    again = await v3.client.delete("/api/v3/treatments/t-1", headers=v3.admin)
    assert again.status_code == 200
    put = await v3.client.put("/api/v3/treatments/t-1", json=DOC, headers=v3.admin)
    assert put.status_code == 410
    patch = await v3.client.patch("/api/v3/treatments/t-1", json={"a": 1}, headers=v3.admin)
    assert patch.status_code == 410
    # Creating the deleted identifier again overwrites it (a de-duplication).
    recreated = await v3.post("treatments", {**DOC, "carbs": 11})
    assert recreated.status_code == 200
    assert _body(recreated)["isDeduplication"] is True
    assert _body(await v3.get("treatments/t-1"))["result"]["carbs"] == 11


async def test_permanent_delete(v3: V3) -> None:
    await v3.post("treatments", DOC)
    resp = await v3.client.delete(
        "/api/v3/treatments/t-1", params={"permanent": "true"}, headers=v3.admin
    )
    assert resp.status_code == 200
    assert (await v3.get("treatments/t-1")).status_code == 404
    history = _body(await v3.get("treatments/history/0"))["result"]
    assert history == []
    missing = await v3.client.delete("/api/v3/treatments/t-1", headers=v3.admin)
    assert (missing.status_code, _body(missing)) == (404, {"status": 404})


async def test_read_only_documents_are_422(v3: V3) -> None:
    await v3.post("treatments", {**DOC, "isReadOnly": True})
    expected = {"status": 422, "message": "Trying to modify read-only document"}
    patch = await v3.client.patch("/api/v3/treatments/t-1", json={"a": 1}, headers=v3.admin)
    put = await v3.client.put("/api/v3/treatments/t-1", json=DOC, headers=v3.admin)
    delete = await v3.client.delete("/api/v3/treatments/t-1", headers=v3.admin)
    assert [_body(r) for r in (patch, put, delete)] == [expected] * 3


async def test_delete_needs_delete_permission(v3: V3) -> None:
    await v3.post("treatments", DOC)
    reader = await v3.jwt_for("api:treatments:read", "api:treatments:update")
    resp = await v3.client.delete("/api/v3/treatments/t-1", headers=reader)
    assert _body(resp) == {"status": 403, "message": "Missing permission api:treatments:delete"}
    assert (await v3.get("treatments/t-1")).status_code == 200


async def test_invalid_path_identifier(v3: V3) -> None:
    resp = await v3.get("treatments/" + "x" * 300)
    assert _body(resp) == {"status": 400, "message": "Bad or missing identifier field"}
