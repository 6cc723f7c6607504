"""``nightbridge sync --since 24h``: backfill every source into every output once.

Progress is a rich bar on a terminal and plain ``progress account=... pct=...`` lines otherwise
(stderr). Each account ends with a ``synced account=...`` line and the run with a summary line
``summary fetched=N created=N duplicates=N skipped=N pending=N`` (stdout). Exit 3 when a person
must act (wrong credentials ...), 4 when a source or output stayed unreachable (what was
fetched for a failing output is kept pending for the next run), else 0.
SIGINT/SIGTERM stop between chunks; every chunk fetched is acknowledged or kept pending.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import typer

from nightbridge.cli.durations import duration_option
from nightbridge.cli.exits import ExitCode, exit_code_for, verdict, worst
from nightbridge.cli.runner import execute
from nightbridge.cli.runtime import runtime
from nightbridge.cli.shutdown import stop_on_signals
from nightbridge.engine.clock import SystemClock
from nightbridge.engine.pipeline import SyncReport, sync_once
from nightbridge.engine.runs import record_failure, record_success
from nightbridge.errors import FatalError, RetriableError
from nightbridge.settings import Settings
from nightbridge.sources.base import Source

Progress_ = Callable[[int, int], None]


@dataclass(slots=True)
class Totals:
    fetched: int = 0
    created: int = 0
    duplicates: int = 0
    skipped: int = 0
    pending: int = 0

    def add(self, report: SyncReport) -> None:
        self.fetched += report.fetched
        self.created += report.created
        self.duplicates += report.duplicates
        self.skipped += report.skipped
        self.pending += report.pending

    def line(self, prefix: str) -> str:
        return (
            f"{prefix} fetched={self.fetched} created={self.created} "
            f"duplicates={self.duplicates} skipped={self.skipped} pending={self.pending}"
        )


@contextmanager
def progress_for(source: Source, *, fancy: bool) -> Iterator[Progress_]:
    """An ``on_progress(done_ms, total_ms)`` callback: a rich bar or plain lines on stderr."""
    if not fancy:
        last = [-1]

        def plain(done: int, total: int) -> None:
            pct = 100 if total <= 0 else int(done * 100 / total)
            if pct != last[0]:
                last[0] = pct
                typer.echo(f"progress account={source.account} pct={pct}", err=True)

        yield plain
        return
    # Imported here: only a terminal run draws a bar (rich.progress is ~5 MB of RSS).
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"{source.kind} {source.account}", total=1)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        yield update


async def sync_all(settings: Settings, since: timedelta, *, fancy: bool) -> ExitCode:
    clock = SystemClock()
    totals = Totals()
    codes: list[ExitCode] = []
    stop = asyncio.Event()
    with stop_on_signals(stop):
        async with runtime(settings) as rt:
            for output in rt.outputs:
                await output.open()
            for source in rt.sources:
                if stop.is_set():
                    break
                now = clock.now_ms()
                since_ms = now - int(since.total_seconds() * 1000)
                try:
                    with progress_for(source, fancy=fancy) as on_progress:
                        report = await sync_once(
                            source,
                            rt.outputs,
                            rt.state,
                            now_ms=now,
                            since_ms=since_ms,
                            on_progress=on_progress,
                            stop=stop,
                        )
                except (FatalError, RetriableError) as exc:
                    await record_failure(
                        rt.state,
                        source.account,
                        source.kind,
                        exc,
                        at_ms=now,
                        next_poll_ms=None,
                        failures=1,
                    )
                    typer.echo(f"error: account {source.account}: {verdict(exc)}", err=True)
                    codes.append(exit_code_for(exc))
                    continue
                await record_success(
                    rt.state, source.account, source.kind, report, at_ms=now, next_poll_ms=None
                )
                totals.add(report)
                if report.failed_outputs:
                    codes.append(ExitCode.TRANSIENT)
                    failed = ", ".join(report.failed_outputs)
                    typer.echo(
                        f"error: {failed}: unreachable; kept pending for the next run", err=True
                    )
    typer.echo(totals.line("summary"))
    return worst(codes)


def sync(
    ctx: typer.Context,
    since: str = typer.Option("24h", "--since", help="Backfill this far back: 90d, 24h, 30m."),
) -> None:
    """Backfill every source into every output once, then exit."""
    span = duration_option(since)
    fancy = sys.stderr.isatty()

    async def body(settings: Settings) -> ExitCode:
        return await sync_all(settings, span, fancy=fancy)

    execute(ctx, body)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
