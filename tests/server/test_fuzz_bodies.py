"""Property-based fuzzing of request bodies: whatever is POSTed, PUT or PATCHed answers < 500.

Random JSON (nested arrays and objects, wrong types, null, integers past 64 bits, NaN and
Infinity literals, huge floats), documents that are plausible except for one field, and
bodies that are not JSON at all (invalid UTF-8, truncated JSON, deep nesting, forms, XML),
sent with any Content-Type to the writable routes of v1, v2 authorization and v3 (and to any
other path). The property and harness are test_fuzz_api.py's; inputs reaching bugs still open
elsewhere are left out by test_fuzz_known_open.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from tests.server.conftest import ADMIN, NOW_MS
from tests.server.test_fuzz_api import (  # noqa: F401  (fuzzed_fixture is the fixture)
    FUZZ,
    HUGE,
    WEIRD_TEXT,
    Fuzzed,
    assert_well_formed,
    fuzzed_fixture,
    request_paths,
    send,
)
from tests.server.test_fuzz_known_open import body_is_known_open

IDENTIFIER = "00000000-0000-0000-0000-000000000001"
# fmt: off
WRITABLE = st.sampled_from([
    ("POST", "/api/v1/entries"), ("POST", "/api/v1/treatments"), ("PUT", "/api/v1/treatments"),
    ("POST", "/api/v1/devicestatus"), ("POST", "/api/v1/profile"), ("PUT", "/api/v1/profile"),
    ("POST", "/api/v1/food"), ("PUT", "/api/v1/food"), ("POST", "/api/v1/entries/preview"),
    ("POST", "/api/v2/entries"), ("POST", "/api/v2/authorization/subjects"),
    ("PUT", "/api/v2/authorization/subjects"), ("POST", "/api/v2/authorization/roles"),
    ("PUT", "/api/v2/authorization/roles"),
    *((m, f"/api/v3/{c}") for m in ("POST",) for c in
      ("entries", "treatments", "devicestatus", "profile", "food", "settings")),
    *((m, f"/api/v3/{c}/{IDENTIFIER}") for m in ("PUT", "PATCH") for c in
      ("entries", "treatments", "devicestatus", "profile", "food", "settings")),
])
JSON_KEYS = st.sampled_from([
    "date", "sgv", "type", "dateString", "sysTime", "created_at", "eventType", "identifier",
    "utcOffset", "app", "device", "_id", "insulin", "carbs", "notes", "secret", "token",
    "srvModified", "srvCreated", "isValid", "isReadOnly", "store", "defaultProfile",
    "startDate", "mills", "name", "roles", "permissions", "mgdl", "direction", "$set", "",
])
RAW_BODIES = st.sampled_from([
    b"", b"   ", b"NaN", b"[1,2", b'{"a":', b"\xff\xfe\x00", b'{"date": 1e999}',
    b'{"sgv": "\xc3\x28"}', b"a=1&b=%ZZ&secret=x", b"\xef\xbb\xbf{}", b"[" * 2000 + b"]" * 2000,
    b'"' + b"x" * 5000 + b'"', b"<xml/>", b"--b\r\nContent-Disposition: form-data\r\n\r\n",
    b'{"__proto__": {"admin": true}}', b'{"date": -0.0, "app": "x"}', b"[[[[[]]]]]",
])
CONTENT_TYPES = st.sampled_from([
    None, "application/json", "application/json", "application/json; charset=latin-1",
    "text/plain", "text/csv", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b", "application/xml", "json", ";;;",
    "application/vnd.api+json", "*/*", "application/octet-stream",
])
# fmt: on
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, 2**53 + 1, 10**20, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=16),
    HUGE,
    WEIRD_TEXT,
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(JSON_KEYS, inner, max_size=6)
    ),
    max_leaves=20,
)


def json_bytes(value: Any) -> bytes:
    """``json`` (not orjson): NaN, Infinity and integers past 64 bits go out as written, as a
    careless client would send them."""
    return json.dumps(value).encode()


def _one_of_or(good: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(good), st.just(good), JSON_LEAF)


PLAUSIBLE_DOC = st.fixed_dictionaries(
    {
        "date": _one_of_or(NOW_MS),
        "type": _one_of_or("sgv"),
        "sgv": _one_of_or(120),
        "created_at": _one_of_or("2024-06-01T11:00:00Z"),
        "eventType": _one_of_or("Note"),
        "app": _one_of_or("fuzz"),
        "identifier": _one_of_or(IDENTIFIER),
        "name": _one_of_or("fuzz-subject"),
        "roles": _one_of_or(["readable"]),
        "permissions": _one_of_or(["api:entries:read"]),
    },
    optional={"utcOffset": JSON_LEAF, "device": JSON_LEAF, "_id": JSON_LEAF, "store": JSON_VALUE},
)
BODIES = st.one_of(
    st.none(),
    JSON_VALUE.map(json_bytes),
    PLAUSIBLE_DOC.map(json_bytes),
    st.lists(PLAUSIBLE_DOC, min_size=1, max_size=3).map(json_bytes),
    st.binary(max_size=64),
    RAW_BODIES,
)


@FUZZ
@given(data=st.data())
async def test_bodies_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """POST/PUT/PATCH of hostile bodies with any Content-Type, mostly to writable routes."""
    if data.draw(st.integers(0, 3)):
        method, path = data.draw(WRITABLE)
    else:
        method = data.draw(st.sampled_from(["POST", "PUT", "PATCH"]))
        path = data.draw(request_paths(fuzzed.paths))
    credentials = [dict(ADMIN), {"authorization": f"Bearer {fuzzed.jwt}"}, {}]
    headers = data.draw(st.sampled_from(credentials))
    if path.startswith("/api/v3") and data.draw(st.integers(0, 3)):
        headers = {"authorization": f"Bearer {fuzzed.jwt}"}
    content_type = data.draw(CONTENT_TYPES)
    if content_type is not None:
        headers = {**headers, "content-type": content_type}
    body = data.draw(BODIES)
    if body_is_known_open(path, body):
        body = b"{}"
    res = await send(fuzzed, method, path, "", headers, body)
    assert_well_formed(res, method, path)


async def test_bad_bodies_write_nothing(fuzzed: Fuzzed) -> None:
    """A refused batch leaves the store as it was (issue 5 item 6: nothing half-written)."""
    before = (await fuzzed.client.get("/api/v1/entries.json?count=100", headers=ADMIN)).json()
    batch = [{"type": "sgv", "sgv": 130, "date": NOW_MS - 60_000}, {"type": "sgv", "date": "x"}]
    for body in (json_bytes(batch), b"[" + json_bytes(batch[0]) + b",", b"\xff" * 8):
        res = await fuzzed.client.post(
            "/api/v1/entries", content=body, headers={**ADMIN, "content-type": "application/json"}
        )
        assert 400 <= res.status_code < 500, res.text
        assert_well_formed(res, "POST", "/api/v1/entries")
    after = await fuzzed.client.get("/api/v1/entries.json?count=100", headers=ADMIN)
    assert after.json() == before and len(before) == 3


def test_bodies_include_what_breaks_parsers() -> None:
    """The body strategy really sends non-JSON, NaN and over-64-bit numbers."""
    raw = [b"\xff\xfe\x00", b"NaN", b'{"date": 1e999}']
    assert all(r in RAW_BODIES.elements for r in raw)  # type: ignore[attr-defined]
    assert json_bytes({"x": float("nan"), "y": 2**70}) == b'{"x": NaN, "y": 1180591620717411303424}'
    assert isinstance(httpx.Response(200, content=json_bytes([])).json(), list)
