"""Property-based fuzzing of the whole server in process: bad requests answer 4xx, never 500.

Issue 5 item 6: whatever a client sends — odd paths, ``find[...]`` with unknown operators or
nested brackets, invalid regular expressions, huge or non-numeric numbers, wrong JSON types,
invalid UTF-8, mismatched Content-Type, garbage ``If-Modified-Since``, api-secret or JWTs
(expired, ``alg: none``) — the server answers below 500, every 4xx is JSON in Nightscout's error
shape ``{status, message[, description]}`` (v3's status-only 404/410/412 excepted, as
cgm-remote-monitor answers them), and no body carries traceback text.

Paths come from our own OpenAPI document (/openapi.json) with their parameters filled by
hypothesis, plus random paths under /api/v1, /api/v2 and /api/v3. Hypothesis runs
derandomized (a fixed seed per test) with a bounded example count, so CI is deterministic.
The app runs on SQLite and PostgreSQL (the ``backend`` fixture) with a zero failed-login
delay so that penalties do not turn every later example into a 429.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.conftest import ADMIN, NOW_MS, SECRET, SECRET_SHA512, FrozenClock, sgv

from nightbridge.server.app import create_app
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.config import ServerConfig
from nightbridge.store import Store

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages", ".py\", line", "Exception:")


@dataclass
class Fuzzed:
    """A running app and the credentials the strategies may use."""

    client: httpx.AsyncClient
    paths: list[str]
    jwt: str
    access_token: str


async def _nothing(_seconds: float) -> None:
    return None


@pytest.fixture
async def fuzzed(store: Store, tmp_path: Path) -> AsyncIterator[Fuzzed]:
    clock = FrozenClock()
    config = ServerConfig.from_env({"API_SECRET": SECRET, "NIGHTBRIDGE_DATA_DIR": str(tmp_path)})
    delays = FailureDelays(0.0, clock=clock.seconds, sleep=_nothing)
    app: FastAPI = create_app(config, store=store, clock=clock, delays=delays)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, client=("10.0.0.9", 4444), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            await client.post("/api/v1/entries", json=[sgv(NOW_MS - i * 300_000) for i in range(3)],
                              headers=ADMIN)
            subject = await client.post(
                "/api/v2/authorization/subjects",
                json={"name": "fuzzer", "roles": ["admin"]},
                headers=ADMIN,
            )
            token = subject.json()["accessToken"]
            issued = await client.get(f"/api/v2/authorization/request/{token}")
            spec = (await client.get("/openapi.json")).json()
            yield Fuzzed(client, sorted(spec["paths"]), issued.json()["token"], token)


# --- strategies ---------------------------------------------------------------------------

HUGE = st.sampled_from(
    ["9" * 40, "-9" * 20, str(2**63), str(-(2**63) - 1), str(2**63 - 1), "1e20", "1e-400", str(2**64), "1e400", "-1e400", "NaN", "Infinity", "0x1F",
     "1.5", "-0", "١٢٣", "0" * 30 + "1"]
)
WEIRD_TEXT = st.sampled_from(
    ["", " ", "(", ")", "[", "*", "+", "?", "\\", "(?P<", "[z-a]", "a{2,1}", "/(/i", "/x/zz",
     "$where", "{}", "[]", "null", "undefined", "true", "'quoted'", "%", "%ZZ", "\x00", "é✓😀",
     "\u202e", "a|b|", "2024-13-45T99:99:99Z", "2024-06-01T12:00:00Z", "2024-06-01 12:00",
     "Sat, 01 Jun 2024 12:00:00 GMT", "-1", "0", "1717243200000", "sgv", "mbg", "Flat"]
)
SCALAR = st.one_of(HUGE, WEIRD_TEXT, st.text(max_size=12), st.integers().map(str))
FIELDS = st.sampled_from(
    ["date", "sgv", "dateString", "type", "created_at", "_id", "identifier", "eventType", "notes",
     "enteredBy", "insulin", "carbs", "srvModified", "srvCreated", "a.b", "", "$where", "0"]
)
OPS = st.sampled_from(
    ["$gte", "$gt", "$lte", "$lt", "$ne", "$in", "$nin", "$eq", "$regex", "$options", "$exists",
     "$where", "$foo", "", "0", "[x]", "$gte][$lt"]
)


@st.composite
def query_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Query parameters of v1 (find[...]) and v3 (field$op) and the reserved names."""
    pairs: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 5))
        field, op = draw(FIELDS), draw(OPS)
        if kind == 0:
            key = f"find[{field}][{op}]"
        elif kind == 1:
            depth = draw(st.integers(1, 8))
            key = "find" + "".join(f"[{draw(FIELDS)}]" for _ in range(depth))
        elif kind == 2:
            key = f"{field}${op.lstrip('$')}"
        elif kind == 3:
            key = draw(st.sampled_from(
                ["count", "limit", "skip", "sort", "sort$desc", "fields", "now", "permanent",
                 "find", "find[]", "find[[", "find]]", "[", "token", "secret", "units", "brief"]
            ))
        elif kind == 4:
            key = draw(st.text(max_size=10))
        else:
            key = f"find[{field}][]"
        pairs.append((key, draw(SCALAR)))
    return pairs


def encode_query(pairs: list[tuple[str, str]], raw_tail: str) -> str:
    encoded = "&".join(f"{quote(k, safe='[]$')}={quote(v, safe='')}" for k, v in pairs)
    return encoded + raw_tail


RAW_TAILS = st.sampled_from(["", "&", "&&==&", "&%", "&%ZZ=%G1", "&find[a]=%C3%28", "&=x", "&x"])
SEGMENT = st.one_of(
    st.sampled_from(
        ["entries", "treatments", "devicestatus", "profile", "food", "settings", "status",
         "current", "sgv", "mbg", "cal", "history", "lastModified", "version", "versions",
         "0123456789abcdef01234567", "ZZZZ456789abcdef01234567", "00000000-0000-0000-0000-000000000000",
         "*", "..", ".", "%2e%2e", "%00", "%ff", "entries.json", "entries.csv", "entries.xml",
         "sgv.txt", "x.json", "9" * 40, "-1", "authorization", "request", "subjects", "roles",
         "permissions", "debug", "check", "properties", "bgnow,delta", "verifyauth", "pebble"]
    ),
    st.text(min_size=1, max_size=12).map(lambda s: quote(s, safe="")),
)


@st.composite
def request_paths(draw: st.DrawFn, documented: list[str]) -> str:
    """A documented path with its parameters filled, or random segments under an API root."""
    if draw(st.booleans()):
        template = draw(st.sampled_from(documented))
        parts = []
        for part in template.split("/"):
            parts.append(draw(SEGMENT) if part.startswith("{") else part)
        path = "/".join(parts)
    else:
        root = draw(st.sampled_from(["/api/v1", "/api/v2", "/api/v3", "/api", ""]))
        path = root + "".join("/" + draw(SEGMENT) for _ in range(draw(st.integers(0, 4))))
    ext = draw(st.sampled_from(["", "", "", ".json", ".csv", ".tsv", ".txt", ".js", ".png", ".x"]))
    return (path or "/") + ext


JSON_KEYS = st.sampled_from(
    ["date", "sgv", "type", "dateString", "sysTime", "created_at", "eventType", "identifier",
     "utcOffset", "app", "device", "_id", "insulin", "carbs", "notes", "secret", "token",
     "srvModified", "srvCreated", "isValid", "isReadOnly", "store", "defaultProfile",
     "startDate", "mills", "name", "roles", "permissions", "mgdl", "direction", "$set", ""]
)
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


def _json_bytes(value: Any) -> bytes:
    # json (not orjson): NaN/Infinity and integers past 64 bits are written as-is, as a
    # careless client would.
    return json.dumps(value).encode()


PLAUSIBLE_DOC = st.fixed_dictionaries(
    {
        "date": st.one_of(st.just(NOW_MS), JSON_LEAF),
        "type": st.one_of(st.just("sgv"), JSON_LEAF),
        "sgv": st.one_of(st.just(120), JSON_LEAF),
        "created_at": st.one_of(st.just("2024-06-01T11:00:00Z"), JSON_LEAF),
        "eventType": st.one_of(st.just("Note"), JSON_LEAF),
        "app": st.one_of(st.just("fuzz"), JSON_LEAF),
        "identifier": st.one_of(st.just("00000000-0000-0000-0000-000000000001"), JSON_LEAF),
    },
    optional={"utcOffset": JSON_LEAF, "device": JSON_LEAF, "_id": JSON_LEAF, "store": JSON_VALUE},
)
BODIES = st.one_of(
    st.none(),
    JSON_VALUE.map(_json_bytes),
    PLAUSIBLE_DOC.map(_json_bytes),
    st.lists(PLAUSIBLE_DOC, min_size=1, max_size=3).map(_json_bytes),
    st.binary(max_size=64),
    st.sampled_from(
        [b"", b"   ", b"NaN", b"[1,2", b'{"a":', b"\xff\xfe\x00", b'{"date": 1e999}',
         b'{"sgv": "\xc3\x28"}', b"a=1&b=%ZZ&secret=x", b"\xef\xbb\xbf{}", b"[" * 2000 + b"]" * 2000,
         b'"' + b"x" * 5000 + b'"', b"<xml/>", b"--b\r\nContent-Disposition: form-data\r\n\r\n"]
    ),
)
CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/json; charset=latin-1", "text/plain", "text/csv",
     "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "application/xml",
     "json", ";;;", "application/vnd.api+json", "*/*", "application/octet-stream"]
)


def _jwt_none() -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(
        json.dumps({"accessToken": "x", "iat": 1, "exp": 9999999999}).encode()
    ).rstrip(b"=").decode()
    return f"{head}.{body}."


def _jwt_foreign(exp: int) -> str:
    return jwt.encode({"accessToken": "fuzzer-0123456789abcdef", "iat": 1, "exp": exp},
                      "not our key at all, 32 bytes long!", algorithm="HS256")


def auth_headers(f: Fuzzed) -> st.SearchStrategy[dict[str, str]]:
    """Credentials good and bad, in every place the server reads them."""
    now = int(time.time())
    bearer = st.sampled_from(
        [f.jwt, _jwt_none(), _jwt_foreign(now + 3600), _jwt_foreign(now - 10), "garbage",
         "ey.ey.ey", "eyJ" + "A" * 300 + ".e.e", "", f.access_token, f.jwt[:-3] + "AAA"]
    )
    return st.one_of(
        st.just({}),
        st.just(dict(ADMIN)),
        st.just({"api-secret": SECRET_SHA512.upper()}),
        st.builds(lambda s: {"api-secret": s}, SCALAR),
        st.builds(lambda t: {"authorization": f"Bearer {t}"}, bearer),
        st.builds(lambda t: {"authorization": t}, st.sampled_from(
            ["Bearer", "Basic Zm9vOmJhcg==", "bearer  ", "Token x", "Bearer a b c"])),
    )


OTHER_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "if-modified-since": st.one_of(WEIRD_TEXT, st.text(max_size=20)),
        "last-modified": st.one_of(WEIRD_TEXT, st.text(max_size=20)),
        "if-unmodified-since": st.one_of(WEIRD_TEXT, st.text(max_size=20)),
        "accept": st.sampled_from(["text/csv", "text/html", "*/*", "application/xml", "", "a/b;q=x"]),
        "if-none-match": st.sampled_from(['W/"x"', "*", "", '"' * 5]),
    },
)


def _header_safe(headers: dict[str, str]) -> dict[str, bytes]:
    """Header values as bytes a client can really send (UTF-8 bytes, no CR/LF/NUL)."""
    return {k: v.translate({10: 32, 13: 32, 0: 32}).encode() for k, v in headers.items()}


# --- the check ----------------------------------------------------------------------------


def assert_well_formed(res: httpx.Response, method: str, path: str) -> None:
    """The property: < 500; 4xx in the Nightscout error shape; no traceback text."""
    where = f"{method} {path} -> {res.status_code} {res.text[:300]!r}"
    assert res.status_code < 500, where
    text = res.content.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), where
    if res.status_code < 400 or method == "HEAD":
        return
    body = res.json()
    assert isinstance(body, dict), where
    assert body.get("status") == res.status_code, where
    status_only = path.startswith("/api/v3/") and res.status_code in (404, 410, 412)
    if not (status_only and "message" not in body):
        assert isinstance(body.get("message"), str) and body["message"], where


async def send(
    f: Fuzzed,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes | None,
) -> httpx.Response:
    url = path + ("?" + query if query else "")
    return await f.client.request(method, url, headers=_header_safe(headers), content=body)


# --- the properties -----------------------------------------------------------------------


@FUZZ
@given(data=st.data())
async def test_queries_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """GET/DELETE/HEAD of any path with hostile query strings, as admin or not."""
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "DELETE", "HEAD"]))
    path = data.draw(request_paths(fuzzed.paths))
    query = encode_query(data.draw(query_pairs()), data.draw(RAW_TAILS))
    headers = data.draw(st.sampled_from([dict(ADMIN), {}, {"authorization": f"Bearer {fuzzed.jwt}"}]))
    headers = {**headers, **data.draw(OTHER_HEADERS)}
    res = await send(fuzzed, method, path, query, headers, None)
    assert_well_formed(res, method, path)


@FUZZ
@given(data=st.data())
async def test_bodies_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """POST/PUT/PATCH of hostile bodies with any Content-Type to any path."""
    method = data.draw(st.sampled_from(["POST", "POST", "PUT", "PATCH"]))
    path = data.draw(request_paths(fuzzed.paths))
    headers = data.draw(st.sampled_from([dict(ADMIN), {"authorization": f"Bearer {fuzzed.jwt}"}, {}]))
    ctype = data.draw(CONTENT_TYPES)
    if ctype is not None:
        headers = {**headers, "content-type": ctype}
    body = data.draw(BODIES)
    res = await send(fuzzed, method, path, "", headers, body)
    assert_well_formed(res, method, path)


@FUZZ
@given(data=st.data())
async def test_credentials_and_headers_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """Any method and path with hostile credentials and conditional headers."""
    method = data.draw(st.sampled_from(METHODS))
    path = data.draw(request_paths(fuzzed.paths))
    query_pairs_ = data.draw(st.lists(
        st.tuples(st.sampled_from(["secret", "token"]), st.one_of(SCALAR, st.just(fuzzed.jwt))),
        max_size=2,
    ))
    headers = {**data.draw(auth_headers(fuzzed)), **data.draw(OTHER_HEADERS)}
    body = data.draw(st.one_of(st.none(), JSON_VALUE.map(_json_bytes))) if method in (
        "POST", "PUT", "PATCH") else None
    res = await send(fuzzed, method, path, encode_query(query_pairs_, ""), headers, body)
    assert_well_formed(res, method, path)


async def test_the_check_catches_a_500(fuzzed: Fuzzed, caplog: pytest.LogCaptureFixture) -> None:
    """The property can fail: a request that breaks is seen (status and no traceback text)."""
    res = httpx.Response(500, json={"status": 500, "message": "Internal Server Error"})
    with pytest.raises(AssertionError):
        assert_well_formed(res, "GET", "/api/v1/entries")
    leak = httpx.Response(400, text='Traceback (most recent call last):\n  File "x.py", line 1')
    with pytest.raises(AssertionError):
        assert_well_formed(leak, "GET", "/api/v1/entries")
    caplog.set_level(logging.ERROR)
