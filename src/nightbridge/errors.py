"""The one exception tree. The engine branches on class, never on message text.

- ``ConfigError``: a setting is missing or invalid; raised before any network call.
- ``FatalError``: stop this account and tell the person (wrong password, terms not accepted).
  Never retried: retrying bad credentials walks an account towards a vendor lockout.
- ``RetriableError``: try again later (timeouts, 5xx, 429, outage pages); ``retry_after`` in
  seconds when the remote said so.
- ``SkippableError``: one bad record; count it, log it, continue with the rest of the batch.

Messages must never contain a secret; ``redact`` removes known secrets from any text.
"""

from __future__ import annotations


class NightbridgeError(Exception):
    """Base of every error nightbridge raises on purpose."""

    #: One short word for metrics and status tables ("auth", "terms", "rate_limited", ...).
    family: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(NightbridgeError):
    """A setting is missing or invalid. ``variable`` names it."""

    family = "config"

    def __init__(self, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


class FatalError(NightbridgeError):
    """Stop this account until the person fixes something."""

    family = "fatal"


class AuthError(FatalError):
    """The vendor or Nightscout rejected the credentials."""

    family = "auth"


class LockedOutError(AuthError):
    """The vendor locked the account after too many failed logins."""

    family = "locked_out"


class TermsNotAcceptedError(FatalError):
    """The vendor requires the person to accept terms, a privacy policy or verify an e-mail."""

    family = "terms"


class RetriableError(NightbridgeError):
    """A transient failure. ``retry_after`` (seconds) when the remote asked for a delay."""

    family = "transient"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CannotConnectError(RetriableError):
    """DNS, connect or read timeout: the remote could not be reached."""

    family = "connect"


class RateLimitedError(RetriableError):
    """HTTP 429 or a vendor's own rate-limit code."""

    family = "rate_limited"


class RemoteServerError(RetriableError):
    """5xx, an HTML outage page or a body that is not the JSON promised."""

    family = "server"


class SessionExpiredError(RetriableError):
    """The vendor says the session is gone; the auth flow logs in again once."""

    family = "session"


class SkippableError(NightbridgeError):
    """One record is invalid. ``field`` names the offending field."""

    family = "skipped"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def redact(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """Return ``text`` with every non-empty secret (of 3+ chars) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
