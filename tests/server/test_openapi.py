"""Our OpenAPI document: a valid OpenAPI 3.1 document that describes v1, v2 authorization and
v3, and whose response schemas the server's real answers satisfy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from tests.server.conftest import ADMIN, NOW_MS, sgv
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

TREATMENT = {
    "eventType": "Correction Bolus",
    "created_at": "2024-06-01T11:00:00.000Z",
    "insulin": 1.5,
    "enteredBy": "openapi-test",
}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    resp = await client.get("/openapi.json")
    assert resp.status_code == 200
    spec: dict[str, Any] = resp.json()
    return spec


def _response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> Any:
    content = spec["paths"][path][method]["responses"][str(status)]["content"]
    return content["application/json"]["schema"]


def check(spec: dict[str, Any], path: str, method: str, resp: httpx.Response) -> None:
    """``resp``'s JSON body satisfies the schema documented for its status."""
    schema = {
        **_response_schema(spec, path, method, resp.status_code),
        "components": spec["components"],
    }
    errors = list(Draft202012Validator(schema).iter_errors(resp.json()))
    assert not errors, f"{method.upper()} {path} {resp.status_code}: {errors[0].message}"


async def test_document_is_valid_openapi_31(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    for path in (
        "/api/v1/entries",
        "/api/v1/entries/{spec}",
        "/api/v1/treatments",
        "/api/v1/status",
        "/api/v2/authorization/request/{token}",
        "/api/v3/{collection}",
        "/api/v3/{collection}/{identifier}",
        "/api/v3/{collection}/history/{last_modified}",
    ):
        assert path in paths, path
    names = {p["name"] for p in paths["/api/v1/entries"]["get"]["parameters"]}
    assert {"count", "find"} <= names
    v3_names = {p["name"] for p in paths["/api/v3/{collection}"]["get"]["parameters"]}
    assert {"limit", "skip", "sort", "sort$desc", "fields", "collection"} <= v3_names
    assert paths["/api/v3/{collection}"]["get"]["security"] == [{"bearerJwt": []}]
    assert "422" not in paths["/api/v1/entries/{spec}"]["get"]["responses"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_v1_answers_match_their_schemas(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    posted = await client.post(
        "/api/v1/entries", json=[sgv(NOW_MS), sgv(NOW_MS - 300_000, 118)], headers=ADMIN
    )
    check(spec, "/api/v1/entries", "post", posted)
    check(spec, "/api/v1/entries", "get", await client.get("/api/v1/entries", headers=ADMIN))
    current = await client.get("/api/v1/entries/current", headers=ADMIN)
    check(spec, "/api/v1/entries/current", "get", current)
    by_type = await client.get("/api/v1/entries/sgv.json?count=5", headers=ADMIN)
    check(spec, "/api/v1/entries/{spec}", "get", by_type)
    missing = await client.get("/api/v1/entries/0123456789abcdef01234567", headers=ADMIN)
    assert missing.status_code == 404
    check(spec, "/api/v1/entries/{spec}", "get", missing)
    made = await client.post("/api/v1/treatments", json=TREATMENT, headers=ADMIN)
    check(spec, "/api/v1/treatments", "post", made)
    listed = await client.get("/api/v1/treatments?find[created_at][$gte]=2024-01-01", headers=ADMIN)
    assert listed.json(), "the treatment is listed"
    check(spec, "/api/v1/treatments", "get", listed)
    check(spec, "/api/v1/status", "get", await client.get("/api/v1/status.json", headers=ADMIN))
    check(spec, "/api/versions", "get", await client.get("/api/versions"))
    deleted = await client.delete("/api/v1/entries?find[sgv]=118", headers=ADMIN)
    check(spec, "/api/v1/entries", "delete", deleted)


async def test_v2_and_v3_answers_match_their_schemas(v3: V3) -> None:
    spec = await _spec(v3.client)
    role = await v3.client.post(
        "/api/v2/authorization/roles",
        json={"name": "reader", "permissions": ["api:*:read"]},
        headers=ADMIN,
    )
    assert role.status_code == 200
    subject = await v3.client.post(
        "/api/v2/authorization/subjects",
        json={"name": "follower", "roles": ["reader"]},
        headers=ADMIN,
    )
    token = subject.json()["accessToken"]
    issued = await v3.client.get(f"/api/v2/authorization/request/{token}")
    check(spec, "/api/v2/authorization/request/{token}", "get", issued)
    subjects = await v3.client.get("/api/v2/authorization/subjects", headers=ADMIN)
    check(spec, "/api/v2/authorization/subjects", "get", subjects)
    unknown = await v3.client.get("/api/v2/authorization/request/nobody-0123456789abcdef")
    assert unknown.status_code == 401
    check(spec, "/api/v2/authorization/request/{token}", "get", unknown)

    item = "/api/v3/{collection}/{identifier}"
    created = await v3.post("entries", {**sgv(NOW_MS), "app": "openapi-test"})
    assert created.status_code == 201
    check(spec, "/api/v3/{collection}", "post", created)
    again = await v3.post("entries", {**sgv(NOW_MS), "app": "openapi-test"})
    assert again.status_code == 200
    check(spec, "/api/v3/{collection}", "post", again)
    check(spec, "/api/v3/{collection}", "get", await v3.get("entries?limit=10"))
    check(spec, "/api/v3/{collection}", "get", await v3.get("entries?limit=10&fields=sgv"))
    ident = created.json()["identifier"]
    check(spec, item, "get", await v3.get(f"entries/{ident}"))
    history = await v3.get("entries/history/0")
    check(spec, "/api/v3/{collection}/history/{last_modified}", "get", history)
    check(spec, "/api/v3/version", "get", await v3.get("version"))
    check(spec, "/api/v3/status", "get", await v3.get("status"))
    check(spec, "/api/v3/lastModified", "get", await v3.get("lastModified"))
    refused = await v3.get("entries", headers={})
    assert refused.status_code == 401
    check(spec, "/api/v3/{collection}", "get", refused)


@pytest.mark.parametrize("bad", [[{"_id": 5}], "not-json"])
async def test_v1_errors_match_the_error_schema(client: httpx.AsyncClient, bad: Any) -> None:
    spec = await _spec(client)
    content = bad if isinstance(bad, str) else None
    kwargs: dict[str, Any] = {"content": content} if content else {"json": bad}
    resp = await client.post("/api/v1/entries", headers=ADMIN, **kwargs)
    assert resp.status_code == 400
    schema = {"$ref": "#/components/schemas/V1Error", "components": spec["components"]}
    assert not list(Draft202012Validator(schema).iter_errors(resp.json()))
