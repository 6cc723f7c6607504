"""One sync of one account: fetch → identify → write to every output → advance its cursor.

Contract of ``sync_once``:

- **Pending first.** Batches an output could not take last time are delivered before anything
  new, oldest first, each dropped only after the output acknowledged it. Delivering them does
  not move the cursor: a process lost while storing a chunk's batches may have kept some
  collections of that chunk and not others, so the span is fetched again (duplicates only).
- **Gap analysis** (``engine.cursor``): each output needs data from its cursor minus the
  source's ``overlap``, else from the oldest of what it already holds per collection the
  source produces (``Output.newest``; a collection it holds nothing of counts as
  ``now - lookback``), else from ``now - lookback``; never earlier than
  ``now - source.max_history``; a backfill ``since_ms`` overrides. One fetch window serves all
  outputs: from the earliest need to ``now`` (inclusive), cut into chunks of at most the
  source's ``max_window`` (default one day), oldest first, ``on_progress`` called per chunk.
- **Identity** before any output sees a document (``unique_by_identifier``); each collection is
  written oldest first, so what an output holds newest never hides an older gap.
- **Cursor after acknowledgement only**: an output's cursor moves to the newest date it
  acknowledged once *every* collection of a chunk was acknowledged, chunk by chunk. A
  ``RetriableError`` from a write stores that chunk (and every later chunk of this sync) as a
  pending batch for that output and leaves its cursor; the other outputs carry on. So a
  fetched batch is either acknowledged or stored: never lost.
- ``SkippableError`` records are counted (the source counts them in ``Batch.skipped``);
  ``FatalError`` propagates; a ``RetriableError`` from the source propagates after the retry
  policy gave up (nothing was lost: the cursors did not move past unfetched data).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from nightbridge.engine.cursor import (
    DEFAULT_CHUNK,
    DEFAULT_LOOKBACK,
    chunks,
    collections_of,
    ms,
    output_start,
    overlap_of,
)
from nightbridge.engine.metrics import count_written
from nightbridge.engine.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry
from nightbridge.engine.state import StateStore
from nightbridge.errors import RetriableError, SkippableError
from nightbridge.identity import unique_by_identifier
from nightbridge.model import MODEL_OF, Collection, NSDocument
from nightbridge.outputs.base import Output, WriteResult
from nightbridge.sources.base import FetchWindow, Source

log = logging.getLogger("nightbridge.engine")

#: ``on_progress(done_ms, total_ms)``: how much of the window has been synced.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one ``sync_once`` did. Counts are documents; times are UTC epoch ms.

    ``fetched``: documents the source returned (after in-batch de-duplication);
    ``created``/``duplicates``: summed over outputs (including delivered pending batches);
    ``skipped``: invalid records left out; ``pending``: documents stored for a failed output;
    ``newest_ms``: newest document date fetched (None when nothing came).
    """

    fetched: int
    created: int
    duplicates: int
    skipped: int
    pending: int
    window_start_ms: int
    window_end_ms: int
    newest_ms: int | None
    #: Documents of earlier pending batches acknowledged in this sync.
    delivered: int = 0
    #: Labels of outputs that failed in this sync (their batches are pending).
    failed_outputs: tuple[str, ...] = ()


@dataclass(slots=True)
class _Lane:
    """The state of one output during one sync."""

    output: Output
    cursor: int | None
    start_ms: int = 0
    failed: bool = False
    pending_newest: int | None = None


@dataclass(slots=True)
class _Tally:
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    skipped: int = 0
    pending: int = 0
    delivered: int = 0
    newest_ms: int | None = None
    skipped_by: dict[str, int] = field(default_factory=dict)

    def ack(self, result: WriteResult) -> None:
        self.created += result.created
        self.duplicates += result.duplicates


async def sync_once(
    source: Source,
    outputs: Sequence[Output],
    state: StateStore,
    *,
    now_ms: int,
    since_ms: int | None = None,
    lookback_ms: int = ms(DEFAULT_LOOKBACK),
    on_progress: Progress | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    stop: asyncio.Event | None = None,
) -> SyncReport:
    """Sync ``source`` into ``outputs`` up to ``now_ms`` (see the module docstring).

    Outputs must already be open. ``stop`` (optional) ends the sync between two chunks; every
    chunk already fetched is acknowledged or stored pending before returning.
    """
    tally = _Tally()
    lanes = [_Lane(o, await state.get_cursor(source.account, o.label)) for o in outputs]
    for lane in lanes:
        await _deliver_pending(source.account, lane, state, tally, retry)
    for lane in lanes:
        lane.start_ms = await _lane_start(source, lane, now_ms, since_ms, lookback_ms)
    starts = [lane.start_ms for lane in lanes] or [
        output_start(
            now_ms=now_ms,
            max_history=source.max_history,
            cursor_ms=None,
            lookback=timedelta(milliseconds=lookback_ms),
            since_ms=since_ms,
        )
    ]
    end_ms = now_ms + 1
    window = FetchWindow(min(min(starts), end_ms), end_ms)
    step: timedelta = getattr(source, "max_window", DEFAULT_CHUNK)
    total = window.end_ms - window.start_ms
    for chunk in chunks(window, step):
        if stop is not None and stop.is_set():
            break
        by_collection = await _fetch(source, chunk, tally, retry)
        for lane in lanes:
            await _write_chunk(source.account, lane, chunk, by_collection, state, tally, retry)
        if on_progress is not None:
            on_progress(chunk.end_ms - window.start_ms, total)
    return SyncReport(
        fetched=tally.fetched,
        created=tally.created,
        duplicates=tally.duplicates,
        skipped=tally.skipped,
        pending=tally.pending,
        window_start_ms=window.start_ms,
        window_end_ms=window.end_ms,
        newest_ms=tally.newest_ms,
        delivered=tally.delivered,
        failed_outputs=tuple(lane.output.label for lane in lanes if lane.failed),
    )


async def _lane_start(
    source: Source, lane: _Lane, now_ms: int, since_ms: int | None, lookback_ms: int
) -> int:
    """Where this output's need starts; data already held pending is not fetched again."""
    held: list[int | None] = []
    if lane.cursor is None and since_ms is None:
        held = await _held(source, lane.output)
    start = output_start(
        now_ms=now_ms,
        max_history=source.max_history,
        cursor_ms=lane.cursor,
        held_ms=held,
        lookback=timedelta(milliseconds=lookback_ms),
        overlap=overlap_of(source),
        since_ms=since_ms,
    )
    if since_ms is None and lane.pending_newest is not None:
        start = max(start, lane.pending_newest + 1)
    return start


async def _held(source: Source, output: Output) -> list[int | None]:
    """Per collection the source produces, the newest date the output holds (None: nothing,
    or the output could not tell)."""
    device: str | None = getattr(source, "device", None)
    held: list[int | None] = []
    for collection in collections_of(source):
        try:
            held.append(await output.newest(collection, device))
        except RetriableError as exc:
            log.warning("output %s: cannot tell its newest %s: %s", output.label, collection, exc)
            held.append(None)
    return held


async def _fetch(
    source: Source, chunk: FetchWindow, tally: _Tally, retry: RetryPolicy
) -> dict[Collection, list[NSDocument]]:
    try:
        batch = await call_with_retry(lambda: source.fetch(chunk), retry, name="fetch")
    except SkippableError as exc:
        tally.skipped += 1
        log.warning("account %s: skipped a whole chunk: %s", source.account, exc)
        return {}
    tally.skipped += sum(batch.skipped.values())
    by_collection: dict[Collection, list[NSDocument]] = {}
    for collection, docs in batch.by_collection().items():
        # A vendor may answer more than was asked; what lies outside belongs to another chunk.
        inside = [d for d in docs if chunk.start_ms <= d.date < chunk.end_ms]
        unique = unique_by_identifier(inside)
        # Oldest first: an output that is cut off mid-write then holds a prefix, never a gap.
        unique.sort(key=_date)
        if unique:
            by_collection[collection] = unique
            tally.fetched += len(unique)
            newest = max(d.date for d in unique)
            tally.newest_ms = newest if tally.newest_ms is None else max(tally.newest_ms, newest)
    return by_collection


async def _write_chunk(
    account: str,
    lane: _Lane,
    chunk: FetchWindow,
    by_collection: dict[Collection, list[NSDocument]],
    state: StateStore,
    tally: _Tally,
    retry: RetryPolicy,
) -> None:
    """Write one chunk to one output; on failure keep the rest as pending for it."""
    if chunk.end_ms <= lane.start_ms:
        return
    newest: int | None = None
    for collection, all_docs in by_collection.items():
        docs = (
            all_docs
            if chunk.start_ms >= lane.start_ms
            else [d for d in all_docs if d.date >= lane.start_ms]
        )
        if not docs:
            continue
        if not lane.failed:
            try:
                result = await call_with_retry(
                    partial(lane.output.write, collection, docs), retry, name="write"
                )
            except RetriableError as exc:
                lane.failed = True
                log.warning("output %s failed, keeping batches pending: %s", lane.output.label, exc)
            else:
                tally.ack(result)
                count_written(lane.output.label, collection.value, result.created)
                top = max(d.date for d in docs)
                newest = top if newest is None else max(newest, top)
                continue
        payload = [d.to_nightscout() for d in docs]
        await state.add_pending(account, lane.output.label, collection.value, payload)
        tally.pending += len(payload)
    if not lane.failed and newest is not None and (lane.cursor is None or newest > lane.cursor):
        await state.set_cursor(account, lane.output.label, newest)
        lane.cursor = newest


async def _deliver_pending(
    account: str, lane: _Lane, state: StateStore, tally: _Tally, retry: RetryPolicy
) -> None:
    """Deliver this output's pending batches, oldest first; stop at the first failure."""
    batches = await state.list_pending(account, lane.output.label)
    for batch in batches:
        top = _newest_of(batch.docs)
        if lane.failed:
            lane.pending_newest = _max(lane.pending_newest, top)
            continue
        collection = Collection(batch.collection)
        docs = _rebuild(collection, batch.docs, tally)
        try:
            result = await call_with_retry(
                partial(lane.output.write, collection, docs), retry, name="write"
            )
        except RetriableError as exc:
            lane.failed = True
            lane.pending_newest = _max(lane.pending_newest, top)
            log.warning("output %s still failing: %s", lane.output.label, exc)
            continue
        await state.drop_pending(batch.id)
        tally.ack(result)
        count_written(lane.output.label, collection.value, result.created)
        tally.delivered += len(docs)
        lane.pending_newest = _max(lane.pending_newest, top)
    if not lane.failed:
        # Delivered, but the cursor stays: these batches may lack collections of their last
        # chunk (a process lost between two ``add_pending``); the span is fetched again.
        lane.pending_newest = None


def _rebuild(collection: Collection, raw: list[dict[str, Any]], tally: _Tally) -> list[NSDocument]:
    model = MODEL_OF[collection]
    docs: list[NSDocument] = []
    for item in raw:
        try:
            docs.append(model.build(item))
        except SkippableError as exc:
            tally.skipped += 1
            log.warning("pending %s document skipped: %s", collection, exc)
    return docs


def _date(doc: NSDocument) -> int:
    return doc.date


def _newest_of(raw: list[dict[str, Any]]) -> int | None:
    dates = [d["date"] for d in raw if isinstance(d.get("date"), int)]
    return max(dates, default=None)


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
