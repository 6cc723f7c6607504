"""Switching from a peer tool: same environment, ``nightbridge sync``, same readings, no doubles.

For every peer family (peers.py) the CLI runs with only that peer's variables (plus the stand-ins
peers.py names) and must upload every reading of the vendor fake exactly once, with the peer's
``device`` marker, through the peer's Nightscout API; a second run adds nothing.
"""

from __future__ import annotations

import time

import pytest

from tests.cli_process import run_cli
from tests.e2e.conftest import (
    API_SECRET,
    Dexcom,
    Libre,
    Site,
    doubled,
    libre_vendor_view,
    summary,
)
from tests.e2e.peers import DEXCOM_PASSWORD, PEERS, Peer

pytestmark = pytest.mark.e2e

TWELVE_HOURS_MS = 12 * 3_600_000


def stored(site: Site) -> dict[str, int]:
    return {name: len(site.fake.docs(name)) for name in ("entries", "treatments", "devicestatus")}


def api_of(site: Site) -> set[str]:
    """Which Nightscout APIs the uploads went through (``v1``/``v3``)."""
    return {r.path.split("/")[2] for r in site.fake.requests if r.method == "POST"}


@pytest.mark.parametrize("peer", PEERS, ids=[p.name for p in PEERS])
def test_sync_with_only_the_peers_variables(
    peer: Peer, site: Site, base_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    vendor: Dexcom | Libre = request.getfixturevalue(peer.vendor)
    password = DEXCOM_PASSWORD if isinstance(vendor, Dexcom) else vendor.password
    env = {**base_env, **peer.env(site, vendor, password)}
    assert not {k for k in env if k.startswith("NIGHTBRIDGE_")} - {
        "NIGHTBRIDGE_DATA_DIR",
        *peer.stand_in,
    }

    before_ms = int(time.time() * 1000)
    first = run_cli(["sync", "--since", "24h"], env)
    after_ms = int(time.time() * 1000)
    assert first.returncode == 0, first.stderr
    assert password not in first.stdout + first.stderr
    assert API_SECRET not in first.stdout + first.stderr

    dates = site.entry_dates()
    assert doubled(dates) == [], "a reading was uploaded twice"
    assert {e.get("device") for e in site.fake.entries} == {peer.device}
    assert api_of(site) == {peer.api}
    if isinstance(vendor, Dexcom):
        assert set(dates) == vendor.reading_dates()
        assert vendor.fake.sessions_issued == 1, "one session for the whole run"
    else:
        readings, alarms = libre_vendor_view(vendor)
        # The source keeps 12 h (sources/librelinkup/source.py): what lies older than 12 h
        # before the run may be left out, everything younger must be there.
        assert set(dates) <= readings
        assert {r for r in readings if r >= after_ms - TWELVE_HOURS_MS} <= set(dates)
        assert not {d for d in dates if d < before_ms - TWELVE_HOURS_MS}
        notes = [t["date"] for t in site.fake.treatments if t["eventType"] == "Note"]
        assert set(notes) <= alarms and not doubled(notes)
        assert {a for a in alarms if a >= after_ms - TWELVE_HOURS_MS} <= set(notes)
        # The fake's sensor started two days ago: its Sensor Start lies outside the 12 h.
        assert {t["eventType"] for t in site.fake.treatments} == {"Note"}
        (status,) = site.fake.devicestatus  # the sensor, at the current reading
        assert status["device"] == peer.device
    counts = stored(site)
    assert summary(first)["created"] == sum(counts.values())

    second = run_cli(["sync", "--since", "24h"], env)
    assert second.returncode == 0, second.stderr
    assert summary(second)["created"] == 0
    assert stored(site) == counts, "the second run added documents"
