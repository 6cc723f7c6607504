"""Store upsert throughput: rows per second for create, update and re-run, on each database.

Run: ``python bench/store.py [ROWS] [--postgres URL]`` (PostgreSQL defaults to the local test
server; it is skipped when unreachable). Documents are simulator-shaped sgv entries with UUID v5
identifiers, written in one ``Store.upsert`` call (one transaction) per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from nightbridge.errors import RetriableError
from nightbridge.identity import calculate_identifier
from nightbridge.model.time import iso_utc
from nightbridge.store import Store

T0 = 1_700_000_000_000


def make_docs(rows: int, bump: int = 0) -> list[dict[str, Any]]:
    docs = []
    for i in range(rows):
        date = T0 + i * 300_000
        iso = iso_utc(date)
        docs.append(
            {
                "identifier": calculate_identifier("nightbridge-simulator", date),
                "type": "sgv",
                "date": date,
                "dateString": iso,
                "sysTime": iso,
                "sgv": 100 + (i + bump) % 150,
                "direction": "Flat",
                "noise": 1,
                "device": "nightbridge-simulator",
                "utcOffset": 0,
            }
        )
    return docs


async def measure(url: str, rows: int) -> list[tuple[str, float]]:
    store = await Store.open(url)
    try:
        out = []
        for phase, docs in (
            ("create", make_docs(rows)),
            ("update", make_docs(rows, bump=1)),
            ("re-run", make_docs(rows, bump=1)),
        ):
            start = time.perf_counter()
            await store.upsert("entries", docs)
            out.append((phase, rows / (time.perf_counter() - start)))
        return out
    finally:
        await store.close()


async def measure_pg(url: str, schema: str, rows: int) -> list[tuple[str, float]]:
    """``measure`` in a scratch schema of ``url``, dropped afterwards."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        sep = "&" if "?" in url else "?"
        return await measure(f"{url}{sep}options=-csearch_path%3D{schema}", rows)
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-schema", default="nb_bench_store", help="created and dropped")
    args = parser.parse_args()
    results: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = await measure(str(Path(tmp) / "bench.db"), args.rows)
    try:
        results["postgresql"] = await measure_pg(args.postgres, args.pg_schema, args.rows)
    except (RetriableError, OSError) as exc:
        print(f"postgresql skipped: {exc}")
    print(f"{'database':<12}{'phase':<8}{'rows/s':>12}   ({args.rows} rows, one transaction)")
    for name, phases in results.items():
        for phase, rate in phases:
            print(f"{name:<12}{phase:<8}{rate:>12,.0f}")


if __name__ == "__main__":
    asyncio.run(main())
