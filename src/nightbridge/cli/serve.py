"""``nightbridge serve``: a Nightscout-compatible server on the embedded store.

Settings: cgm-remote-monitor's variables (API_SECRET, AUTH_DEFAULT_ROLES, DISPLAY_UNITS, BG_*,
PORT, HOSTNAME) beside NIGHTBRIDGE_* ones (server/config.py), the data directory and database
URL from the nightbridge settings, ``--database-url/--host/--port`` over both. A missing or
short (< 12 characters) API_SECRET is refused with one line (exit 2) unless ``--demo``: without
a secret the demo is read-only (anonymous readable, no write credential exists).

Connectors: every configured source runs in the server process with the engine's scheduler and
writes into the store; ``--demo`` adds the simulator (24 h backfilled at start, then polled).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from nightbridge.cli.exits import ExitCode
from nightbridge.cli.runner import execute
from nightbridge.settings import Settings
from nightbridge.sources.base import Source

if TYPE_CHECKING:  # imported when serving: the other commands start without the server code
    from nightbridge.server.app import Connector
    from nightbridge.server.config import ServerConfig
    from nightbridge.store import Store

log = logging.getLogger("nightbridge.cli")
DEMO_BACKFILL = timedelta(hours=24)


def source_connector(source: Source, lookback: timedelta | None = None) -> Connector:
    """A background job polling ``source`` into the store until the server stops."""

    async def run(store: Store, stop: asyncio.Event) -> None:
        from nightbridge.engine.clock import SystemClock
        from nightbridge.engine.scheduler import Job, run_forever
        from nightbridge.outputs.store import StoreOutput

        output = StoreOutput(store)
        await output.open()
        job = Job(source, [output]) if lookback is None else Job(source, [output], lookback)
        try:
            await run_forever([job], store, clock=SystemClock(), stop=stop)
        finally:
            await source.aclose()

    return run


def build_connectors(settings: Settings, *, demo: bool) -> list[Connector]:
    """Jobs for the configured sources, plus the simulator with ``demo``."""
    from nightbridge.cli.runtime import new_client
    from nightbridge.sources import build_source

    jobs: list[Connector] = []
    for config in settings.sources:
        jobs.append(source_connector(build_source(config, client=new_client())))
    if demo and not any(getattr(c, "kind", None) == "simulator" for c in settings.sources):
        from nightbridge.sources.simulator import SimulatorSource

        jobs.append(source_connector(SimulatorSource(), DEMO_BACKFILL))
    return jobs


def server_config(
    settings: Settings,
    *,
    demo: bool,
    database_url: str | None,
    host: str | None,
    port: int | None,
) -> ServerConfig:
    """The server settings; ConfigError (one line) for a missing/short secret unless demo."""
    from nightbridge.server.config import ServerConfig

    config = ServerConfig.from_env(
        os.environ,
        data_dir=settings.data_dir,
        database_url=database_url or settings.database_url,
        host=host,
        port=port,
        demo=demo,
    )
    if not demo or config.secret is not None:
        config.check_secret()
    return config


async def serve_forever(config: ServerConfig, connectors: Sequence[Connector]) -> ExitCode:
    import uvicorn

    from nightbridge.server.app import create_app

    app = create_app(config, connectors=connectors)
    mode = " (demo, read-only)" if config.demo and config.secret is None else ""
    shown = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    typer.echo(
        f"nightbridge: dashboard and Nightscout API on http://{shown}:{config.port}/{mode}"
        f" (listening on {config.host})",
        err=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            server_header=False,
        )
    )
    await server.serve()
    return ExitCode.OK


def serve(
    ctx: typer.Context,
    demo: bool = typer.Option(False, "--demo", help="Add the simulator; read-only w/o secret."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="sqlite:///path.db or postgresql://..."
    ),
    host: str | None = typer.Option(None, "--host", help="Listen address (HOSTNAME)."),
    port: int | None = typer.Option(None, "--port", help="Listen port (PORT, default 1337)."),
) -> None:
    """Run a Nightscout-compatible server (API v1, v2 authorization, v3) on the store."""

    async def body(settings: Settings) -> ExitCode:
        config = server_config(settings, demo=demo, database_url=database_url, host=host, port=port)
        return await serve_forever(config, build_connectors(settings, demo=demo))

    execute(ctx, body)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
