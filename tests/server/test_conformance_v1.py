"""Conformance cases generated from shared/fixtures/nightscout-api/ (v1 and auth parts).

- cgm-remote-monitor's v1 OpenAPI document (lib/server/swagger.json): every path and method is
  requested; served routes answer 200 JSON; the debugging routes we do not serve (echo, times,
  slice) answer 404 in Nightscout's error shape, never 500 or HTML.
- the rag alignment workspace's assertions that concern v1 (POST accepting arrays/objects, field
  round trips through POST -> GET, devicestatus field shapes, the enteredBy ``$ne`` query and
  controllers coexisting): each assertion loaded from its YAML file becomes one test case.
  v3 assertions (history, soft delete, identifier search) are covered by the v3 suite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.server.conftest import ADMIN, NOW_MS, sgv

FIXTURES = Path("/work/shared/fixtures/nightscout-api")
if not FIXTURES.exists():  # repository checkout next to shared/
    FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "nightscout-api"
SWAGGER = FIXTURES / "cgm-remote-monitor/lib/server/swagger.json"
ASSERTIONS = FIXTURES / "rag-nightscout-ecosystem-alignment/conformance/assertions"

NOT_SERVED = ("/slice/", "/echo/", "/times/")
CREATED_AT = "2024-06-01T07:00:00-05:00"  # utcOffset -300, within the 4-day window


def _swagger_cases() -> list[tuple[str, str]]:
    spec = json.loads(SWAGGER.read_text())
    return [(path, method) for path, item in spec["paths"].items() for method in item]


def _assertions(file: str, ids: tuple[str, ...]) -> list[dict[str, Any]]:
    data = yaml.safe_load((ASSERTIONS / file).read_text())
    found = {a["id"]: a for a in data["assertions"] if isinstance(a, dict) and "id" in a}
    missing = [i for i in ids if i not in found]
    assert not missing, f"{file}: assertions gone: {missing}"
    return [found[i] for i in ids]


def _concrete(path: str) -> str:
    values = {"spec": "sgv", "storage": "entries", "field": "dateString", "type": "sgv"}
    values |= {"prefix": "2024-06", "regex": "T1.*"}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.mark.parametrize(("path", "method"), _swagger_cases())
async def test_swagger_v1_route(client: httpx.AsyncClient, path: str, method: str) -> None:
    url = "/api/v1" + _concrete(path).rstrip("/")
    if method == "delete" and path.endswith("{spec}"):
        url = url.rsplit("/", 1)[0] + "/*"
    bodies = {
        "/entries": [sgv(NOW_MS)],
        "/treatments": [{"eventType": "Note", "created_at": CREATED_AT, "notes": "x"}],
        "/devicestatus/": [{"device": "openaps://rig", "created_at": CREATED_AT}],
    }
    body = bodies.get(path) if method == "post" else None
    res = await client.request(method.upper(), url, json=body, headers=ADMIN)
    if path.startswith(NOT_SERVED):
        assert res.status_code == 404
        assert res.json()["status"] == 404
        return
    assert res.status_code == 200, (method, url, res.text)
    assert res.headers["content-type"].startswith("application/json")


# --- rag assertions ------------------------------------------------------------------------

API_CASES = _assertions(
    "client-upload-behaviors.yaml",
    ("profile-array-accepted", "profile-single-accepted", "v1-array-treatments-accepted",
     "entries-batch-accepted"),
)  # fmt: skip
SAMPLES: dict[str, Any] = {
    "profile": {"defaultProfile": "Default", "store": {"Default": {"dia": 5}},
                "startDate": "2024-06-01T00:00:00.000Z"},
    "treatments": {"eventType": "Note", "created_at": CREATED_AT, "notes": "n"},
    "entries": sgv(NOW_MS),
}  # fmt: skip


@pytest.mark.parametrize("case", API_CASES, ids=lambda a: a["id"])
async def test_rag_api_assertion(client: httpx.AsyncClient, case: dict[str, Any]) -> None:
    method, path = case["operation"].split()
    collection = path.rsplit("/", 1)[1]
    sample = SAMPLES[collection]
    body: Any = [sample] if case["input_format"].startswith("[") else sample
    if case["input_format"].count("{") > 1:
        second = (
            {**sample, "created_at": "2024-06-01T08:00:00Z"}
            if collection != "entries"
            else (sgv(NOW_MS - 300_000))
        )
        body = [sample, second]
    res = await client.request(method, path, json=body, headers=ADMIN)
    assert res.status_code == case["expected_status"]


ROUND_TRIPS = _assertions(
    "api-behavior.yaml",
    ("utcoffset-preserved-on-create", "unknown-field-preserved", "controller-specific-fields",
     "nested-object-preserved", "array-in-nested-preserved", "deep-nesting-supported"),
) + _assertions(
    "client-upload-behaviors.yaml",
    ("treatments-syncidentifier-preserved", "treatments-uuid-preserved"),
) + _assertions(
    "sync-deduplication.yaml",
    ("syncidentifier-preserved", "identifier-preserved", "enteredby-preserved",
     "utcoffset-preserved", "srvcreated-set-on-create"),
)  # fmt: skip
ORIGINALS = {
    "syncIdentifier": "4f1c0e0e-8b52-4b6a-9c3e-2a1f0d2f7c11",
    "identifier": "7d0b7c4e-6a0a-4c55-8f3e-0a3f3c1b9e21",
    "enteredBy": "Trio",
    "utcOffset": -300,
}


def resolve(doc: Any, dotted: str) -> Any:
    """``a.b[0].c`` inside ``doc``."""
    for part in dotted.split("."):
        name, _, index = part.partition("[")
        doc = doc[name]
        if index:
            doc = doc[int(index.rstrip("]"))]
    return doc


@pytest.mark.parametrize("case", ROUND_TRIPS, ids=lambda a: a["id"])
async def test_rag_treatment_round_trip(client: httpx.AsyncClient, case: dict[str, Any]) -> None:
    target = case["target"].removeprefix("treatment.")
    doc: dict[str, Any] = {"eventType": "Note", "created_at": CREATED_AT, **case.get("input", {})}
    expected = case["expected"]
    if isinstance(expected, str) and expected.startswith("original_"):
        expected = ORIGINALS[expected.removeprefix("original_")]
        doc[target] = expected
    res = await client.post("/api/v1/treatments", json=[doc], headers=ADMIN)
    assert res.status_code == 200
    found = (await client.get("/api/v1/treatments.json")).json()
    assert len(found) == 1
    value = resolve(found[0], target)
    if expected == "> 0":
        assert isinstance(value, int) and value > 0
    else:
        assert value == expected


DEVICESTATUS = {
    "device": "loop://iPhone",
    "created_at": CREATED_AT,
    "uploaderBattery": 81,
    "loop": {
        "iob": {"iob": 1.25},
        "override": {"active": True, "multiplier": 0.8, "name": "Exercise"},
        "predicted": {"values": [120, 118, 115], "startDate": "2024-06-01T12:00:00Z"},
    },
    "openaps": {"iob": {"basaliob": 0.4, "activity": 0.01}, "suggested": {"eventualBG": 110}},
}
DS_CASES = _assertions(
    "devicestatus-fields.yaml",
    ("iob-total-present", "iob-basal-component", "iob-activity-component",
     "override-active-indicator", "override-multiplier-present", "override-name-present",
     "eventualbg-present", "prediction-array-present", "prediction-timestamps-present",
     "device-identifier-present", "device-identifier-format", "uploaderid-present"),
)  # fmt: skip


def _shape_ok(value: Any, expected: str) -> bool:
    checks = {
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        ">= 0": lambda v: isinstance(v, int | float) and v >= 0,
        "boolean": lambda v: isinstance(v, bool),
        "string": lambda v: isinstance(v, str) and bool(v),
        "array": lambda v: isinstance(v, list),
        "iso8601": lambda v: isinstance(v, str) and bool(re.match(r"^\d{4}-\d\d-\d\dT", v)),
    }
    return bool(checks[expected](value))


@pytest.mark.parametrize("case", DS_CASES, ids=lambda a: a["id"])
async def test_rag_devicestatus_fields(client: httpx.AsyncClient, case: dict[str, Any]) -> None:
    assert (await client.post("/api/v1/devicestatus", json=DEVICESTATUS, headers=ADMIN)).is_success
    stored = (await client.get("/api/v1/devicestatus.json")).json()[0]
    value = resolve(stored, case["target"].removeprefix("devicestatus."))
    if case["type"] == "pattern":
        assert re.match(case["pattern"], value)
    else:
        assert _shape_ok(value, case["expected"])


QUERY_CASES = _assertions(
    "sync-deduplication.yaml", ("enteredby-filter-excludes-self", "cross-controller-coexistence")
)
CONTROLLERS = {
    "given_trio_aaps_xdrip_treatments": ("Trio", "AndroidAPS", "xDrip+"),
    "given_trio_aaps_loop_treatments": ("Trio", "AndroidAPS", "Loop"),
}


@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda a: a["id"])
async def test_rag_treatment_queries(client: httpx.AsyncClient, case: dict[str, Any]) -> None:
    docs = [
        {"eventType": "Correction Bolus", "insulin": 1, "enteredBy": who,
         "created_at": f"2024-06-01T1{i}:00:00Z"}
        for i, who in enumerate(CONTROLLERS[case["when"]])
    ]  # fmt: skip
    await client.post("/api/v1/treatments", json=docs, headers=ADMIN)
    res = await client.get(f"/api/v1/{case['query']}")
    assert len(res.json()) == case["expected_count"]
