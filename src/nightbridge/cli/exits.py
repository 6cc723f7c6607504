"""Exit codes and the one-line words the CLI uses for each kind of failure.

The CLI branches on the error class (never on text), like the engine.
"""

from __future__ import annotations

from enum import IntEnum

from nightbridge.errors import (
    AuthError,
    CannotConnectError,
    ConfigError,
    FatalError,
    LockedOutError,
    RateLimitedError,
    RetriableError,
    TermsNotAcceptedError,
)


class ExitCode(IntEnum):
    OK = 0
    #: A bug: an exception outside the error tree.
    INTERNAL = 1
    #: A setting is missing or invalid (also typer's own usage errors).
    CONFIG = 2
    #: Wrong credentials, terms not accepted, locked out: a person must act.
    FATAL = 3
    #: Vendor or Nightscout unreachable/failing after retries: try again later.
    TRANSIENT = 4


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, ConfigError):
        return ExitCode.CONFIG
    if isinstance(exc, FatalError):
        return ExitCode.FATAL
    if isinstance(exc, RetriableError):
        return ExitCode.TRANSIENT
    return ExitCode.INTERNAL


def verdict(exc: BaseException | None) -> str:
    """The words ``check`` prints for an outcome: ``ok``, ``wrong credentials``, ``cannot
    connect``, ``rate limited``, ``terms not accepted: <what>`` ... with the detail after."""
    if exc is None:
        return "ok"
    if isinstance(exc, TermsNotAcceptedError):
        return f"terms not accepted: {exc}"
    if isinstance(exc, LockedOutError):
        return f"locked out ({exc})"
    if isinstance(exc, AuthError):
        return f"wrong credentials ({exc})"
    if isinstance(exc, RateLimitedError):
        return f"rate limited ({exc})"
    if isinstance(exc, CannotConnectError):
        return f"cannot connect ({exc})"
    if isinstance(exc, RetriableError):
        return f"cannot connect: server failing ({exc})"
    if isinstance(exc, ConfigError | FatalError):
        return f"{exc.family}: {exc}"
    return f"internal error: {type(exc).__name__}"


def worst(codes: list[ExitCode]) -> ExitCode:
    """The exit code of several outcomes: a person must act > config > transient > ok."""
    order = [ExitCode.INTERNAL, ExitCode.FATAL, ExitCode.CONFIG, ExitCode.TRANSIENT]
    for code in order:
        if code in codes:
            return code
    return ExitCode.OK
