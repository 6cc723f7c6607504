"""Gap analysis: where each output's next window starts, and how a window is cut into chunks.

A cursor is the epoch ms of the newest document an output acknowledged for an account. The next
fetch for that output starts just after it. Without a cursor the output is asked what it already
holds (``Output.newest``); without that, the engine looks back a default span. A source is never
asked for more than it keeps (``max_history``), and a backfill ``since`` overrides the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from nightbridge.sources.base import FetchWindow

#: How far back a first sync looks when neither cursor nor output know anything.
DEFAULT_LOOKBACK = timedelta(hours=24)
#: The longest window asked of a source in one fetch, unless it states its own ``max_window``.
DEFAULT_CHUNK = timedelta(days=1)


def ms(span: timedelta) -> int:
    """Milliseconds in ``span``."""
    return int(span.total_seconds() * 1000)


def output_start(
    *,
    now_ms: int,
    max_history: timedelta,
    cursor_ms: int | None,
    newest_ms: int | None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    since_ms: int | None = None,
) -> int:
    """First epoch ms (inclusive) an output still needs.

    Precedence: ``since_ms`` (backfill), then the cursor, then what the output holds newest,
    then ``now - lookback``; never earlier than ``now - max_history``.
    """
    if since_ms is not None:
        start = since_ms
    elif cursor_ms is not None:
        start = cursor_ms + 1
    elif newest_ms is not None:
        start = newest_ms + 1
    else:
        start = now_ms - ms(lookback)
    return max(start, now_ms - ms(max_history))


def chunks(window: FetchWindow, step: timedelta) -> Iterator[FetchWindow]:
    """Consecutive windows of at most ``step`` covering ``window`` (oldest first)."""
    size = max(1, ms(step))
    start = window.start_ms
    while start < window.end_ms:
        end = min(start + size, window.end_ms)
        yield FetchWindow(start, end)
        start = end
