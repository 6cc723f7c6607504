"""``nightbridge capture``: one fetch of the last N hours from every source, printed as JSON.

The documents are transformed and identified exactly as a sync would upload them; nothing is
written anywhere (no store, no output is even opened). Output on stdout::

    {"sources": [{"kind": ..., "account": ..., "window": {"start_ms": ..., "end_ms": ...},
                  "skipped": {...}, "counts": {"entries": 36, ...},
                  "collections": {"entries": [{"identifier": ..., ...}], ...}}]}
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import typer

from nightbridge.cli.durations import duration_option
from nightbridge.cli.exits import ExitCode
from nightbridge.cli.runner import execute
from nightbridge.cli.runtime import runtime
from nightbridge.engine.clock import SystemClock, WallClock
from nightbridge.identity import unique_by_identifier
from nightbridge.settings import Settings
from nightbridge.sources.base import FetchWindow, Source


async def capture_one(source: Source, since: timedelta, clock: WallClock) -> dict[str, Any]:
    """Fetch ``[now - since, now]`` (never beyond what the vendor keeps) and identify it."""
    now = clock.now_ms()
    reach = min(since, source.max_history)
    window = FetchWindow(now - int(reach.total_seconds() * 1000), now + 1)
    batch = await source.fetch(window)
    collections: dict[str, list[dict[str, Any]]] = {}
    for collection, docs in batch.by_collection().items():
        inside = [d for d in docs if window.start_ms <= d.date < window.end_ms]
        collections[collection.value] = [d.to_nightscout() for d in unique_by_identifier(inside)]
    return {
        "kind": source.kind,
        "account": source.account,
        "window": {"start_ms": window.start_ms, "end_ms": window.end_ms},
        "skipped": dict(batch.skipped),
        "counts": {name: len(docs) for name, docs in collections.items()},
        "collections": collections,
    }


def capture(
    ctx: typer.Context,
    since: str = typer.Option("3h", "--since", help="How far back: e.g. 3h, 90m, 1d."),
) -> None:
    """Fetch the last hours once and print the records as JSON; writes nothing."""
    span = duration_option(since)

    async def body(settings: Settings) -> ExitCode:
        clock = SystemClock()
        async with runtime(settings, with_outputs=False) as rt:
            results = [await capture_one(source, span, clock) for source in rt.sources]
        typer.echo(json.dumps({"sources": results}, indent=2, ensure_ascii=False))
        return ExitCode.OK

    execute(ctx, body)


def register(app: typer.Typer) -> None:
    app.command("capture")(capture)
