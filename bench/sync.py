"""Benchmarks of the sync path; run alone: ``.venv/bin/python bench/sync.py [--entries N]``.

Prints one table:

(a) the pipeline alone on simulator data, per stage and combined: transform (model build),
    identity (v3 identifier + in-batch de-dup) and the store write (``StoreOutput`` on a temporary
    SQLite file; ``Store.upsert`` directly while the store output does not exist yet);
(b) one poll cycle (``sync_once``: 24 h of simulator data = 288 readings, with its treatments
    and device status) uploaded to the fake Nightscout v1 over loopback, in CPU seconds of the
    polling process after its interpreter start-up and imports;
(c) the peak RSS of an idle ``nightbridge forever`` process for one simulator account (falls
    back to a script running ``engine.scheduler.run_forever`` when the CLI cannot start).

Targets (issue 3): pipeline >= 50,000 entries/s; poll cycle <= 0.05 CPU s; idle <= 60 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nightbridge.engine.clock import SystemClock  # noqa: E402
from nightbridge.engine.pipeline import sync_once  # noqa: E402
from nightbridge.identity import unique_by_identifier  # noqa: E402
from nightbridge.model import Collection, NSDocument  # noqa: E402
from nightbridge.sources.simulator import SimulatorSource, generator  # noqa: E402
from nightbridge.sources.simulator.transform import to_entry  # noqa: E402

DEVICE = "nightbridge-simulator"
NOW = 1_699_999_800_000
Row = tuple[str, str, str, str]


class _Fixed:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


class _UpsertOutput:
    """The store as an output, straight through ``Store.upsert`` (until outputs.store exists)."""

    kind = "store"
    label = "store"

    def __init__(self, store: Any) -> None:
        self.store = store

    async def open(self) -> None:
        pass

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        return None

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> Any:
        from nightbridge.outputs.base import WriteResult

        result = await self.store.upsert(collection.value, [d.to_nightscout() for d in docs])
        return WriteResult(result.created, result.updated + result.unchanged)

    async def aclose(self) -> None:
        pass


def store_output(store: Any) -> tuple[Any, str]:
    try:
        from nightbridge.outputs.store import StoreOutput  # type: ignore[import-not-found]
    except ImportError:
        return _UpsertOutput(store), "Store.upsert (outputs.store missing)"
    return StoreOutput(store), "StoreOutput"


async def pipeline(n: int, batch: int) -> tuple[list[Row], dict[str, float]]:
    from nightbridge.store import Store

    end = NOW
    start = end - n * generator.CADENCE_MS
    t0 = time.perf_counter()
    readings = list(generator.readings(1, start, end))
    t_gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    entries = [to_entry(r, DEVICE) for r in readings]
    t_transform = time.perf_counter() - t0

    t0 = time.perf_counter()
    unique = unique_by_identifier(entries)
    t_identity = time.perf_counter() - t0

    t0 = time.perf_counter()
    dumped = [d.to_nightscout() for d in unique]
    t_dump = time.perf_counter() - t0
    assert len(dumped) == n

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        try:
            out, how = store_output(store)
            await out.open()
            t0 = time.perf_counter()
            for i in range(0, len(unique), batch):
                await out.write(Collection.ENTRIES, unique[i : i + batch])
            t_write = time.perf_counter() - t0
            t0 = time.perf_counter()
            for i in range(0, len(unique), batch):
                await out.write(Collection.ENTRIES, unique[i : i + batch])
            t_rewrite = time.perf_counter() - t0
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        try:
            out, _ = store_output(store)
            t0 = time.perf_counter()
            for i in range(0, len(readings), batch):
                chunk = [to_entry(r, DEVICE) for r in readings[i : i + batch]]
                await out.write(Collection.ENTRIES, unique_by_identifier(chunk))
            t_all = time.perf_counter() - t0
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/bench.db")
        try:
            out, _ = store_output(store)
            source = SimulatorSource(clock=_Fixed(end), max_history=timedelta(days=400))
            t0 = time.perf_counter()
            report = await sync_once(source, [out], store, now_ms=end - 1, since_ms=start)
            t_sync = time.perf_counter() - t0
        finally:
            await store.close()
    docs = report.fetched

    def rate(seconds: float) -> str:
        return f"{n / seconds:,.0f} entries/s ({seconds * 1e6 / n:.1f} µs each)"

    rows: list[Row] = [
        ("a", "simulator generate (not in pipeline)", rate(t_gen), ""),
        ("a", "transform (Entry.build)", rate(t_transform), ""),
        ("a", "identity (identifier + de-dup)", rate(t_identity), ""),
        ("a", "  of which to_nightscout() dump", rate(t_dump), "inside the write"),
        ("a", f"store write ({how}, batches of {batch})", rate(t_write), ""),
        ("a", "store re-write of the same (0 created)", rate(t_rewrite), ""),
        ("a", "pipeline: transform + identity + write", rate(t_all), ">= 50,000/s"),
        (
            "a",
            f"sync_once simulator → store, 1-day chunks ({docs} docs)",
            f"{docs / t_sync:,.0f} docs/s (incl. generate, state)",
            "",
        ),
    ]
    return rows, {"pipeline": n / t_all}


POLL_SCRIPT = textwrap.dedent(
    """
    import asyncio, resource, sys, tempfile, time
    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    import httpx
    from pydantic import SecretStr
    from nightbridge.engine.pipeline import sync_once
    from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
    from nightbridge.sources.simulator import SimulatorSource
    from nightbridge.store import Store
    startup = cpu()

    class Clock:
        now = int(time.time() * 1000) // 300_000 * 300_000 - 3 * 86_400_000
        def now_ms(self):
            return self.now

    async def main(url, secret, tmp):
        clock = Clock()
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/state.db")
        source = SimulatorSource(clock=clock)
        async with httpx.AsyncClient() as client:
            out = NightscoutV1Output(url, api_secret=SecretStr(secret), client=client)
            await out.open()
            results = []
            for _ in range(3):
                before = cpu()
                report = await sync_once(
                    source, [out], store, now_ms=clock.now, lookback_ms=86_400_000 - 1
                )
                results.append((cpu() - before, report))
                clock.now += 86_400_000
        await store.close()
        print(f"startup {startup:.4f}")
        for spent, report in results:
            print(f"cycle {spent:.4f} {report.fetched} {report.created}")

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(sys.argv[1], sys.argv[2], tmp))
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("fake Nightscout exited at start-up")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("fake Nightscout did not start")


def poll_cycle() -> tuple[list[Row], dict[str, float]]:
    port, secret = free_port(), "bench-api-secret-0123"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fake = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.nightscout",
            "--port",
            str(port),
            "--api-secret",
            secret,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, fake)
        done = subprocess.run(
            [sys.executable, "-c", POLL_SCRIPT, f"http://127.0.0.1:{port}", secret],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    lines = done.stdout.split("\n")
    startup = float(lines[0].split()[1])
    cycles = [line.split() for line in lines[1:] if line.startswith("cycle")]
    rows: list[Row] = [("b", "poller start-up + imports (excluded)", f"{startup:.3f} CPU s", "")]
    for i, (_, spent, fetched, created) in enumerate(cycles):
        label = "first poll cycle (cold)" if i == 0 else f"poll cycle {i + 1} (warm)"
        rows.append(
            (
                "b",
                f"{label}: {fetched} docs, {created} created",
                f"{float(spent):.3f} CPU s",
                "<= 0.05 CPU s",
            )
        )
    return rows, {"poll_cold": float(cycles[0][1]), "poll_warm": float(cycles[-1][1])}


IDLE_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, tempfile
    from nightbridge.engine.clock import SystemClock
    from nightbridge.engine.scheduler import Job, run_forever
    from nightbridge.sources.simulator import SimulatorSource
    from nightbridge.store import Store
    sys.path.insert(0, sys.argv[1])
    from bench.sync import store_output

    async def main(tmp):
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/idle.db")
        out, _ = store_output(store)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(float(sys.argv[2]), stop.set)
        await run_forever([Job(SimulatorSource(), [out])], store, clock=SystemClock(), stop=stop)
        await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(tmp))
    """
)


def peak_rss_mb(argv: list[str], env: dict[str, str], settle: float) -> float | None:
    """Run ``argv`` for ``settle`` seconds and return its peak RSS (VmHWM) in MB."""
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = None
    try:
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline and proc.poll() is None:
            peak = _vm_hwm(proc.pid) or peak
            time.sleep(0.1)
        alive = proc.poll() is None
        peak = _vm_hwm(proc.pid) or peak
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=15)
    return peak if alive else None


def _vm_hwm(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def idle_rss() -> tuple[list[Row], dict[str, float]]:
    settle = 6.0
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NIGHTBRIDGE_SOURCES": "simulator",
            "NIGHTBRIDGE_DATA_DIR": tmp,
            "NIGHTBRIDGE_OUTPUT": "store",
        }
        cli = [str(Path(sys.executable).with_name("nightbridge")), "forever"]
        peak = peak_rss_mb(cli, env, settle)
        how = "nightbridge forever (CLI)"
        if peak is None:
            how = "run_forever script (CLI did not stay up)"
            peak = peak_rss_mb([sys.executable, "-c", IDLE_SCRIPT, str(ROOT), "30"], env, settle)
    if peak is None:
        return [("c", "idle forever, one simulator account", "failed to run", "<= 60 MB")], {}
    return [("c", f"idle peak RSS: {how}", f"{peak:.1f} MB", "<= 60 MB")], {"idle_mb": peak}


def print_table(rows: list[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("", "measure", "result", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--only", choices=["a", "b", "c"], default=None)
    args = parser.parse_args()
    rows: list[Row] = []
    if args.only in (None, "a"):
        rows += asyncio.run(pipeline(args.entries, args.batch))[0]
    if args.only in (None, "b"):
        rows += poll_cycle()[0]
    if args.only in (None, "c"):
        rows += idle_rss()[0]
    print_table(rows)
    _ = SystemClock  # the clock the real loop uses; imported so start-up cost is comparable


if __name__ == "__main__":
    main()
