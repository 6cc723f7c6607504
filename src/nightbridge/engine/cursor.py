"""Gap analysis: where each output's next window starts, and how a window is cut into chunks.

A cursor is the epoch ms of the newest document an output acknowledged for an account, and it
only moves once *every* collection of a fetched chunk was acknowledged. The next fetch for that
output starts just after it, minus the source's ``overlap``: vendors add records late with older
timestamps (a bolus entered after the fact, graph points backfilled), and every write is
idempotent, so re-reading a short span costs duplicates, never doubles.

Without a cursor the output is asked what it already holds, once per collection the source
produces (``Output.newest``): the need starts at the oldest of those, and a collection the output
holds nothing of gives no information, so it counts as ``now - lookback``. Without any of that,
the engine looks back ``lookback``. A source is never asked for more than it keeps
(``max_history``), and a backfill ``since`` overrides the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

from nightbridge.model import Collection
from nightbridge.sources.base import FetchWindow, Source

#: How far back a first sync looks when neither cursor nor output know anything.
DEFAULT_LOOKBACK = timedelta(hours=24)
#: The longest window asked of a source in one fetch, unless it states its own ``max_window``.
DEFAULT_CHUNK = timedelta(days=1)
#: How far before the cursor each poll re-reads, unless the source states its own ``overlap``.
DEFAULT_OVERLAP = timedelta(hours=1)
#: What a ``Batch`` can hold: the collections assumed for a source that declares none.
BATCH_COLLECTIONS: tuple[Collection, ...] = (
    Collection.ENTRIES,
    Collection.TREATMENTS,
    Collection.DEVICESTATUS,
    Collection.PROFILE,
    Collection.FOOD,
)


def ms(span: timedelta) -> int:
    """Milliseconds in ``span``."""
    return int(span.total_seconds() * 1000)


def collections_of(source: Source) -> tuple[Collection, ...]:
    """The collections ``source`` produces: its ``collections`` attribute, else all of a Batch."""
    declared: Sequence[Collection] | None = getattr(source, "collections", None)
    return tuple(declared) if declared else BATCH_COLLECTIONS


def overlap_of(source: Source) -> timedelta:
    """How far before the cursor ``source`` is re-read: its ``overlap``, else the default;
    never negative and never more than the source keeps."""
    overlap: timedelta = getattr(source, "overlap", DEFAULT_OVERLAP)
    return max(timedelta(0), min(overlap, source.max_history))


def output_start(
    *,
    now_ms: int,
    max_history: timedelta,
    cursor_ms: int | None,
    held_ms: Sequence[int | None] = (),
    lookback: timedelta = DEFAULT_LOOKBACK,
    overlap: timedelta = timedelta(0),
    since_ms: int | None = None,
) -> int:
    """First epoch ms (inclusive) an output still needs.

    ``held_ms``: per collection the source produces, the newest date the output holds (None:
    nothing). Precedence: ``since_ms`` (backfill), then ``cursor_ms + 1 - overlap``, then the
    oldest over ``held_ms`` of ``newest + 1 - overlap`` (``now - lookback`` for a None), then
    ``now - lookback``; never earlier than ``now - max_history``.
    """
    fallback = now_ms - ms(lookback)
    if since_ms is not None:
        start = since_ms
    elif cursor_ms is not None:
        start = cursor_ms + 1 - ms(overlap)
    elif held_ms:
        start = min(fallback if h is None else h + 1 - ms(overlap) for h in held_ms)
    else:
        start = fallback
    return max(start, now_ms - ms(max_history))


def chunks(window: FetchWindow, step: timedelta) -> Iterator[FetchWindow]:
    """Consecutive windows of at most ``step`` covering ``window`` (oldest first)."""
    size = max(1, ms(step))
    start = window.start_ms
    while start < window.end_ms:
        end = min(start + size, window.end_ms)
        yield FetchWindow(start, end)
        start = end
