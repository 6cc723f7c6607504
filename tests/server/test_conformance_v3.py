"""Conformance: the rag alignment workspace's v3 parity scenarios and v3 assertions, run live.

Every scenario of ``conformance/scenarios/nocturne-v3-parity/*.yaml`` is sent as written
(endpoint, params, headers) to our server holding a fixed data set, and its ``expected`` block
(the ``cgm_remote_monitor`` branch when the scenario has one) is checked. Where the rag text
disagrees with cgm-remote-monitor's code and its own swagger (shared/reference/nightscout-api.md
§4.7, §7.5), ``DEVIATIONS`` names the scenario, the reason, and what we answer instead; those
expectations are checked too. A test fails if a scenario is neither checkable nor listed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml  # type: ignore[import-untyped]
from tests.server.v3_harness import (  # noqa: F401
    BACKENDS,
    V3,
    fresh_database,
    start_v3,
    v3_fixture,
)

RAG = Path(__file__).parents[3] / (
    "shared/fixtures/nightscout-api/rag-nightscout-ecosystem-alignment/conformance"
)
SCENARIOS = RAG / "scenarios" / "nocturne-v3-parity"
T0 = 1705320000000  # 2024-01-15T12:00:00Z, the scenarios' own reference time
N_ENTRIES = 60


def _load_scenarios() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found.extend(document.get("scenarios", []) if document else [])
    return found


ALL = _load_scenarios()

#: Scenario name -> (why the rag text is not followed, the status and extra check we answer).
DEVIATIONS: dict[str, str] = {
    "Default limit behavior": "rag says 10; crm code and swagger: default API3_MAX_LIMIT (1000)",
    "Limit exceeds maximum": "rag says capped; crm search/input.js answers 400 out of tolerance",
    "in operator": "rag splits on ','; crm and its swagger split on '|' (type$in=sgv|mbg|cal)",
    "nin operator (not in)": "rag separates with ','; crm splits on '|', so 'cal,mbg' is one "
    "value that no document has and nothing is excluded",
    "Offset parameter (Nocturne-only)": "rag says ignored; crm treats any unreserved name as a "
    "filter, so offset=50 filters on a missing field and matches nothing",
    "History without timestamp": "crm's message is 'Bad or missing Last-Modified "
    "header/parameter' (lib/api3/const.json), rag paraphrases it",
}

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


async def _seed(v3: V3) -> None:
    """60 entries (sgv 40..394 step 6, three types, four devices), three treatments and a
    soft-deleted one."""
    kinds = ("sgv", "sgv", "sgv", "mbg", "cal")
    devices = ("dexcom G6", "xDrip", "dexcomG6 receiver", "meter")
    docs = []
    for i in range(N_ENTRIES):
        kind = kinds[i % len(kinds)]
        doc: dict[str, Any] = {
            "identifier": f"entry-{i:03d}",
            "type": kind,
            "date": T0 - 3_600_000 + i * 300_000,
            "app": "conformance",
            "device": devices[i % len(devices)],
            "noise": 1,
            "direction": "Flat",
        }
        doc["sgv" if kind == "sgv" else kind] = 40 + 6 * i
        docs.append(doc)
    await v3.store.upsert("entries", docs)
    for i, smb in enumerate((True, False, True)):
        created = await v3.post(
            "treatments",
            {
                "eventType": "Correction Bolus",
                "insulin": 0.5,
                "isSMB": smb,
                "date": T0 - 3_600_000 + i * 3_600_000,
                "app": "conformance",
                "device": "pump",
            },
        )
        assert created.status_code == 201
    gone = await v3.post("treatments", {"eventType": "Note", "date": T0, "app": "conformance"})
    await v3.client.delete(f"/api/v3/treatments/{gone.json()['identifier']}", headers=v3.admin)


def _expected(scenario: dict[str, Any]) -> dict[str, Any]:
    expected: dict[str, Any] = scenario.get("expected") or {}
    chosen: dict[str, Any] = expected.get("cgm_remote_monitor", expected)
    return chosen


def _field_value(doc: dict[str, Any], field: str) -> Any:
    return doc.get(field)


def _check_results(scenario: dict[str, Any], exp: dict[str, Any], docs: list[Any]) -> None:
    params = {str(k): v for k, v in (scenario.get("params") or {}).items()}
    if "filter" in exp and "operator" in exp["filter"] and "value" in exp["filter"]:
        flt = exp["filter"]
        assert docs, "the seed data has matches for every scenario filter"
        if flt["operator"] in _OPS:
            check = _OPS[flt["operator"]]
            value = flt["value"]
            assert all(check(_field_value(d, flt["field"]), value) for d in docs)
        elif flt["operator"] == "re":
            assert all(re.search(flt["value"], d[flt["field"]]) for d in docs)
    if "result_sgv_min" in exp:
        assert min(d["sgv"] for d in docs) >= exp["result_sgv_min"]
    if "result_sgv_max" in exp:
        assert max(d["sgv"] for d in docs) <= exp["result_sgv_max"]
    if "result_sgv_range" in exp:
        low, high = exp["result_sgv_range"]
        assert docs and all(low <= d["sgv"] <= high for d in docs)
    if "excludes_type" in exp:
        assert docs and all(d.get("type") != exp["excludes_type"] for d in docs)
    if "excludes_types" in exp:
        assert docs and all(d.get("type") not in exp["excludes_types"] for d in docs)
    if "parsed_value" in exp:
        ((name, _raw),) = params.items()
        field, _, op = name.partition("$")
        check = _OPS[op or "eq"]
        assert docs and all(check(d.get(field), exp["parsed_value"]) for d in docs)
    if "result_count" in exp:
        assert len(docs) == exp["result_count"]
    if "offset" in exp:
        assert len(docs) == max(0, N_ENTRIES - exp["offset"])
    if exp.get("result_fields") == "all":
        assert {"identifier", "date", "type", "device"} <= set(docs[0])
    elif "result_fields" in exp:
        assert docs and all(set(d) <= set(exp["result_fields"]) for d in docs)
        assert any(set(d) == set(exp["result_fields"]) for d in docs)
    for field in exp.get("excluded_fields", ()):
        assert all(field not in d for d in docs)
    if "sort_order" in exp:
        dates = [d["date"] for d in docs]
        assert dates == sorted(dates, reverse=exp["sort_order"] == "descending")
    if exp.get("filter_count") == 2 and "filters" in exp:
        assert docs and all(T0 <= d["date"] <= 1705406400000 for d in docs)
    if "reserved_ignored" in exp:
        assert docs and len(docs) <= int(params["limit"])
        assert all(d["type"] == params["type"] for d in docs)
    if exp.get("matches") == "empty string":
        assert docs == []
    if exp.get("parsed_format") == "ISO string":
        assert docs and all(d["created_at"] >= "2024-01-15T12:00:00.000Z" for d in docs)


def _check_history(exp: dict[str, Any], resp: httpx.Response, docs: list[Any]) -> None:
    for header in exp.get("headers") or ():
        if isinstance(header, str):
            assert header.lower() in resp.headers
    if isinstance(exp.get("headers"), dict) and "ETag" in exp["headers"]:
        newest = max(d["srvModified"] for d in docs)
        assert resp.headers["etag"] == f'W/"{newest}"'
    if "filter" in exp and exp["filter"].get("field") == "srvModified":
        value = exp["filter"].get("value", 0)
        assert all(d["srvModified"] > value for d in docs)
    if exp.get("sort") or exp.get("sort_order") == "ascending":
        times = [d["srvModified"] for d in docs]
        assert times == sorted(times)
    if exp.get("includes_deleted") or "result_includes" in exp:
        assert any(d.get("isValid") is False for d in docs)
    if "max_results" in exp:
        assert 0 < len(docs) <= exp["max_results"]
    if "result_fields" in exp:
        assert docs and all(set(d) <= set(exp["result_fields"]) for d in docs)


def test_every_scenario_is_checked_or_a_named_deviation() -> None:
    names = {s["name"] for s in ALL}
    assert len(names) == len(ALL) >= 40
    assert set(DEVIATIONS) <= names


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path_factory.mktemp("v3conf"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(module_database: str) -> AsyncIterator[V3]:
    """One server per backend with the seed data; the parity scenarios only read from it
    (the seed already holds the soft-deleted treatment the history scenarios look for)."""
    async with start_v3(module_database) as harness:
        await _seed(harness)
        yield harness


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("scenario", ALL, ids=[s["name"] for s in ALL])
async def test_v3_parity_scenario(seeded: V3, scenario: dict[str, Any]) -> None:
    v3 = seeded
    endpoint = scenario["endpoint"].removeprefix("/api/v3/")
    headers = {**v3.admin, **(scenario.get("headers") or {})}
    params = scenario.get("params") or {}
    resp = await v3.client.get(f"/api/v3/{endpoint}", params=params, headers=headers)
    exp = _expected(scenario)
    name = scenario["name"]
    if name in DEVIATIONS:
        _check_deviation(name, resp)
        return
    status = exp.get("status", 200)
    assert resp.status_code == status, resp.text
    body = resp.json()
    if status != 200:
        assert body["status"] == status
        if "message" in exp:
            assert body["message"] == exp["message"]
        return
    docs = body["result"]
    if "/history" in endpoint:
        _check_history(exp, resp, docs)
    else:
        _check_results(scenario, exp, docs)


def _check_deviation(name: str, resp: httpx.Response) -> None:
    body = resp.json()
    if name == "Default limit behavior":
        assert len(body["result"]) == N_ENTRIES  # no default limit below 1000
    elif name == "Limit exceeds maximum":
        assert body == {"status": 400, "message": "Parameter limit out of tolerance"}
    elif name == "in operator":
        assert body["result"] == []  # 'sgv,mbg,cal' is one value
    elif name == "nin operator (not in)":
        assert len(body["result"]) == N_ENTRIES
    elif name == "Offset parameter (Nocturne-only)":
        assert body["result"] == []
    elif name == "History without timestamp":
        assert body == {"status": 400, "message": "Bad or missing Last-Modified header/parameter"}
    else:  # pragma: no cover - DEVIATIONS and this function list the same names
        raise AssertionError(name)


async def test_in_operator_with_pipe_as_crm_swagger_documents(v3: V3) -> None:
    await _seed(v3)
    resp = await v3.get("entries", params={"type$in": "sgv|mbg|cal"})
    assert len(resp.json()["result"]) == N_ENTRIES
    resp = await v3.get("entries", params={"type$nin": "cal|mbg"})
    assert {d["type"] for d in resp.json()["result"]} == {"sgv"}


# --- assertions (api-behavior.yaml, sync-deduplication.yaml) --------------------------------

ASSERTIONS = RAG / "assertions"


def _assertions(file: str) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((ASSERTIONS / file).read_text())
    return {a["id"]: a for a in data["assertions"]}


API_BEHAVIOR = _assertions("api-behavior.yaml")
SYNC_DEDUP = _assertions("sync-deduplication.yaml")
#: Nightscout v3 requires these on CREATE; the rag inputs omit them.
REQUIRED = {"date": T0, "app": "conformance"}
ROUNDTRIP = (
    "utcoffset-preserved-on-create",
    "unknown-field-preserved",
    "controller-specific-fields",
    "nested-object-preserved",
    "array-in-nested-preserved",
    "deep-nesting-supported",
)


def _target(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.removeprefix("treatment.").split("."):
        match = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        value = value[match.group(1)][int(match.group(2))] if match else value[part]
    return value


@pytest.mark.parametrize("assertion_id", ROUNDTRIP)
async def test_post_get_roundtrip_assertions(v3: V3, assertion_id: str) -> None:
    assertion = API_BEHAVIOR[assertion_id]
    created = await v3.post("treatments", {**REQUIRED, **assertion["input"]})
    assert created.status_code == 201
    stored = (await v3.get(f"treatments/{created.json()['identifier']}")).json()["result"]
    assert _target(stored, assertion["target"]) == assertion["expected"]


async def test_error_assertions(v3: V3) -> None:
    invalid = API_BEHAVIOR["invalid-json-rejected"]
    resp = await v3.client.post(
        "/api/v3/treatments",
        content=invalid["input"].encode(),
        headers={**v3.admin, "content-type": "application/json"},
    )
    assert resp.status_code == invalid["expected_status"]
    missing = API_BEHAVIOR["missing-required-field-error"]
    resp = await v3.post("treatments", missing["input"])
    # Nightscout does not require eventType; it rejects the missing date in its own shape.
    assert resp.status_code == missing["expected_status"]
    assert resp.json() == {"status": 400, "message": "Bad or missing date field"}


async def test_utcoffset_optional_defaults_from_the_date(v3: V3) -> None:
    assertion = API_BEHAVIOR["utcoffset-optional"]
    # Without date and app Nightscout answers 400; with them utcOffset is optional.
    assert (await v3.post("treatments", assertion["input"])).status_code == 400
    created = await v3.post("treatments", {**REQUIRED, **assertion["input"]})
    assert created.status_code == assertion["expected_status"]
    stored = (await v3.get(f"treatments/{created.json()['identifier']}")).json()["result"]
    assert stored["utcOffset"] == 0


async def test_sync_deduplication_assertions(v3: V3) -> None:
    doc = {
        **REQUIRED,
        "eventType": "Note",
        "identifier": "client-uuid",
        "enteredBy": "Trio",
        "syncIdentifier": "sync-1",
        "utcOffset": -300,
        "device": "loop://iPhone",
    }
    created = await v3.post("treatments", doc)
    stored = (await v3.get("treatments/client-uuid")).json()["result"]
    for field in ("syncIdentifier", "identifier", "enteredBy", "utcOffset"):
        assert stored[field] == doc[field], SYNC_DEDUP[f"{field.lower()}-preserved"]["id"]
    assert stored["srvCreated"] > 0  # srvcreated-set-on-create
    by_id = (await v3.get("treatments", params={"identifier": "client-uuid"})).json()["result"]
    assert len(by_id) == 1  # query-by-identifier
    for field in SYNC_DEDUP["core-treatment-fields-immutable"]["fields"]:
        changed = {**doc, field: T0 + 1 if field == "date" else "changed"}
        resp = await v3.client.put("/api/v3/treatments/client-uuid", json=changed, headers=v3.admin)
        if field == "identifier":
            assert resp.status_code == 200  # the path identifier is forced in
        else:
            assert resp.json()["message"] == f"Field {field} cannot be modified by the client"
    patch = await v3.client.patch(
        "/api/v3/treatments/client-uuid", json={"srvCreated": 1}, headers=v3.admin
    )
    assert patch.json()["message"] == "Field srvCreated cannot be modified by the client"
    await v3.client.patch("/api/v3/treatments/client-uuid", json={"notes": "n"}, headers=v3.admin)
    after = (await v3.get("treatments/client-uuid")).json()["result"]
    assert after["srvModified"] >= created.json()["lastModified"]  # srvmodified-updated
    await v3.client.delete("/api/v3/treatments/client-uuid", headers=v3.admin)
    history = (await v3.get(f"treatments/history/{T0 - 1}")).json()["result"]
    assert [d["isValid"] for d in history if d["identifier"] == "client-uuid"] == [False]
