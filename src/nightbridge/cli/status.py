"""``nightbridge status``: the connector table from the store, for a headless box.

One row per (source, account) that ever ran: state, last successful sync, last error in plain
words, next poll; then the pending batches and the age of the newest reading. A rich table on a
terminal, plain aligned text otherwise (pipes, cron mail), ``--json`` for scripts.

Reads the store of ``NIGHTBRIDGE_DATABASE_URL`` (the SQLite file in the data directory by
default) and never creates it. Exit code 3 when a connector is stopped (a person must act: wrong
password, terms not accepted), else 0.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from nightbridge.cli.exits import ExitCode
from nightbridge.cli.runner import execute
from nightbridge.model import Collection
from nightbridge.model.time import now_ms
from nightbridge.settings import Settings

# The store, the connector rows (whose package is the server's) and rich are imported when
# ``status`` runs: every other command (``forever`` above all) starts without them.
if TYPE_CHECKING:
    from rich.console import Console

    from nightbridge.server.dashboard.connectors import ConnectorRow

HEADERS = ("SOURCE", "ACCOUNT", "STATE", "LAST SYNC", "LAST ERROR", "NEXT POLL")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the store says now: connector rows, pending batches, newest entry (epoch ms)."""

    rows: list[ConnectorRow]
    pending: int
    newest_ms: int | None
    now_ms: int


def ago(ms: int | None, now: int) -> str:
    """``3 min ago`` / ``2 h ago`` / ``never`` for an epoch-ms time before ``now``."""
    if ms is None:
        return "never"
    minutes = (now - ms) // 60_000
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def until(ms: int | None, now: int) -> str:
    """``in 4 min`` / ``due now`` for the next poll; ``-`` when none is planned."""
    if ms is None:
        return "-"
    minutes = round((ms - now) / 60_000)
    if minutes <= 0:
        return "due now"
    return f"in {minutes} min" if minutes < 90 else f"in {round(minutes / 60)} h"


def cells(row: ConnectorRow, now: int) -> tuple[str, ...]:
    """The printed cells of one row (same columns as ``HEADERS``)."""
    from nightbridge.server.dashboard.connectors import ConnectorState

    error = f"{row.last_error} ({ago(row.last_error_ms, now)})" if row.last_error else "-"
    next_poll = "stopped" if row.state is ConnectorState.STOPPED else until(row.next_poll_ms, now)
    return (
        row.source,
        row.account,
        row.state.value,
        ago(row.last_success_ms, now),
        error,
        next_poll,
    )


def footer(snapshot: Snapshot) -> str:
    return (
        f"pending batches: {snapshot.pending}; newest reading: "
        f"{ago(snapshot.newest_ms, snapshot.now_ms)}"
    )


def render_text(snapshot: Snapshot) -> str:
    """Plain aligned columns (two spaces apart), a header line, then the footer."""
    table = [HEADERS, *(cells(r, snapshot.now_ms) for r in snapshot.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    if not snapshot.rows:
        lines.append("(no connector has run yet)")
    return "\n".join([*lines, footer(snapshot)])


def render_rich(snapshot: Snapshot, console: Console) -> None:
    """The same table with colours, for a terminal."""
    from rich.table import Table
    from rich.text import Text

    from nightbridge.server.dashboard.connectors import ConnectorState

    styles = {
        ConnectorState.OK: "green",
        ConnectorState.FAILING: "yellow",
        ConnectorState.STOPPED: "bold red",
        ConnectorState.WAITING: "dim",
    }
    table = Table(title="nightbridge connectors", title_justify="left")
    for header in HEADERS:
        table.add_column(header.title(), no_wrap=header in ("SOURCE", "STATE"))
    for row in snapshot.rows:
        # Text, not markup: an account name may hold "[" and must be printed as it is.
        texts = [Text(value) for value in cells(row, snapshot.now_ms)]
        texts[2].stylize(styles[row.state])
        table.add_row(*texts)
    console.print(table)
    if not snapshot.rows:
        console.print("(no connector has run yet)", highlight=False)
    console.print(footer(snapshot), highlight=False)


def render_json(snapshot: Snapshot) -> str:
    return json.dumps(
        {
            "now": snapshot.now_ms,
            "pending_batches": snapshot.pending,
            "newest_ms": snapshot.newest_ms,
            "connectors": [r.model_dump(mode="json") for r in snapshot.rows],
        },
        indent=2,
    )


def store_missing(database_url: str) -> Path | None:
    """The SQLite file's path when the store is a SQLite file that does not exist yet."""
    from nightbridge.store.db import normalise_url

    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database)
        return None if path.exists() else path
    return None


async def read_snapshot(database_url: str) -> Snapshot:
    from nightbridge.server.dashboard.connectors import rows_of
    from nightbridge.store import Store

    store = await Store.open(database_url)
    try:
        return Snapshot(
            rows=rows_of(await store.connector_status()),
            pending=await store.count_pending(),
            newest_ms=await store.newest_date(Collection.ENTRIES.value),
            now_ms=now_ms(),
        )
    finally:
        await store.close()


def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print the connector table from the store (exit 3 when a connector is stopped)."""

    async def body(settings: Settings) -> ExitCode:
        from rich.console import Console

        from nightbridge.server.dashboard.connectors import ConnectorState

        missing = store_missing(settings.database_url)
        if missing is not None:
            typer.echo(f"no store yet at {missing}: nothing has run")
            return ExitCode.OK
        snapshot = await read_snapshot(settings.database_url)
        if as_json:
            typer.echo(render_json(snapshot))
        elif sys.stdout.isatty():
            render_rich(snapshot, Console())
        else:
            typer.echo(render_text(snapshot))
        stopped = any(r.state is ConnectorState.STOPPED for r in snapshot.rows)
        return ExitCode.FATAL if stopped else ExitCode.OK

    execute(ctx, body)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
