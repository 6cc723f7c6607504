"""Benchmark of the Nightscout-compatible server. Runnable alone: ``python bench/server.py``.

Measures, on SQLite (and PostgreSQL when 127.0.0.1:5432 answers):

- ``GET /api/v1/entries.json?count=288`` and ``POST /api/v1/entries`` (288 entries, re-posted:
  the upsert path) with 1 and 16 concurrent keep-alive clients over loopback against a real
  ``nightbridge serve`` subprocess (uvicorn): requests/s, p50 and p99 latency;
- each with the v1 response cache on (1 s, the default) and off (every request queries the
  database and serialises);
- the in-process bound: the same app called directly as an ASGI callable (same routing, query,
  serialisation; no sockets, no HTTP parsing), same concurrency, and the ratio HTTP/in-process;
- the idle RSS of ``nightbridge serve --demo`` after start-up and backfill.

Targets (issue 5): GET ≥ 1,000 req/s with 16 clients on SQLite, p99 ≤ 50 ms; HTTP ≤ 2 times the
in-process cost; idle demo ≤ 120 MB. The load generator is a minimal HTTP/1.1 client on raw
asyncio streams so that it costs little CPU next to the server.
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
DURATION_S = float(os.environ.get("BENCH_SECONDS", "4"))
GET_PATH = "/api/v1/entries.json?count=288"


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
        while time.perf_counter() < stop_at:
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


async def http_bench(port: int, method: str, path: str, body: bytes, clients: int) -> Result:
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    free = list(conns)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\napi-secret: {SECRET_SHA1}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body

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
    return _summarise(f"HTTP {method} {path.split('?')[0]}", clients, elapsed, lat)


async def inprocess_bench(app: object, method: str, path: str, body: bytes, clients: int) -> Result:
    raw_path, _, query = path.partition("?")
    headers = [
        (b"host", b"127.0.0.1"),
        (b"api-secret", SECRET_SHA1.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

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
        return status

    elapsed, lat = await _run_clients(call, clients, DURATION_S)
    return _summarise(f"in-process {method} {raw_path}", clients, elapsed, lat)


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


async def seed(database_url: str, now_ms: int) -> None:
    from nightbridge.store import Store

    store = await Store.open(database_url)
    try:
        await store.upsert_natural("entries", entries(now_ms, 288 * 3))
    finally:
        await store.close()


async def bench_database(
    label: str, database_url: str, data_dir: Path, cache_ttl: str
) -> list[Result]:
    from nightbridge.server.app import create_app
    from nightbridge.server.config import ServerConfig

    now_ms = int(time.time() * 1000)
    await seed(database_url, now_ms)
    post_body = orjson.dumps(entries(now_ms))
    results: list[Result] = []
    port = free_port()
    env = _env(data_dir, database_url, API_SECRET=SECRET, NIGHTBRIDGE_RESPONSE_CACHE_TTL=cache_ttl)
    proc = start_server([], env, port)
    try:
        for clients in (1, 16):
            results.append(await http_bench(port, "GET", GET_PATH, b"", clients))
        for clients in (1, 16):
            results.append(await http_bench(port, "POST", "/api/v1/entries", post_body, clients))
    finally:
        stop_server(proc)
    from pydantic import SecretStr

    config = ServerConfig(
        api_secret=SecretStr(SECRET),
        database_url=database_url,
        response_cache_ttl_s=float(cache_ttl),
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        for clients in (1, 16):
            results.append(await inprocess_bench(app, "GET", GET_PATH, b"", clients))
        for clients in (1, 16):
            results.append(
                await inprocess_bench(app, "POST", "/api/v1/entries", post_body, clients)
            )
    tag = f"{label} cache={cache_ttl}s"
    return [Result(f"{tag} {r.name}", r.clients, r.rps, r.p50_ms, r.p99_ms) for r in results]


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


def print_table(results: list[Result]) -> None:
    print(f"{'case':68} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results:
        print(f"{r.name:68} {r.clients:>7} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}")
    print()
    by = {(r.name, r.clients): r for r in results}
    for r in results:
        if " HTTP " not in r.name:
            continue
        twin = by.get((r.name.replace("HTTP", "in-process"), r.clients))
        if twin:
            ratio = twin.rps / r.rps
            print(f"ratio HTTP/in-process cost  {r.name:58} x{r.clients:<3} {ratio:5.2f}")


async def main() -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        for ttl in ("1", "0"):
            db = f"sqlite:///{data / f'bench{ttl}.db'}"
            results += await bench_database("sqlite", db, data, ttl)
        pg = postgres_url()
        if pg:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            await _pg_schema(f'CREATE SCHEMA "{schema}"')
            try:
                url = f"{pg}?options=-csearch_path%3D{schema}"
                for ttl in ("1", "0"):
                    results += await bench_database("postgresql", url, data, ttl)
            finally:
                await _pg_schema(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            print("PostgreSQL not reachable on 127.0.0.1:5432: SQLite only")
        rss = idle_rss_mb(data)
    print_table(results)
    print(f"idle RSS of `nightbridge serve --demo`: {rss:.0f} MB (target <= 120 MB)")


if __name__ == "__main__":
    asyncio.run(main())
