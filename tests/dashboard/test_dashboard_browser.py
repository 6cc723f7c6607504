"""The dashboard in a real headless Chromium against a real server on loopback.

Each test starts ``create_app`` on a SQLite file (the demo simulator running as the server's
connector, or a store filled beforehand with known simulator data), loads ``/`` and compares
what the page shows with what the store holds.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import pytest

from nightbridge.cli.serve import DEMO_BACKFILL, source_connector
from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig
from nightbridge.sources.simulator import SimulatorSource
from nightbridge.store import DocQuery, Filter, Store
from tests.dashboard.conftest import ARTIFACTS, HOUR_MS, fill, read_store
from tests.fakes.loopback import serve

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SECRET = "dashboard-secret-16+"
ARROWS = {
    "Flat": "→",
    "FortyFiveUp": "↗",
    "FortyFiveDown": "↘",
    "SingleUp": "↑",
    "SingleDown": "↓",
    "DoubleUp": "⇈",
    "DoubleDown": "⇊",
}
MGDL_PER_MMOL = 18.01559


def newest_sgv(url: str) -> dict[str, Any]:
    async def run(store: Store) -> dict[str, Any]:
        query = DocQuery(filters=(Filter("type", "eq", "sgv"),), sort=(("date", True),), limit=1)
        (doc,) = await store.find("entries", query)
        return doc

    return read_store(url, run)


def sgv_count_since(url: str, start_ms: int) -> int:
    async def run(store: Store) -> int:
        query = DocQuery(filters=(Filter("type", "eq", "sgv"), Filter("date", "gte", start_ms)))
        return await store.count("entries", query)

    return read_store(url, run)


def wait_for_entries(base: str, at_least: int, timeout_s: float = 20) -> None:
    """Until the server's connector has stored ``at_least`` sgv entries (demo backfill)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = httpx.get(f"{base}/api/v1/entries/sgv.json", params={"count": str(at_least)}).json()
        if len(got) >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"the demo connector stored fewer than {at_least} entries")


def open_page(browser: Any, base: str, **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    page.goto(f"{base}/")
    page.wait_for_selector("#now[data-state=reading]", timeout=10_000)
    return page


def chart_points_match_store(page: Any, url: str, hours: int) -> int:
    page.click(f".periods button[data-hours='{hours}']")
    page.wait_for_selector(f".periods button[data-hours='{hours}'][aria-pressed=true]")
    page.wait_for_function(
        f"document.getElementById('chart-title').textContent.includes('{hours}')"
    )
    start = int(page.get_attribute("#chart", "data-start"))
    points: int = page.locator("#chart circle.pt").count()
    assert points == sgv_count_since(url, start)
    tir = sum(int(page.get_attribute(f"#tir-{k}", "data-count")) for k in ("below", "in", "above"))
    assert tir == points
    return points


def test_demo_server_shows_the_newest_reading_chart_and_connector(
    browser: Any, db_file: str
) -> None:
    config = ServerConfig(database_url=db_file, demo=True, auth_fail_delay_ms=0)
    connector = source_connector(SimulatorSource(), DEMO_BACKFILL)
    app = create_app(config, connectors=[connector])
    with serve(app) as base:
        wait_for_entries(base, 280)
        requested: list[str] = []
        context = browser.new_context(viewport={"width": 1200, "height": 640})
        page = context.new_page()
        page.on("request", lambda r: requested.append(r.url))
        before = newest_sgv(db_file)
        page.goto(f"{base}/")
        page.wait_for_selector("#now[data-state=reading]", timeout=10_000)
        page.wait_for_selector("#connectors tr[data-source=simulator]")
        after = newest_sgv(db_file)

        shown = page.text_content("#bg-value")
        newest = after if shown == str(after["sgv"]) else before
        assert shown == str(newest["sgv"])
        arrow = page.locator("#bg-arrow")
        assert arrow.get_attribute("data-direction") == newest["direction"]
        assert arrow.text_content() == ARROWS[newest["direction"]]
        assert page.text_content("#bg-units") == "mg/dL"
        assert page.is_hidden("#stale")

        row = page.locator("#connectors tr[data-source=simulator]")
        assert row.get_attribute("data-state") == "ok"
        cells = row.locator("td").all_text_contents()
        assert cells[0].strip() == "simulator" and cells[1] == "demo"
        assert cells[3] == "—" and cells[4].startswith(("in ", "due"))

        counts = {h: chart_points_match_store(page, db_file, h) for h in (6, 24, 3, 12)}
        assert counts[3] < counts[6] < counts[12] < counts[24]
        assert 280 <= counts[24] <= 289
        assert page.locator("#chart path.bolus").count() > 0 or counts[3] < 36

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
        assert all(u.startswith(base) for u in requested), "the page must not leave the server"
        context.close()


def test_old_data_is_stale_then_updates_without_reload_and_survives_offline(
    browser: Any, db_file: str
) -> None:
    now = int(time.time() * 1000)
    fill(db_file, end_ms=now - 2 * HOUR_MS, hours=6)
    config = ServerConfig(api_secret=SECRET, database_url=db_file, auth_fail_delay_ms=0)
    with serve(create_app(config)) as base:
        context = browser.new_context(viewport={"width": 900, "height": 800})
        page = context.new_page()
        page.clock.install()
        page.goto(f"{base}/")
        page.wait_for_selector("#now[data-state=reading]", timeout=10_000)
        assert page.is_visible("#stale")
        assert "stale" in (page.get_attribute("#now", "class") or "")
        assert page.text_content("#bg-ago") == "2 h ago"
        chart_points_match_store(page, db_file, 3)

        fresh = {"type": "sgv", "sgv": 64, "date": now, "direction": "SingleDown", "device": "t"}
        headers = {"api-secret": hashlib.sha1(SECRET.encode()).hexdigest()}
        httpx.post(f"{base}/api/v1/entries", json=[fresh], headers=headers).raise_for_status()
        page.clock.fast_forward(61_000)
        page.wait_for_function("document.getElementById('bg-value').textContent === '64'")
        assert page.is_hidden("#stale")
        assert page.get_attribute("#now", "data-range") == "low"
        assert page.text_content("#bg-arrow") == "↓"

        page.route("**/api/**", lambda route: route.abort())  # the server is gone
        page.clock.fast_forward(61_000)
        page.wait_for_selector("#banner:not([hidden])")
        assert page.text_content("#banner").startswith("Cannot reach the server")
        assert page.text_content("#bg-value") == "64", "the last data stays on screen"
        context.close()


def test_units_errors_and_phone_layout(browser: Any, db_file: str) -> None:
    now = int(time.time() * 1000)
    fill(db_file, end_ms=now, hours=3)

    async def fail(store: Store) -> None:
        await store.record_run(
            "mum@example.org",
            "dexcom_share",
            ok=False,
            at_ms=now,
            error_family="auth",
            error_message="Dexcom Share rejected the user name or password",
        )

    read_store(db_file, fail)
    config = ServerConfig(database_url=db_file, display_units="mmol", auth_fail_delay_ms=0)
    with serve(create_app(config)) as base:
        page = open_page(browser, base, viewport={"width": 390, "height": 844})
        newest = newest_sgv(db_file)
        assert page.text_content("#bg-value") == f"{newest['sgv'] / MGDL_PER_MMOL:.1f}"
        assert page.text_content("#bg-units") == "mmol/L"
        assert "4.4\u201310.0 mmol/L" in page.text_content("#tir-range")
        page.wait_for_selector("#connectors tr[data-source=dexcom_share]")
        row = page.locator("#connectors tr[data-source=dexcom_share]")
        assert row.get_attribute("data-state") == "stopped"
        assert row.locator("td").nth(3).text_content().startswith("wrong password")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390, "the page must fit a phone screen"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
        page.context.close()


def test_a_server_that_denies_anonymous_asks_for_the_secret(browser: Any, db_file: str) -> None:
    fill(db_file, end_ms=int(time.time() * 1000), hours=1)
    config = ServerConfig(
        api_secret=SECRET,
        auth_default_roles=("denied",),
        database_url=db_file,
        auth_fail_delay_ms=0,
    )
    with serve(create_app(config)) as base:
        context = browser.new_context()
        page = context.new_page()
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.goto(f"{base}/")
        page.wait_for_selector("#auth:not([hidden])")
        assert page.text_content("#bg-value") == "---"
        page.fill("#auth-secret", SECRET)
        page.click("#auth-form button[type=submit]")
        page.wait_for_selector("#now[data-state=reading]", timeout=10_000)
        assert page.is_hidden("#auth")
        assert page.text_content("#bg-value") == str(newest_sgv(db_file)["sgv"])
        stored = page.evaluate("localStorage.getItem('nightbridge.credential')")
        digest = hashlib.sha1(SECRET.encode()).hexdigest()
        assert stored == digest
        assert not any(SECRET in u or digest in u for u in urls), "no credential in a URL"
        context.close()
