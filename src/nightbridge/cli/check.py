"""``nightbridge check``: try each configured source (log in) and output (verify credentials).

One line each, e.g. ``source dexcom_share mum@example.org: wrong credentials (...)``; the exit
code is the worst outcome (3 a person must act, 4 transient, 0 all ok). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Awaitable

import typer

from nightbridge.cli.exits import ExitCode, exit_code_for, verdict, worst
from nightbridge.cli.runner import execute
from nightbridge.cli.runtime import runtime
from nightbridge.errors import NightbridgeError
from nightbridge.settings import Settings


async def check_all(settings: Settings) -> ExitCode:
    codes: list[ExitCode] = []
    async with runtime(settings, with_store=False) as rt:
        for source in rt.sources:
            error = await _attempt(source.check())
            typer.echo(f"source {source.kind} {source.account}: {verdict(error)}")
            codes.append(exit_code_for(error) if error else ExitCode.OK)
        for output in rt.outputs:
            error = await _attempt(output.open())
            typer.echo(f"output {output.kind} {output.label}: {verdict(error)}")
            codes.append(exit_code_for(error) if error else ExitCode.OK)
    return worst(codes)


async def _attempt(call: Awaitable[None]) -> NightbridgeError | None:
    try:
        await call
    except NightbridgeError as exc:
        return exc
    return None


def check(ctx: typer.Context) -> None:
    """Try each configured source and output once; one line each; writes nothing."""
    execute(ctx, check_all)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
