"""Benchmarks of the sync path; run alone: ``.venv/bin/python bench/sync.py [--entries N]``.

Prints one table:

(a) the pipeline on simulator data, ``--entries`` (50,000) readings in batches of ``--batch``
    (5,000), best of ``--rounds`` (3): each stage alone — transform (the simulator's
    ``to_entry`` = ``Entry.build``), identity (``unique_by_identifier``), the store write
    (``StoreOutput.write`` into a temporary SQLite file) and a re-write of the same (0 created)
    — then the three interleaved per batch on a fresh file, as a source feeds an output, and the
    ratio of that combined time to the sum of the stages. Rates are given per CPU second of
    this process (all threads: aiosqlite's included), i.e. on one core, and per wall second
    (the same on an idle machine, larger under load from other processes);
(b) one poll cycle uploaded to the fake Nightscout v1 over loopback, in CPU seconds of the
    polling process after its interpreter start-up and imports: the simulator (24 h = 288
    readings with treatments and device status, ``sync_once``), and Dexcom Share (the fake
    Share server's 288 readings; the settings, sources and outputs the CLI builds, then
    ``sync_once`` as ``nightbridge sync --since 24h`` runs it: cycle 1 logs in and creates 288,
    cycles 2-3 fetch the same 288 again and create none). For reference also the whole
    ``nightbridge sync --since 24h`` process, start-up and imports included;
(c) the peak RSS (VmHWM) of an idle ``nightbridge forever`` process for one simulator account
    into the store.

Targets (issue 3): pipeline >= 50,000 entries/s; poll cycle <= 0.05 CPU s; idle <= 60 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nightbridge.engine.pipeline import sync_once  # noqa: E402
from nightbridge.identity import unique_by_identifier  # noqa: E402
from nightbridge.model import Collection, Entry  # noqa: E402
from nightbridge.outputs.store import StoreOutput  # noqa: E402
from nightbridge.sources.simulator import SimulatorSource, generator  # noqa: E402
from nightbridge.sources.simulator.generator import Reading  # noqa: E402
from nightbridge.sources.simulator.transform import to_entry  # noqa: E402
from nightbridge.store import Store  # noqa: E402

DEVICE = "nightbridge-simulator"
NOW = 1_699_999_800_000
#: (section, measure, per CPU second, per wall second, target)
Row = tuple[str, str, str, str, str]
NIGHTBRIDGE = str(Path(sys.executable).with_name("nightbridge"))


@dataclass(slots=True)
class Cost:
    """Seconds spent: wall clock and CPU of this process (every thread)."""

    wall: float = 0.0
    cpu: float = 0.0

    def best(self, other: Cost) -> Cost:
        return Cost(min(self.wall, other.wall), min(self.cpu, other.cpu))


@contextmanager
def timed(into: Cost) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into.wall += time.perf_counter() - wall
    into.cpu += time.process_time() - cpu


class _Fixed:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


STAGES = ("transform", "identity", "write", "rewrite", "combined")


async def one_round(readings: list[Reading], batch: int, tmp: str) -> dict[str, Cost]:
    """Every stage once over ``readings``; the store files live in ``tmp``."""
    cost = {name: Cost() for name in STAGES}
    chunks = [readings[i : i + batch] for i in range(0, len(readings), batch)]
    built: list[list[Entry]] = []
    with timed(cost["transform"]):
        for chunk in chunks:
            built.append([to_entry(r, DEVICE) for r in chunk])
    with timed(cost["identity"]):
        unique = [unique_by_identifier(entries) for entries in built]
    store = await Store.open(f"sqlite+aiosqlite:///{tmp}/stages.db")
    try:
        out = StoreOutput(store)
        for name, expected in (("write", len(readings)), ("rewrite", 0)):
            created = 0
            with timed(cost[name]):
                for docs in unique:
                    created += (await out.write(Collection.ENTRIES, docs)).created
            assert created == expected, (name, created, expected)
    finally:
        await store.close()
    del built, unique
    gc.collect()
    store = await Store.open(f"sqlite+aiosqlite:///{tmp}/combined.db")
    try:
        out = StoreOutput(store)
        created = 0
        with timed(cost["combined"]):
            for chunk in chunks:
                docs = unique_by_identifier([to_entry(r, DEVICE) for r in chunk])
                created += (await out.write(Collection.ENTRIES, docs)).created
        assert created == len(readings)
    finally:
        await store.close()
    gc.collect()
    return cost


async def pipeline(n: int, batch: int, rounds: int) -> tuple[list[Row], dict[str, float]]:
    end = NOW
    start = end - n * generator.CADENCE_MS
    generate = Cost()
    with timed(generate):
        readings = list(generator.readings(1, start, end))
    assert len(readings) == n
    best: dict[str, Cost] | None = None
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            got = await one_round(readings, batch, tmp)
        best = got if best is None else {k: best[k].best(got[k]) for k in STAGES}
    assert best is not None

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/sync.db")
        try:
            source = SimulatorSource(clock=_Fixed(end), max_history=timedelta(days=400))
            sync = Cost()
            with timed(sync):
                report = await sync_once(
                    source, [StoreOutput(store)], store, now_ms=end - 1, since_ms=start
                )
        finally:
            await store.close()

    def rate(seconds: float, count: int = n, unit: str = "entries") -> str:
        return f"{count / seconds:,.0f} {unit}/s ({seconds * 1e6 / count:.1f} µs)"

    def row(label: str, c: Cost, target: str = "") -> Row:
        return ("a", label, rate(c.cpu), rate(c.wall), target)

    stages = Cost(
        sum(best[k].wall for k in ("transform", "identity", "write")),
        sum(best[k].cpu for k in ("transform", "identity", "write")),
    )
    combined = best["combined"]
    docs = report.fetched
    rows: list[Row] = [
        row("simulator generate (not in the pipeline)", generate),
        row("transform: to_entry = Entry.build", best["transform"]),
        row("identity: identifier + in-batch de-dup", best["identity"]),
        row(f"store write: StoreOutput, SQLite file, batches of {batch}", best["write"]),
        row("store re-write of the same (0 created)", best["rewrite"]),
        row("sum of the three stages", stages),
        row("pipeline combined: transform + identity + write", combined, ">= 50,000/s"),
        (
            "a",
            "combined / sum of stages",
            f"{combined.cpu / stages.cpu:.2f}",
            f"{combined.wall / stages.wall:.2f}",
            "",
        ),
        (
            "a",
            f"sync_once simulator → store, 1-day chunks ({docs} docs)",
            rate(sync.cpu, docs, "docs"),
            rate(sync.wall, docs, "docs"),
            "",
        ),
    ]
    return rows, {"pipeline_cpu": n / combined.cpu, "pipeline_wall": n / combined.wall}


_CPU = """
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
"""

SIMULATOR_POLL = _CPU + textwrap.dedent(
    """
    import asyncio, sys, tempfile, time
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

DEXCOM_POLL = _CPU + textwrap.dedent(
    """
    import asyncio, time
    from nightbridge.cli.runtime import runtime
    from nightbridge.engine.pipeline import sync_once
    from nightbridge.settings import load_settings
    startup = cpu()

    async def main():
        settings = load_settings()
        async with runtime(settings) as rt:
            for output in rt.outputs:
                await output.open()
            results = []
            for _ in range(3):
                before = cpu()
                now = int(time.time() * 1000)
                report = await sync_once(
                    rt.sources[0], rt.outputs, rt.state, now_ms=now, since_ms=now - 86_400_000
                )
                results.append((cpu() - before, report))
        print(f"startup {startup:.4f}")
        for spent, report in results:
            print(f"cycle {spent:.4f} {report.fetched} {report.created}")

    asyncio.run(main())
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(module: str, *args: str) -> Iterator[str]:
    """Run ``python -m module --port N *args`` until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not start")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run ``argv`` to completion; its stdout and CPU seconds."""
    before = children_cpu()
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout, children_cpu() - before


def cycle_rows(label: str, stdout: str) -> tuple[list[Row], list[float]]:
    lines = stdout.splitlines()
    startup = float(lines[0].split()[1])
    rows: list[Row] = [
        ("b", f"{label}: poller start-up + imports (excluded)", f"{startup:.3f} CPU s", "", "")
    ]
    spent_all = []
    for i, (_, spent, fetched, created) in enumerate(
        line.split() for line in lines[1:] if line.startswith("cycle")
    ):
        kind = "cold" if i == 0 else "warm"
        text = f"{label}: poll cycle {i + 1} ({kind}): {fetched} docs, {created} created"
        rows.append(("b", text, f"{float(spent):.3f} CPU s", "", "<= 0.05 CPU s"))
        spent_all.append(float(spent))
    return rows, spent_all


def poll_cycles() -> tuple[list[Row], dict[str, float]]:
    from tests.fakes.dexcom_share import PASSWORD, USERNAME

    secret = "bench-api-secret-0123"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows: list[Row] = []
    with serving("tests.fakes.nightscout", "--api-secret", secret) as ns_url:
        out, _ = run_measured([sys.executable, "-c", SIMULATOR_POLL, ns_url, secret], env)
        sim_rows, sim = cycle_rows("simulator → Nightscout v1", out)
        rows += sim_rows
    with (
        serving("tests.fakes.nightscout", "--api-secret", secret) as ns_url,
        serving("tests.fakes.dexcom_share") as share_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        dexcom_env = {
            **env,
            "NIGHTBRIDGE_DATA_DIR": tmp,
            "NIGHTBRIDGE_DEXCOM_USERNAME": USERNAME,
            "NIGHTBRIDGE_DEXCOM_PASSWORD": PASSWORD,
            "NIGHTBRIDGE_DEXCOM_SERVER": share_url,
            "NIGHTBRIDGE_NIGHTSCOUT_URL": ns_url,
            "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET": secret,
        }
        out, _ = run_measured([sys.executable, "-c", DEXCOM_POLL], dexcom_env)
        dex_rows, dex = cycle_rows("Dexcom Share → Nightscout v1", out)
        rows += dex_rows
        _, version_cpu = run_measured([NIGHTBRIDGE, "--version"], dexcom_env)
        with tempfile.TemporaryDirectory() as fresh:
            cli_env = {**dexcom_env, "NIGHTBRIDGE_DATA_DIR": fresh}
            _, cli_cpu = run_measured([NIGHTBRIDGE, "sync", "--since", "24h"], cli_env)
        rows.append(
            (
                "b",
                "whole `nightbridge sync --since 24h` (Dexcom, incl. start-up)",
                f"{cli_cpu:.3f} CPU s",
                f"--version alone: {version_cpu:.3f}",
                "",
            )
        )
    return rows, {
        "poll_simulator_cold": sim[0],
        "poll_simulator_warm": sim[-1],
        "poll_dexcom_cold": dex[0],
        "poll_dexcom_warm": dex[-1],
    }


def peak_rss_mb(argv: list[str], env: dict[str, str], settle: float) -> float | None:
    """Run ``argv`` for ``settle`` seconds and return its peak RSS (VmHWM) in MB."""
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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


def idle_rss(settle: float) -> tuple[list[Row], dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NIGHTBRIDGE_SOURCES": "simulator",
            "NIGHTBRIDGE_DATA_DIR": tmp,
            "NIGHTBRIDGE_OUTPUT": "store",
        }
        peak = peak_rss_mb([NIGHTBRIDGE, "forever"], env, settle)
    label = f"idle `nightbridge forever`, simulator → store, peak RSS after {settle:.0f} s"
    if peak is None:
        return [("c", label, "did not stay up", "", "<= 60 MB")], {}
    return [("c", label, f"{peak:.1f} MB", "", "<= 60 MB")], {"idle_mb": peak}


def print_table(rows: list[Row]) -> None:
    head = ("", "measure", "result: CPU (one core)", "result: wall clock", "target")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--only", choices=["a", "b", "c"], default=None)
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="skip gc.freeze() after the imports (the CLI freezes them at start-up)",
    )
    args = parser.parse_args()
    if not args.no_gc_freeze:
        # The ~135k objects of the imports leave the collector's view: its full collections,
        # triggered while 50k documents are alive, no longer walk them.
        gc.freeze()
    sections: dict[str, Callable[[], tuple[list[Row], dict[str, float]]]] = {
        "a": lambda: asyncio.run(pipeline(args.entries, args.batch, args.rounds)),
        "b": poll_cycles,
        "c": lambda: idle_rss(args.idle_seconds),
    }
    rows: list[Row] = []
    for name, section in sections.items():
        if args.only in (None, name):
            rows += section()[0]
    print_table(rows)


if __name__ == "__main__":
    main()
