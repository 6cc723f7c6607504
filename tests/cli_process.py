"""The real ``nightbridge`` process, for end-to-end tests (tests/cli, tests/e2e)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cli_command() -> list[str]:
    """The installed console script (the real entry point), else ``python -m``."""
    script = Path(sys.executable).with_name("nightbridge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nightbridge.cli.main"]


def run_cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``nightbridge <args>`` to completion."""
    return subprocess.run(
        [*cli_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """Start ``nightbridge <args>`` in the background, stdout and stderr into ``log``."""
    with log.open("a") as sink:
        return subprocess.Popen(
            [*cli_command(), *args], env=env, stdout=sink, stderr=subprocess.STDOUT, text=True
        )
