"""API v3 CREATE and READ against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.server.v3_harness import V3, v3_fixture  # noqa: F401

from nightbridge.identity import calculate_identifier

TREATMENT: dict[str, Any] = {
    "eventType": "Correction Bolus",
    "insulin": 0.3,
    "date": 1613057404186,
    "utcOffset": 60,
    "app": "AndroidAPS",
    "device": "Samsung XCover 4-861536030196001",
}


def _body(resp: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = resp.json()
    return body


async def test_create_computes_identifier_and_answers_201(v3: V3) -> None:
    resp = await v3.post("treatments", TREATMENT)
    assert resp.status_code == 201
    body = _body(resp)
    assert body["identifier"] == "5b0f7124-475f-5db0-824c-a73c5eea0975"
    assert body["identifier"] == calculate_identifier(
        TREATMENT["device"], TREATMENT["date"], TREATMENT["eventType"]
    )
    assert body["status"] == 201
    assert isinstance(body["lastModified"], int)
    assert resp.headers["location"] == f"/api/v3/treatments/{body['identifier']}"
    assert resp.headers["last-modified"].endswith("GMT")

    read = await v3.get(f"treatments/{body['identifier']}")
    assert read.status_code == 200
    doc = _body(read)["result"]
    assert doc["insulin"] == 0.3
    assert doc["created_at"] == "2021-02-11T15:30:04.186Z"
    assert doc["srvCreated"] == doc["srvModified"] == body["lastModified"]
    assert doc["subject"] == "admin-tester"
    assert "_id" not in doc
    assert read.headers["last-modified"].endswith("GMT")


async def test_create_twice_deduplicates_into_one_document(v3: V3) -> None:
    first = await v3.post("treatments", TREATMENT)
    second = await v3.post("treatments", {**TREATMENT, "insulin": 0.4})
    assert first.status_code == 201
    assert second.status_code == 200
    body = _body(second)
    assert body["isDeduplication"] is True
    assert body["identifier"] == _body(first)["identifier"]
    assert "deduplicatedIdentifier" not in body
    assert second.headers["location"].endswith(body["identifier"])
    found = _body(await v3.get("treatments"))["result"]
    assert [d["insulin"] for d in found] == [0.4]


async def test_dedup_needs_update_permission(v3: V3) -> None:
    create_only = await v3.jwt_for("api:treatments:create")
    assert (await v3.post("treatments", TREATMENT, headers=create_only)).status_code == 201
    again = await v3.post("treatments", TREATMENT, headers=create_only)
    assert again.status_code == 403
    assert _body(again) == {"status": 403, "message": "Missing permission api:treatments:update"}


async def test_dedup_against_v1_document_by_natural_key(v3: V3) -> None:
    # A v1 write: the server assigned the identifier (no client identifier).
    v1_doc = {
        "eventType": "Meal Bolus",
        "created_at": "2024-01-15T12:00:00.000Z",
        "date": 1705320000000,
        "utcOffset": 0,
        "app": "careportal",
        "carbs": 20,
    }
    stored = await v3.store.upsert_natural("treatments", [v1_doc])
    old_identifier = stored.docs[0]["identifier"]
    v3_doc = {**v1_doc, "identifier": "client-uuid-1", "carbs": 25}
    del v3_doc["date"]
    resp = await v3.post("treatments", v3_doc)
    assert resp.status_code == 200
    body = _body(resp)
    assert body["isDeduplication"] is True
    assert body["identifier"] == "client-uuid-1"
    if old_identifier != "client-uuid-1":
        assert body["deduplicatedIdentifier"] == old_identifier
    docs = _body(await v3.get("treatments"))["result"]
    assert [(d["identifier"], d["carbs"]) for d in docs] == [("client-uuid-1", 25)]


async def test_treatments_are_not_deduplicated_by_created_at_alone(v3: V3) -> None:
    base = {"created_at": "2024-01-15T12:00:00.000Z", "app": "t", "device": "d"}
    assert (await v3.post("treatments", {**base, "eventType": "Note"})).status_code == 201
    assert (await v3.post("treatments", {**base, "eventType": "BG Check"})).status_code == 201
    assert len(_body(await v3.get("treatments"))["result"]) == 2


async def test_date_parsing_on_create(v3: V3) -> None:
    resp = await v3.post(
        "treatments",
        {"date": "2019-06-10T08:07:08,576+02:00", "app": "t", "eventType": "Note"},
    )
    assert resp.status_code == 201
    doc = _body(await v3.get(f"treatments/{_body(resp)['identifier']}"))["result"]
    assert (doc["date"], doc["utcOffset"], doc["created_at"]) == (
        1560146828576,
        120,
        "2019-06-10T06:07:08.576Z",
    )


async def test_created_at_fallback_and_unix_seconds(v3: V3) -> None:
    resp = await v3.post("food", {"created_at": 1560146828, "app": "t", "name": "apple"})
    assert resp.status_code == 201
    doc = _body(await v3.get(f"food/{_body(resp)['identifier']}"))["result"]
    assert doc["date"] == 1560146828000
    assert doc["created_at"] == "2019-06-10T06:07:08.000Z"


async def test_client_identifier_and_unknown_fields_are_kept(v3: V3) -> None:
    doc = {
        **TREATMENT,
        "identifier": "my-own-id",
        "customField": "custom_value",
        "pumpSettings": {"profile": {"basal": [{"time": "00:00", "value": 1.0}]}},
    }
    resp = await v3.post("treatments", doc)
    assert _body(resp)["identifier"] == "my-own-id"
    stored = _body(await v3.get("treatments/my-own-id"))["result"]
    assert stored["customField"] == "custom_value"
    assert stored["pumpSettings"]["profile"]["basal"][0]["value"] == 1.0
    assert stored["utcOffset"] == 60


async def test_create_validation_errors(v3: V3) -> None:
    cases: list[tuple[Any, str]] = [
        ({"app": "t"}, "Bad or missing date field"),
        ({"date": 946684800000, "app": "t"}, "Bad or missing date field"),
        ({"date": 1705320000000}, "Bad or missing app field"),
        ({"date": 1705320000000, "app": "t", "utcOffset": 5000}, "Bad or missing utcOffset field"),
        ([TREATMENT, TREATMENT], "Bad or missing request body"),
        ({}, "Bad or missing request body"),
        ({**TREATMENT, "identifier": ""}, "Bad or missing identifier field"),
    ]
    for doc, message in cases:
        resp = await v3.post("treatments", doc)
        assert resp.status_code == 400, doc
        assert _body(resp) == {"status": 400, "message": message}
    assert _body(await v3.get("treatments"))["result"] == []


async def test_malformed_json_is_400_not_500(v3: V3) -> None:
    resp = await v3.client.post(
        "/api/v3/treatments",
        content=b"{ invalid json }",
        headers={**v3.admin, "content-type": "application/json"},
    )
    assert resp.status_code == 400
    assert _body(resp) == {"status": 400, "message": "Bad or missing request body"}


async def test_read_missing_is_404_and_unknown_collection_404(v3: V3) -> None:
    missing = await v3.get("entries/nope")
    assert (missing.status_code, _body(missing)) == (404, {"status": 404})
    unknown = await v3.get("unicorns")
    assert unknown.status_code == 404
    assert _body(unknown) == {"status": 404, "message": "Bad operation or collection"}
    deep = await v3.get("entries/a/b/c")
    assert _body(deep) == {"status": 404, "message": "Bad operation or collection"}


async def test_read_if_modified_since_and_fields(v3: V3) -> None:
    identifier = _body(await v3.post("treatments", TREATMENT))["identifier"]
    first = await v3.get(f"treatments/{identifier}")
    not_modified = await v3.get(
        f"treatments/{identifier}",
        headers={**v3.admin, "If-Modified-Since": first.headers["last-modified"]},
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    older = await v3.get(
        f"treatments/{identifier}",
        headers={**v3.admin, "If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"},
    )
    assert older.status_code == 200
    projected = await v3.get(f"treatments/{identifier}", params={"fields": "insulin,date"})
    assert _body(projected)["result"] == {"insulin": 0.3, "date": 1613057404186}


async def test_format_extensions(v3: V3) -> None:
    resp = await v3.get("entries.csv")
    assert _body(resp) == {"status": 406, "message": "Unsupported output format requested"}
    as_json = await v3.get("entries.json")
    assert _body(as_json) == {"status": 200, "result": []}


async def test_v3_copy_of_a_v1_treatment_without_app_merges(v3: V3) -> None:
    v1 = await v3.store.upsert_natural(
        "treatments",
        [{"eventType": "Note", "created_at": "2024-01-15T12:00:00.000Z", "notes": "v1"}],
    )
    identifier = v1.docs[0]["identifier"]
    resp = await v3.post(
        "treatments",
        {
            "identifier": identifier,
            "eventType": "Note",
            "created_at": "2024-01-15T12:00:00Z",
            "app": "AAPS",
            "notes": "v3",
        },
    )
    assert resp.status_code == 200
    assert _body(resp)["isDeduplication"] is True
    stored = _body(await v3.get(f"treatments/{identifier}"))["result"]
    assert (stored["app"], stored["notes"]) == ("AAPS", "v3")


async def test_oversized_body_is_413_in_v3_shape(v3: V3) -> None:
    resp = await v3.client.post(
        "/api/v3/entries",
        content=b"{}",
        headers={
            **v3.admin,
            "content-type": "application/json",
            "content-length": str(60 * 1024 * 1024),
        },
    )
    assert resp.status_code == 413
    assert _body(resp) == {"status": 413, "message": "Payload Too Large"}


async def test_store_failure_is_500_database_error(v3: V3) -> None:
    await v3.store.close()
    resp = await v3.get("entries")
    assert (resp.status_code, _body(resp)) == (500, {"status": 500, "message": "Database error"})
