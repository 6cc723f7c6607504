"""Logging for the CLI: one line per event, secrets redacted, text or JSON.

``RedactingFilter`` rewrites every record before any handler formats it: each configured secret
and its SHA-1 hex (what Nightscout v1 receives as ``api-secret``) become ``***``, and so do the
values of ``secret=``/``token=``/``api-secret``/``password`` query parameters, headers and
``key: value``/``"key": "value"`` pairs, whoever logged them (httpx logs request URLs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from nightbridge.errors import redact

#: Parameter/header names whose values are always secret.
_KEYS = r"(?:api[-_]?secret|secret|token|password|passwd|authorization|auth[-_]?ticket)"
# key=value in URLs and logfmt; key: value in headers; "key": "value" in JSON.
_PAIR = re.compile(
    rf"""(?ix)
    (?P<key>["']?{_KEYS}["']?)
    (?P<sep>\s*[:=]\s*)
    (?P<quote>["']?)
    (?:(?P<scheme>bearer\s+|basic\s+))?
    (?P<value>[^\s&"',;)}}\]]+)
    """
)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, its SHA-1 hex and every secret-named parameter value hidden."""
    text = redact(text, tuple(secrets))
    return _PAIR.sub(lambda m: f"{m['key']}{m['sep']}{m['quote']}{m['scheme'] or ''}***", text)


def with_hashes(secrets: Iterable[str]) -> list[str]:
    """``secrets`` plus the lower- and upper-case SHA-1 hex of each."""
    out: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        digest = hashlib.sha1(secret.encode()).hexdigest()
        out.update({secret, digest, digest.upper()})
    return sorted(out, key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Redact each record's message and exception text in place (attach it to handlers)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = with_hashes(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text, self.secrets)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self.secrets)
        return True


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message>`` on one line (newlines escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_text:
            line += " | " + record.exc_text.strip().replace("\n", " | ")
        return line.replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message`` [, ``exc``]."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            event["exc"] = record.exc_text
        return json.dumps(event, ensure_ascii=False)


def configure_logging(
    *,
    fmt: str = "text",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> RedactingFilter:
    """Send every log record to ``stream`` (stderr) through one redacting handler.

    Returns the filter so the caller can add secrets once the settings are known.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_nightbridge", False):
            root.removeHandler(old)
    handler._nightbridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    # httpx logs every request at INFO; keep that for debugging only.
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(name).setLevel(max(quiet, root.level))
    return redactor
