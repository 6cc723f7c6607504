"""Browser fixtures: Debian's Chromium driven by Playwright, servers on loopback.

- ``browser``: one headless Chromium per module (``/usr/bin/chromium``; the tests skip with one
  line when it is absent; never ``playwright install``).
- ``filled_db(end_ms, hours)``: a SQLite file holding ``hours`` of simulator data up to
  ``end_ms`` (written through the real engine and store output, with the connector's run
  recorded), for servers whose data must be exactly known.
- ``read_store(url, fn)``: run ``await fn(store)`` on the file (in a helper thread: the
  sync Playwright API keeps an event loop running in the test's thread).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from nightbridge.engine.pipeline import sync_once
from nightbridge.engine.runs import record_success
from nightbridge.outputs.store import StoreOutput
from nightbridge.sources.simulator import SimulatorSource
from nightbridge.store import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HOUR_MS = 3_600_000
T = TypeVar("T")


class FixedClock:
    """A wall clock standing still at ``ms``."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def read_store(url: str, fn: Callable[[Store], Awaitable[T]]) -> T:
    """``await fn(store)`` on a store opened (and closed) just for this call."""

    async def run() -> T:
        store = await Store.open(url)
        try:
            return await fn(store)
        finally:
            await store.close()

    # Playwright's sync API keeps an event loop running in this thread: use another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def fill(url: str, *, end_ms: int, hours: int = 24) -> None:
    """``hours`` of simulator data up to ``end_ms`` in the store at ``url``, via the engine."""

    async def run(store: Store) -> None:
        source = SimulatorSource(clock=FixedClock(end_ms))
        report = await sync_once(
            source, [StoreOutput(store)], store, now_ms=end_ms, since_ms=end_ms - hours * HOUR_MS
        )
        await record_success(
            store, source.account, source.kind, report, at_ms=end_ms, next_poll_ms=end_ms + 300_000
        )

    read_store(url, run)


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dashboard.db'}"
