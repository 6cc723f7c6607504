"""``nightbridge forever`` under injected faults ends with every reading exactly once.

Vendor faults (session declared invalid mid-run, 429 with Retry-After, 5xx, an HTML outage page,
truncated JSON) are absorbed by the one retry layer and, when they outlast it (Dexcom: a failed
poll), by the scheduler's backoff; a Nightscout
that answers 500 for a while is absorbed by the write retries (Dexcom) or, when it stays down
longer, by the pending store that a restarted process delivers (LibreLinkUp). Each process is
stopped with SIGTERM once the faults cleared and must exit 0.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli_process import start_cli
from tests.e2e.conftest import Dexcom, Libre, Site, doubled, libre_vendor_view, wait_for
from tests.e2e.oldtools import post_v1, share_uploads
from tests.e2e.peers import DEXCOM_PASSWORD, librelink_up, share2nightscout

pytestmark = pytest.mark.e2e

HOUR_MS = 3_600_000
SYNCED = re.compile(r"sync account=\S+ source=\S+ fetched=(\d+) .*pending=(\d+) delivered=(\d+)")


def syncs(log: Path) -> list[tuple[int, int, int]]:
    """(fetched, pending, delivered) of every successful sync the process logged."""
    found = SYNCED.findall(log.read_text()) if log.exists() else []
    return [(int(a), int(b), int(c)) for a, b, c in found]


@contextmanager
def forever(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """A running ``nightbridge forever``; killed if the block fails before it stopped."""
    proc = start_cli(["forever"], env, log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stop(proc: subprocess.Popen[str], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]


def test_dexcom_switch_under_faults(
    site: Site, dexcom: Dexcom, base_env: dict[str, str], tmp_path: Path
) -> None:
    # share2nightscout-bridge uploaded everything until 3 h ago, then was stopped.
    old = share_uploads(dexcom, "share2", int(time.time() * 1000) - 3 * HOUR_MS)
    post_v1(site, old)
    for kind in ("session_not_valid", "html", "truncated", "500"):
        dexcom.fake.fail_next(kind, route="data")
    site.faults.remaining = 2  # Nightscout answers the first two uploads with 500
    log = tmp_path / "forever.log"
    expected = dexcom.reading_dates()

    with forever({**base_env, **share2nightscout(site, dexcom, DEXCOM_PASSWORD)}, log) as proc:
        wait_for(lambda: len(site.fake.entries) >= len(expected), 60, "all readings", log)
        wait_for(lambda: bool(syncs(log)), 10, "the sync is recorded", log)
        stop(proc, log)

    dates = site.entry_dates()
    assert doubled(dates) == []
    assert set(dates) == expected
    assert {e["device"] for e in site.fake.entries} == {"share2"}
    assert dexcom.fake.pending_faults == [] and site.faults.failed == 2
    # One session, one re-login when Share declared it invalid: login steps 2 + 1.
    assert (dexcom.fake.sessions_issued, dexcom.fake.login_attempts) == (2, 3)
    # The gap analysis found the old tool's uploads (same marker): no whole day re-read.
    assert max(int(q["minutes"]) for q in dexcom.fake.data_queries) <= 6 * 60
    assert "Traceback" not in log.read_text()


def test_libre_nightscout_down_then_restart(
    site: Site, libre: Libre, base_env: dict[str, str], tmp_path: Path
) -> None:
    # A 429 asking for 1 s, then truncated JSON: the third attempt of the first poll succeeds.
    libre.fake.inject("429", path="/llu/connections", retry_after=1)
    libre.fake.inject("truncated", path="/llu/connections")
    site.faults.down = True
    env = {**base_env, **librelink_up(site, libre, libre.password)}
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    with forever(env, first_log) as proc:
        wait_for(lambda: any(s[1] for s in syncs(first_log)), 60, "batches pending", first_log)
        stop(proc, first_log)
    assert libre.fake.faults == []
    assert site.fake.entries == [] and site.faults.failed > 0

    site.faults.down = False
    started_ms = int(time.time() * 1000)
    with forever(env, second_log) as proc:
        wait_for(lambda: bool(syncs(second_log)), 60, "a sync after the restart", second_log)
        stop(proc, second_log)
    ((_, pending, delivered), *_) = syncs(second_log)
    assert pending == 0 and delivered > 0

    dates = site.entry_dates()
    readings, alarms = libre_vendor_view(libre)
    assert doubled(dates) == []
    assert set(dates) <= readings
    assert {r for r in readings if r >= started_ms - 12 * HOUR_MS + 60_000} <= set(dates)
    notes = [t["date"] for t in site.fake.treatments if t["eventType"] == "Note"]
    assert doubled(notes) == [] and set(notes) <= alarms
    assert len(site.fake.devicestatus) == 1
