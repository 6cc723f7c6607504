"""After the switch: what the old tool already uploaded is not uploaded again.

The fake Nightscout first receives, through its HTTP API, the older readings as the old tool
uploaded them (its shape, its ``device`` marker). ``nightbridge sync --since 24h`` (which re-reads
the whole day, so nothing but the server's de-duplication and the shared marker keeps it from
doubling) must then add exactly the missing readings. Through API v3 this only holds because
nightbridge uses the old tool's marker: the server's identifier is made from device and date.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cli_process import run_cli
from tests.e2e.conftest import Dexcom, Libre, Site, doubled, libre_vendor_view, summary
from tests.e2e.oldtools import librelink_up_uploads, post_v1, post_v3, share_uploads
from tests.e2e.peers import BY_NAME, DEXCOM_PASSWORD

pytestmark = pytest.mark.e2e

HOUR_MS = 3_600_000
CASES = [
    "share2nightscout-bridge",
    "nightscout-connect dexcomshare",
    "nightscout-librelink-up",
    "nightscout-librelink-up api v3",
]


def old_uploads(vendor: Dexcom | Libre, device: str, v3: bool) -> list[dict[str, Any]]:
    """The old tool's entries for the readings older than 3 h."""
    before = int(time.time() * 1000) - 3 * HOUR_MS
    if isinstance(vendor, Dexcom):
        return share_uploads(vendor, device, before)
    return librelink_up_uploads(vendor, device, before, v3=v3)


@pytest.mark.parametrize("name", CASES)
def test_only_the_missing_readings_are_added(
    name: str, site: Site, base_env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    peer = BY_NAME[name]
    vendor: Dexcom | Libre = request.getfixturevalue(peer.vendor)
    old = old_uploads(vendor, peer.device, v3=peer.api == "v3")
    assert len(old) > 50
    (post_v3 if peer.api == "v3" else post_v1)(site, old)
    old_ids = {e["_id"] for e in site.fake.entries}
    assert len(old_ids) == len(old)

    password = DEXCOM_PASSWORD if isinstance(vendor, Dexcom) else vendor.password
    done = run_cli(["sync", "--since", "24h"], {**base_env, **peer.env(site, vendor, password)})
    assert done.returncode == 0, done.stderr

    dates = site.entry_dates()
    assert doubled(dates) == [], "a reading the old tool uploaded was uploaded again"
    assert {e.get("device") for e in site.fake.entries} == {peer.device}
    assert old_ids <= {e["_id"] for e in site.fake.entries}, "an old upload was replaced"
    if isinstance(vendor, Dexcom):
        assert set(dates) == vendor.reading_dates()
    else:
        readings, _ = libre_vendor_view(vendor)
        assert {d for d in dates if d not in {o["date"] for o in old}} <= readings
        assert max(readings) in dates
    assert summary(done)["created"] == len(site.fake.entries) - len(old) + len(
        site.fake.treatments
    ) + len(site.fake.devicestatus)
