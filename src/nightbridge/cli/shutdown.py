"""Clean shutdown: SIGINT and SIGTERM set a stop event instead of killing the process.

The engine checks the event between chunks and polls, so a fetched batch is always acknowledged
or stored pending before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("nightbridge.cli")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[asyncio.Event]:
    """While active, SIGINT/SIGTERM set ``stop`` (call inside the running event loop)."""
    loop = asyncio.get_running_loop()

    def _stop(sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info("stopping signal=%s (finishing the write in flight)", sig.name)
        stop.set()

    installed = []
    for sig in SIGNALS:
        try:
            loop.add_signal_handler(sig, _stop, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / not supported
            continue
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
