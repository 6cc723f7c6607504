"""``nightbridge forever``: the poll loop for every configured account until SIGINT/SIGTERM.

Outputs are opened first; one that cannot be reached yet is retried with backoff (a Nightscout
that is down at boot is not a reason to exit), one that rejects the credentials ends the process
with exit 3. A signal stops the loop after the write in flight; exit 0. When every account
stopped on a fatal error (wrong password ...), exit 3 with one line per account.
"""

from __future__ import annotations

import asyncio
import logging

import typer

from nightbridge.cli.exits import ExitCode, verdict
from nightbridge.cli.runner import execute
from nightbridge.cli.runtime import runtime
from nightbridge.cli.shutdown import stop_on_signals
from nightbridge.engine.clock import Clock, SystemClock
from nightbridge.engine.scheduler import Job, failure_delay, run_forever
from nightbridge.errors import RetriableError
from nightbridge.outputs.base import Output
from nightbridge.settings import Settings

log = logging.getLogger("nightbridge.cli")


async def open_patiently(output: Output, clock: Clock, stop: asyncio.Event) -> bool:
    """Open ``output``, retrying transient failures with backoff; False if stopped first."""
    failures = 0
    while not stop.is_set():
        try:
            await output.open()
        except RetriableError as exc:
            failures += 1
            delay = failure_delay(failures, exc.retry_after)
            log.warning(
                "output=%s not reachable yet failures=%d retry_in_s=%.0f error=%s",
                output.label,
                failures,
                delay,
                exc,
            )
            await clock.sleep(delay, stop)
        else:
            return True
    return False


async def forever_all(settings: Settings, clock: Clock | None = None) -> ExitCode:
    clock = clock or SystemClock()
    stop = asyncio.Event()
    with stop_on_signals(stop):
        async with runtime(settings) as rt:
            for output in rt.outputs:
                if not await open_patiently(output, clock, stop):
                    return ExitCode.OK
            jobs = [Job(source, rt.outputs) for source in rt.sources]
            log.info(
                "forever accounts=%s outputs=%s",
                ",".join(s.account for s in rt.sources),
                ",".join(o.label for o in rt.outputs),
            )
            outcomes = await run_forever(jobs, rt.state, clock=clock, stop=stop)
    fatal = {account: exc for account, exc in outcomes.items() if exc is not None}
    for account, exc in fatal.items():
        typer.echo(f"error: account {account}: {verdict(exc)}", err=True)
    return ExitCode.FATAL if fatal else ExitCode.OK


def forever(ctx: typer.Context) -> None:
    """Poll every account shortly after each new reading is due, until stopped."""
    execute(ctx, forever_all)


def register(app: typer.Typer) -> None:
    app.command("forever")(forever)
