"""The ``nightbridge`` command: global options, then one module per command.

Exit codes (cli/exits.py): 0 ok, 1 internal error, 2 configuration (or usage) error,
3 a person must act (wrong credentials, terms not accepted, locked out),
4 transient (a vendor or Nightscout unreachable after retries).
"""

from __future__ import annotations

from pathlib import Path

import typer

from nightbridge import __version__
from nightbridge.cli import capture, check, forever, serve, status, sync
from nightbridge.cli.runner import CliOptions

app = typer.Typer(
    name="nightbridge",
    help="Diabetes data from vendor clouds into Nightscout; nothing lost, nothing doubled.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nightbridge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", envvar="NIGHTBRIDGE_CONFIG", help="TOML settings file (several accounts)."
    ),
    log_format: str = typer.Option(
        "text", "--log-format", help="text or json (one object a line)."
    ),
    log_level: str | None = typer.Option(None, "--log-level", help="debug, info, warning, error."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Debug logging."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """Global options; see each command's --help."""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    if log_level is not None and log_level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter("use debug, info, warning or error", param_hint="--log-level")
    ctx.obj = CliOptions(config=config, log_format=log_format, log_level=log_level, verbose=verbose)


for command in (check, capture, sync, forever, serve, status):
    command.register(app)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
