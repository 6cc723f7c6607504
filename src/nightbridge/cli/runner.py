"""Running one command: settings, logging, the event loop, and errors → one line + exit code.

Every command body is ``async def body(settings) -> ExitCode``. ``execute`` loads the settings
(``ConfigError`` → exit 2 before anything else happens), installs the redacting log handler with
every configured secret, runs the body, and turns an escaping error into one line on stderr and
its exit code (exits.py). Nothing printed here contains a secret.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from nightbridge.cli.exits import ExitCode, exit_code_for
from nightbridge.cli.logs import RedactingFilter, configure_logging, redact_text
from nightbridge.errors import ConfigError, NightbridgeError
from nightbridge.settings import Settings, load_settings

log = logging.getLogger("nightbridge.cli")

Body = Callable[[Settings], Coroutine[Any, Any, ExitCode]]


@dataclass(slots=True)
class CliOptions:
    """The global options (before the command name)."""

    config: Path | None = None
    log_format: str = "text"
    log_level: str | None = None
    verbose: int = 0

    def level(self, settings: Settings | None) -> str:
        if self.verbose:
            return "debug"
        return self.log_level or (settings.log_level if settings else None) or "info"


def options_of(ctx: typer.Context) -> CliOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliOptions) else CliOptions()


def fail_line(exc: BaseException, redactor: RedactingFilter | None = None) -> str:
    """The one line printed for an error that ends the command."""
    if isinstance(exc, NightbridgeError):
        text = str(exc)
        variable = getattr(exc, "variable", None)
        if isinstance(exc, ConfigError) and variable and variable not in text:
            text = f"{variable}: {text}"
    else:
        text = f"internal error ({type(exc).__name__}); run with -v for details"
    return "error: " + redact_text(text, redactor.secrets if redactor else ())


def execute(ctx: typer.Context, body: Body) -> None:
    """Run ``body`` and exit with its code (see module docstring). Never returns normally."""
    options = options_of(ctx)
    redactor = configure_logging(fmt=options.log_format, level=options.level(None))
    try:
        settings = load_settings(config_path=options.config)
    except ConfigError as exc:
        typer.echo(fail_line(exc), err=True)
        raise typer.Exit(ExitCode.CONFIG) from None
    redactor = configure_logging(
        fmt=options.log_format, level=options.level(settings), secrets=settings.secret_values()
    )
    # Everything imported so far lives for the whole process: move it out of the collector's
    # sight so a large backfill does not rescan it on every generation-2 collection.
    gc.freeze()
    code: ExitCode
    try:
        code = asyncio.run(body(settings))
    except KeyboardInterrupt:
        code = ExitCode.OK
    except Exception as exc:
        code = exit_code_for(exc)
        if code is ExitCode.INTERNAL:
            log.error("internal error", exc_info=exc)
        typer.echo(fail_line(exc, redactor), err=True)
    sys.stdout.flush()
    raise typer.Exit(int(code))
