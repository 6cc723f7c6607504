"""The real ``nightbridge`` process against a fake Nightscout on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Site, nightscout_env, unused_url
from tests.cli_process import run_cli as run
from tests.cli_process import start_cli as start

pytestmark = pytest.mark.e2e

FIVE_MIN = 300_000


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_capture_prints_json_and_writes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    done = run(["capture", "--since", "2h"], env)
    assert done.returncode == 0, done.stderr
    (source,) = json.loads(done.stdout)["sources"]
    assert source["kind"] == "simulator"
    assert all(e["identifier"] for e in source["collections"]["entries"])
    assert not (tmp_path / "data").exists()


def test_sync_twice_then_nothing_new(env: dict[str, str], site: Site) -> None:
    first = run(["sync", "--since", "2h"], nightscout_env(env, site.url))
    assert first.returncode == 0, first.stderr
    assert "progress account=simulator pct=100" in first.stderr  # plain lines off a terminal
    stored = len(site.fake.entries)
    assert stored >= 23
    second = run(["sync", "--since", "2h"], nightscout_env(env, site.url))
    assert second.returncode == 0, second.stderr
    assert " created=0 " in second.stdout.strip().splitlines()[-1]
    assert len(site.fake.entries) == stored


@pytest.mark.parametrize(
    ("case", "code", "needle"),
    [
        ("wrong secret", 3, "rejected"),
        ("missing url", 2, "NIGHTBRIDGE_NIGHTSCOUT_URL"),
        ("unreachable", 4, "cannot connect"),
    ],
)
def test_failures_exit_codes(
    env: dict[str, str], site: Site, case: str, code: int, needle: str
) -> None:
    wrong = "not-the-secret-at-all"
    chosen = {
        "wrong secret": nightscout_env(env, site.url, wrong),
        "missing url": {**env, "NIGHTBRIDGE_OUTPUT": "nightscout"},
        "unreachable": nightscout_env(env, unused_url()),
    }[case]
    done = run(["sync", "--since", "1h"], chosen)
    assert done.returncode == code, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0]
    assert wrong not in done.stdout + done.stderr


def test_forever_stops_cleanly_on_sigterm(env: dict[str, str], site: Site, tmp_path: Path) -> None:
    proc = start(["forever"], nightscout_env(env, site.url), tmp_path / "forever.log")
    try:
        wait_for(lambda: len(site.fake.entries) > 0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "forever.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def simulated(first_ms: int, last_ms: int) -> tuple[set[int], set[int]]:
    """Dates of the treatments and devicestatus the simulator (default seed, as the CLI runs
    it) has in ``[first_ms, last_ms]``."""
    from nightbridge.sources.base import FetchWindow
    from nightbridge.sources.simulator import SimulatorSource

    class Frozen:
        def now_ms(self) -> int:
            return last_ms

    source = SimulatorSource(clock=Frozen())
    batch = asyncio.run(source.fetch(FetchWindow(first_ms, last_ms + 1)))
    return {t.date for t in batch.treatments}, {d.date for d in batch.devicestatus}


def synced_lines(log: Path) -> int:
    return log.read_text().count("nightbridge.engine.runs: sync account=")


def test_forever_killed_mid_sync_then_restarted_delivers_exactly_once(
    env: dict[str, str], site: Site, tmp_path: Path
) -> None:
    log = tmp_path / "forever.log"
    run_env = nightscout_env(env, site.url)
    site.fake.slow(0.4)
    first = start(["forever"], run_env, log)
    try:
        wait_for(lambda: len(site.fake.entries) > 0)  # the first batch is in: mid-sync
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert synced_lines(log) == 0, "the first run finished its sync before the kill"
    assert not site.fake.devicestatus, "the kill did not land between two collections"
    site.fake.slow(0)
    second = start(["forever"], run_env, log)
    try:
        wait_for(lambda: synced_lines(log) >= 1)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, log.read_text()
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    dates = sorted(e["date"] for e in site.fake.entries)
    assert len(dates) >= 280  # a day of 5-minute readings
    assert len(set(dates)) == len(dates), "an entry was delivered twice"
    steps = {b - a for a, b in itertools.pairwise(dates)}
    assert steps == {FIVE_MIN}, "a reading is missing"
    treatments = Counter(t["date"] for t in site.fake.treatments)
    statuses = Counter(d["date"] for d in site.fake.devicestatus)
    assert max(treatments.values()) == 1, "a treatment was delivered twice"
    assert max(statuses.values()) == 1, "a devicestatus was delivered twice"
    # The restart looks back from its own (slightly later) start: judge from the 2nd reading on.
    must_treat, must_status = simulated(dates[1], dates[-1])
    may_treat, may_status = simulated(dates[0] - FIVE_MIN, dates[-1])
    assert must_treat <= set(treatments) <= may_treat, "treatments lost"
    assert must_status <= set(statuses) <= may_status, "devicestatus lost"
    assert len(must_treat) >= 3 and len(must_status) >= 45  # a day of care events and status
