"""Benchmark of the Nightscout-compatible server. Runnable alone: ``python bench/server.py``.

One run prints one table. For SQLite, and PostgreSQL when 127.0.0.1:5432 answers, with a real
``nightbridge serve`` subprocess (uvicorn) over loopback and 1 and 16 keep-alive clients:

- ``GET /api/v1/entries.json?count=288`` with the v1 response cache off (every request queries
  the database and serialises) and on (1 s);
- ``GET /api/v3/entries?limit=288`` with a Bearer JWT (never cached);
- ``POST /api/v1/entries`` of 288 entries (re-posted: the upsert path);

each beside its in-process bound (the same app called directly as an ASGI callable: same
routing, auth, query and serialisation; no sockets, no HTTP parsing) and the ratio of their
costs (in-process req/s ÷ HTTP req/s). Last, the idle RSS of ``nightbridge serve --demo``.

Targets (issue 5): GET v1 ≥ 1,000 req/s with 16 clients on SQLite, p99 ≤ 50 ms; HTTP ≤ 2 times
the in-process cost; idle demo ≤ 120 MB. Every request loop is bounded by ``BENCH_SECONDS``
(default 3) and ``BENCH_MAX_REQUESTS`` (default 20000); everything stays on 127.0.0.1. The
load generator is a minimal HTTP/1.1 client on raw asyncio streams so that it costs little
CPU next to the server (both share this machine's cores: read the figures with that in mind).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

SECRET = "benchmark-secret-0123"
SECRET_SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
DURATION_S = float(os.environ.get("BENCH_SECONDS", "3"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "20000"))
GET_PATH = "/api/v1/entries.json?count=288"
V3_PATH = "/api/v3/entries?limit=288"
POST_PATH = "/api/v1/entries"


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    clients: int
    rps: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def entries(now_ms: int, count: int = 288) -> list[dict[str, object]]:
    return [
        {
            "type": "sgv",
            "sgv": 100 + (i % 80),
            "date": now_ms - i * 300_000,
            "direction": "Flat",
            "device": "bench",
        }
        for i in range(count)
    ]


# --- load generation -----------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _run_clients(
    call: Callable[[], Awaitable[int]], clients: int, duration: float
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < stop_at and len(latencies) < MAX_REQUESTS:
            t0 = time.perf_counter()
            status = await call()
            if status >= 400:
                raise RuntimeError(f"HTTP {status}")
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - t0, latencies


def _summarise(name: str, clients: int, elapsed: float, lat: list[float]) -> Result:
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return Result(name, clients, len(lat) / elapsed, statistics.median(lat) * 1000, p99 * 1000)


def _headers(auth: dict[str, str], body: bytes) -> list[tuple[str, str]]:
    return [
        ("Host", "127.0.0.1"),
        *auth.items(),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
    ]


async def http_bench(
    port: int, method: str, path: str, body: bytes, clients: int, auth: dict[str, str]
) -> Result:
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    free = list(conns)
    lines = "".join(f"{k}: {v}\r\n" for k, v in _headers(auth, body))
    request = f"{method} {path} HTTP/1.1\r\n{lines}\r\n".encode() + body

    async def call() -> int:
        reader, writer = free.pop()
        try:
            writer.write(request)
            return await _read_response(reader)
        finally:
            free.append((reader, writer))

    elapsed, lat = await _run_clients(call, clients, DURATION_S)
    for _, writer in conns:
        writer.close()
    return _summarise("HTTP", clients, elapsed, lat)


async def inprocess_bench(
    app: object, method: str, path: str, body: bytes, clients: int, auth: dict[str, str]
) -> Result:
    raw_path, _, query = path.partition("?")
    headers = [(k.lower().encode(), v.encode()) for k, v in _headers(auth, body)]

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "root_path": "",
        }
        sent = False
        status = 0

        async def receive() -> dict[str, object]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])  # type: ignore[call-overload]

        await app(scope, receive, send)  # type: ignore[operator]
        await asyncio.sleep(0)  # a real client yields between requests, as a socket read does
        return status

    elapsed, lat = await _run_clients(call, clients, DURATION_S)
    return _summarise("in-process", clients, elapsed, lat)


# --- server processes ----------------------------------------------------------------------


def _env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME")}
    env.update(NIGHTBRIDGE_DATA_DIR=str(data_dir), NIGHTBRIDGE_DATABASE_URL=database_url, **extra)
    return env


def start_server(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "nightbridge.cli.main", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def seed(database_url: str, now_ms: int) -> dict[str, str]:
    """Three days of entries and a reader subject; the v3 ``Authorization`` header."""
    from nightbridge.server.auth import AuthService
    from nightbridge.server.auth.roles import Subject
    from nightbridge.store import Store

    store = await Store.open(database_url)
    try:
        await store.upsert_natural("entries", entries(now_ms, 288 * 3))
        await store.create_role("bench-reader", ("api:entries:read",))
        subject = Subject(str(uuid.uuid4()), "bench", ("bench-reader",))
        auth = AuthService(SECRET, ("readable",), None)
        token = auth.token_of(subject)
        assert token is not None
        await store.create_subject("bench", ("bench-reader",), token, subject_id=subject.id)
    finally:
        await store.close()
    return {"Authorization": f"Bearer {auth.jwt.issue(token).token}"}


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes
    auth: dict[str, str]
    cache_s: str


def cases(now_ms: int, bearer: dict[str, str]) -> list[Case]:
    secret = {"api-secret": SECRET_SHA1}
    post = orjson.dumps(entries(now_ms))
    return [
        Case("GET v1 entries.json?count=288, cache off", "GET", GET_PATH, b"", secret, "0"),
        Case("GET v1 entries.json?count=288, cache 1 s", "GET", GET_PATH, b"", secret, "1"),
        Case("GET v3 entries?limit=288 (JWT)", "GET", V3_PATH, b"", bearer, "0"),
        Case("POST v1 entries (288)", "POST", POST_PATH, post, secret, "0"),
    ]


@dataclass(frozen=True, slots=True)
class Row:
    database: str
    case: str
    clients: int
    http: Result
    inprocess: Result


async def bench_database(label: str, database_url: str, data_dir: Path) -> list[Row]:
    from pydantic import SecretStr

    from nightbridge.server.app import create_app
    from nightbridge.server.config import ServerConfig

    now_ms = int(time.time() * 1000)
    bearer = await seed(database_url, now_ms)
    todo = cases(now_ms, bearer)
    http: dict[tuple[str, int], Result] = {}
    for ttl in ("0", "1"):
        port = free_port()
        env = _env(data_dir, database_url, API_SECRET=SECRET)
        env["NIGHTBRIDGE_RESPONSE_CACHE_TTL"] = ttl
        proc = start_server([], env, port)
        try:
            for case in (c for c in todo if c.cache_s == ttl):
                for clients in (1, 16):
                    http[case.name, clients] = await http_bench(
                        port, case.method, case.path, case.body, clients, case.auth
                    )
        finally:
            stop_server(proc)
    rows: list[Row] = []
    for ttl in ("0", "1"):
        config = ServerConfig(
            api_secret=SecretStr(SECRET),
            database_url=database_url,
            response_cache_ttl_s=float(ttl),
        )
        app = create_app(config)
        async with app.router.lifespan_context(app):
            for case in (c for c in todo if c.cache_s == ttl):
                for clients in (1, 16):
                    bound = await inprocess_bench(
                        app, case.method, case.path, case.body, clients, case.auth
                    )
                    rows.append(Row(label, case.name, clients, http[case.name, clients], bound))
    order = {c.name: i for i, c in enumerate(todo)}
    return sorted(rows, key=lambda r: (order[r.case], r.clients))


def idle_rss_mb(data_dir: Path) -> float:
    import psutil  # type: ignore[import-untyped]

    port = free_port()
    db = f"sqlite:///{data_dir / 'demo.db'}"
    proc = start_server(["--demo"], _env(data_dir, db), port)
    try:
        time.sleep(8)
        return float(psutil.Process(proc.pid).memory_info().rss) / 1e6
    finally:
        stop_server(proc)


def postgres_url() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
    except OSError:
        return None
    return PG_BASE


async def _pg_schema(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(PG_BASE)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def print_table(rows: list[Row], rss_mb: float) -> None:
    head = (
        f"{'db':10} {'case':42} {'cl':>3} | {'HTTP req/s':>10} {'p50 ms':>7} {'p99 ms':>7} | "
        f"{'in-proc req/s':>13} {'p50 ms':>7} {'p99 ms':>7} | {'HTTP/in-proc cost':>17}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        h, b = r.http, r.inprocess
        print(
            f"{r.database:10} {r.case:42} {r.clients:>3} | {h.rps:>10.0f} {h.p50_ms:>7.2f} "
            f"{h.p99_ms:>7.2f} | {b.rps:>13.0f} {b.p50_ms:>7.2f} {b.p99_ms:>7.2f} | "
            f"{b.rps / h.rps:>16.2f}x"
        )
    print("-" * len(head))
    print(f"idle RSS of `nightbridge serve --demo`: {rss_mb:.0f} MB (target <= 120 MB)")


async def main() -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        rows += await bench_database("sqlite", f"sqlite:///{data / 'bench.db'}", data)
        pg = postgres_url()
        if pg:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            await _pg_schema(f'CREATE SCHEMA "{schema}"')
            try:
                url = f"{pg}?options=-csearch_path%3D{schema}"
                rows += await bench_database("postgresql", url, data)
            finally:
                await _pg_schema(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            print("PostgreSQL not reachable on 127.0.0.1:5432: SQLite only")
        rss = idle_rss_mb(data)
    print_table(rows, rss)


if __name__ == "__main__":
    asyncio.run(main())
