"""Property-based fuzzing of the whole server in process: bad requests answer 4xx, never 500.

Issue 5 item 6: whatever a client sends — odd paths, ``find[...]`` with unknown operators or
nested brackets, invalid regular expressions, huge or non-numeric numbers, garbage
``If-Modified-Since``, api-secret or JWTs (forged, expired, ``alg: none``) — the server answers
below 500, every 4xx is JSON in Nightscout's error shape ``{status, message[, description]}``
(v3's status-only 404/410/412 excepted, as cgm-remote-monitor answers them), and no body
carries traceback text. Bodies are fuzzed in test_fuzz_bodies.py with the same harness.

Paths come from our own OpenAPI document (/openapi.json) with their parameters filled by
hypothesis, plus random paths under /api/v1, /api/v2 and /api/v3. Hypothesis runs
derandomized (a fixed seed per test), 200 examples per test (500 for the cheap query ones),
so CI is deterministic. The app
runs on SQLite and PostgreSQL (the ``backend`` fixture) with a zero failed-login delay so that
penalties do not turn every later example into a 429. Inputs that reach bugs still open
elsewhere are left out by the rules of test_fuzz_known_open.py.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.conftest import ADMIN, NOW_MS, SECRET, SECRET_SHA512, FrozenClock, sgv
from tests.server.test_fuzz_known_open import without_known_open

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
#: Query examples are cheap (~5 ms): more of them reach the rarer typed-field paths.
FUZZ_QUERIES = settings(FUZZ, max_examples=500)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
TRACEBACK_MARKERS = ("Traceback", 'File "', "site-packages", '.py", line', "Exception:")


@dataclass
class Fuzzed:
    """A running app and the credentials the strategies may use."""

    client: httpx.AsyncClient
    paths: list[str]
    jwt: str
    access_token: str


async def _no_wait(_seconds: float) -> None:
    return None


@pytest.fixture(name="fuzzed")
async def fuzzed_fixture(store: Store, tmp_path: Path) -> AsyncIterator[Fuzzed]:
    """The app with three readings, an admin subject, its JWT and the documented paths."""
    clock = FrozenClock()
    config = ServerConfig.from_env({"API_SECRET": SECRET, "NIGHTBRIDGE_DATA_DIR": str(tmp_path)})
    delays = FailureDelays(0.0, clock=clock.seconds, sleep=_no_wait)
    app = create_app(config, store=store, clock=clock, delays=delays)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, client=("10.0.0.9", 4444), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            readings = [sgv(NOW_MS - i * 300_000) for i in range(3)]
            assert (await client.post("/api/v1/entries", json=readings, headers=ADMIN)).is_success
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

# fmt: off
HUGE = st.sampled_from([
    "9" * 40, "-9" * 20, str(2**63), str(-(2**63) - 1), str(2**63 - 1), str(2**64), "1e20",
    "1e-400", "1e400", "-1e400", "NaN", "Infinity", "0x1F", "1.5", "-0", "١٢٣", "0" * 30 + "1",
])
WEIRD_TEXT = st.sampled_from([
    "", " ", "(", ")", "[", "*", "+", "?", "\\", "(?P<", "[z-a]", "a{2,1}", "/(/i", "/x/zz",
    "$where", "{}", "[]", "null", "undefined", "true", "'quoted'", "%", "%ZZ", "\x00", "é✓😀",
    "\u202e", "a|b|", "2024-13-45T99:99:99Z", "2024-06-01T12:00:00Z", "2024-06-01 12:00",
    "Sat, 01 Jun 2024 12:00:00 GMT", "-1", "0", "1717243200000", "sgv", "mbg", "Flat",
])
FIELDS = st.sampled_from([
    "date", "sgv", "created_at", "insulin", "date", "sgv", "created_at", "date",
    "date", "sgv", "dateString", "type", "created_at", "_id", "identifier", "eventType", "notes",
    "enteredBy", "insulin", "carbs", "srvModified", "srvCreated", "a.b", "", "$where", "0",
])
OPS = st.sampled_from([
    "$gte", "$gt", "$lte", "$lt", "$ne", "$in", "$nin", "$eq", "$regex", "$options", "$exists",
    "$where", "$foo", "", "0", "[x]", "$gte][$lt",
])
RESERVED = st.sampled_from([
    "count", "limit", "skip", "sort", "sort$desc", "fields", "now", "permanent", "find",
    "find[]", "find[[", "find]]", "[", "token", "secret", "units", "brief",
])
SEGMENT = st.one_of(st.sampled_from([
    "entries", "treatments", "devicestatus", "profile", "food", "settings", "status", "current",
    "sgv", "mbg", "cal", "history", "lastModified", "version", "versions",
    "0123456789abcdef01234567", "ZZZZ456789abcdef01234567",
    "00000000-0000-0000-0000-000000000000", "*", "..", ".", "%2e%2e", "%00", "%ff",
    "entries.json", "entries.csv", "entries.xml", "sgv.txt", "x.json", "9" * 40, "-1",
    "authorization", "request", "subjects", "roles", "permissions", "debug", "check",
    "properties", "bgnow,delta", "verifyauth", "pebble",
]), st.text(min_size=1, max_size=12).map(lambda s: quote(s, safe="")))
V1_QUERIED = st.sampled_from([
    *(f"/api/{v}/{c}" for v in ("v1", "v2") for c in ("entries", "treatments", "devicestatus",
      "profile", "food", "entries/sgv", "entries/current", "entries/*")),
    "/api/v2/properties", "/pebble", "/api/v1/status",
])
V3_QUERIED = st.sampled_from([
    f"/api/v3/{c}{h}" for h in ("", "/history", "/history/0")
    for c in ("entries", "treatments", "devicestatus", "profile", "food", "settings")
])
EXTENSIONS = st.sampled_from(["", "", "", ".json", ".csv", ".tsv", ".txt", ".js", ".png", ".x"])
RAW_TAILS = st.sampled_from(["", "&", "&&==&", "&%", "&%ZZ=%G1", "&find[a]=%C3%28", "&=x", "&x"])
ANY_TEXT = st.one_of(WEIRD_TEXT, st.text(max_size=20))
OTHER_HEADERS = st.fixed_dictionaries({}, optional={
    "if-modified-since": ANY_TEXT, "last-modified": ANY_TEXT, "if-unmodified-since": ANY_TEXT,
    "accept": st.sampled_from(["text/csv", "text/html", "*/*", "application/xml", "", "a/b;q=x"]),
    "if-none-match": st.sampled_from(['W/"x"', "*", "", '"' * 5]),
})
# fmt: on
SCALAR = st.one_of(HUGE, WEIRD_TEXT, HUGE, st.text(max_size=12), st.integers().map(str))


@st.composite
def query_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Query parameters of v1 (``find[...]``), v3 (``field$op``) and the reserved names."""
    pairs: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from((0, 0, 0, 1, 2, 2, 3, 4, 5)))  # mostly find[f][op]
        field, op = draw(FIELDS), draw(OPS)
        if kind == 0:
            key = f"find[{field}][{op}]"
        elif kind == 1:
            key = "find" + "".join(f"[{draw(FIELDS)}]" for _ in range(draw(st.integers(1, 8))))
        elif kind == 2:
            key = f"{field}${op.lstrip('$')}" if op else field
        elif kind == 3:
            key = draw(RESERVED)
        elif kind == 4:
            key = draw(st.text(max_size=10))
        else:
            key = f"find[{field}][]"
        pairs.append((key, draw(st.one_of(HUGE, SCALAR))))
    return pairs


def encode_query(pairs: list[tuple[str, str]], raw_tail: str = "") -> str:
    encoded = "&".join(f"{quote(k, safe='[]$')}={quote(v, safe='')}" for k, v in pairs)
    return encoded + raw_tail


@st.composite
def request_paths(draw: st.DrawFn, documented: list[str]) -> str:
    """A documented path with its parameters filled, or random segments under an API root."""
    if draw(st.booleans()):
        template = draw(st.sampled_from(documented))
        path = "/".join(draw(SEGMENT) if p.startswith("{") else p for p in template.split("/"))
    else:
        root = draw(st.sampled_from(["/api/v1", "/api/v2", "/api/v3", "/api", ""]))
        path = root + "".join("/" + draw(SEGMENT) for _ in range(draw(st.integers(0, 4))))
    return (path or "/") + draw(EXTENSIONS)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _jwt_none() -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'accessToken': 'x', 'exp': 2**40})}."


def _jwt_foreign(exp: int) -> str:
    claims = {"accessToken": "fuzzer-0123456789abcdef", "iat": 1, "exp": exp}
    return jwt.encode(claims, "not our key at all, 32 bytes long!", algorithm="HS256")


def auth_headers(f: Fuzzed) -> st.SearchStrategy[dict[str, str]]:
    """Credentials good and bad, in every header the server reads them from."""
    now = int(time.time())
    bearer = st.sampled_from(
        [f.jwt, _jwt_none(), _jwt_foreign(now + 3600), _jwt_foreign(now - 10), "garbage",
         "ey.ey.ey", "eyJ" + "A" * 300 + ".e.e", "", f.access_token, f.jwt[:-3] + "AAA"]
    )  # fmt: skip
    odd = st.sampled_from(["Bearer", "Basic Zm9vOmJhcg==", "bearer  ", "Token x", "Bearer a b"])
    return st.one_of(
        st.just({}),
        st.just(dict(ADMIN)),
        st.just({"api-secret": SECRET_SHA512.upper()}),
        st.builds(lambda s: {"api-secret": s}, SCALAR),
        st.builds(lambda t: {"authorization": f"Bearer {t}"}, bearer),
        st.builds(lambda t: {"authorization": t}, odd),
    )


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
    f: Fuzzed, method: str, path: str, query: str, headers: dict[str, str], body: bytes | None
) -> httpx.Response:
    """One request; header values go as UTF-8 bytes with CR, LF and NUL made spaces."""
    raw = {k.encode(): v.translate({10: 32, 13: 32, 0: 32}).encode() for k, v in headers.items()}
    url = path + ("?" + query if query else "")
    return await f.client.request(method, url, headers=raw, content=body)


# --- the properties -----------------------------------------------------------------------


async def _query_example(
    fuzzed: Fuzzed, data: st.DataObject, paths: st.SearchStrategy[str]
) -> None:
    method = data.draw(st.sampled_from(["GET", "GET", "GET", "DELETE", "HEAD"]))
    if data.draw(st.integers(0, 3)):
        path = data.draw(paths) + data.draw(EXTENSIONS)
    else:
        path = data.draw(request_paths(fuzzed.paths))
    query = encode_query(without_known_open(path, data.draw(query_pairs())), data.draw(RAW_TAILS))
    bearer = {"authorization": f"Bearer {fuzzed.jwt}"}
    credentials = [dict(ADMIN), {}, bearer, bearer if path.startswith("/api/v3") else {}]
    headers = {**data.draw(st.sampled_from(credentials)), **data.draw(OTHER_HEADERS)}
    res = await send(fuzzed, method, path, query, headers, None)
    assert_well_formed(res, method, path)


@FUZZ_QUERIES
@given(data=st.data())
async def test_v1_queries_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """GET/DELETE/HEAD with hostile ``find[...]``/``count`` on the v1 routes (and any path), as
    admin, JWT holder or nobody."""
    await _query_example(fuzzed, data, V1_QUERIED)


@FUZZ_QUERIES
@given(data=st.data())
async def test_v3_queries_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """The same against v3 SEARCH/HISTORY filters (``field$op``, limit, skip, sort, fields)."""
    await _query_example(fuzzed, data, V3_QUERIED)


@FUZZ
@given(data=st.data())
async def test_credentials_and_headers_never_500(fuzzed: Fuzzed, data: st.DataObject) -> None:
    """Any method and path with hostile credentials (query and headers) and conditional headers."""
    method = data.draw(st.sampled_from(METHODS))
    path = data.draw(request_paths(fuzzed.paths))
    values = st.one_of(SCALAR, st.sampled_from([fuzzed.jwt, fuzzed.access_token, SECRET]))
    pairs = st.lists(st.tuples(st.sampled_from(["secret", "token"]), values), max_size=2)
    query = encode_query(data.draw(pairs))
    headers = {**data.draw(auth_headers(fuzzed)), **data.draw(OTHER_HEADERS)}
    res = await send(fuzzed, method, path, query, headers, b"{}" if method == "POST" else None)
    assert_well_formed(res, method, path)


async def test_forged_and_expired_jwts_are_refused(fuzzed: Fuzzed) -> None:
    """The credentials the strategies use do what they claim: only our live JWT is accepted."""
    now = int(time.time())
    for bad in (_jwt_none(), _jwt_foreign(now + 3600), _jwt_foreign(now - 10), fuzzed.jwt + "x"):
        res = await fuzzed.client.get("/api/v3/entries", headers={"authorization": f"Bearer {bad}"})
        assert res.status_code == 401 and res.json()["message"], bad
    good = await fuzzed.client.get(
        "/api/v3/entries", headers={"authorization": f"Bearer {fuzzed.jwt}"}
    )
    assert good.status_code == 200 and len(good.json()["result"]) == 3


def test_the_check_fails_on_500_tracebacks_and_shapeless_errors() -> None:
    ok_v3 = httpx.Response(404, json={"status": 404})
    assert_well_formed(ok_v3, "GET", "/api/v3/entries/x")
    bad = [
        httpx.Response(500, json={"status": 500, "message": "Internal Server Error"}),
        httpx.Response(400, text='Traceback (most recent call last):\n  File "x.py", line 1'),
        httpx.Response(404, json={"detail": "Not Found"}),
        httpx.Response(400, json={"status": 422, "message": "x"}),
    ]
    for res in bad:
        with pytest.raises(AssertionError):
            assert_well_formed(res, "GET", "/api/v1/entries")
