"""HTTP to a vendor, mapped onto the error tree in one place.

Every vendor ``api.py`` sends its requests through ``send`` (and ``json_body``), so timeouts,
connection failures, 429 with Retry-After, 5xx, HTML outage pages and truncated JSON mean the same
thing for every vendor. Vendor-specific codes (a 500 that really means "wrong password") are
mapped by the vendor's own ``errors.py`` *before* the generic status mapping applies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from nightbridge.errors import (
    AuthError,
    CannotConnectError,
    RateLimitedError,
    RemoteServerError,
)


async def send(
    client: httpx.AsyncClient, request: httpx.Request, *, auth: httpx.Auth | None = None
) -> httpx.Response:
    """Send ``request`` (through ``auth`` if given, e.g. a ``SessionAuth``); network failures
    become ``CannotConnectError`` (no URL query in text)."""
    try:
        if auth is not None:
            return await client.send(request, auth=auth)
        return await client.send(request)
    except httpx.TimeoutException as exc:
        raise CannotConnectError(f"{request.url.host}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        reason = type(exc).__name__
        raise CannotConnectError(f"{request.url.host}: cannot connect ({reason})") from None


def raise_for_status(response: httpx.Response, vendor: str) -> None:
    """Map a non-2xx status onto the error tree (401/403 auth, 429 rate, 5xx/other transient)."""
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        raise RateLimitedError(f"{vendor}: rate limited (HTTP 429)", retry_after(response))
    if status in (401, 403):
        raise AuthError(f"{vendor}: credentials rejected (HTTP {status})")
    raise RemoteServerError(f"{vendor}: HTTP {status}", retry_after(response))


def json_body(response: httpx.Response, vendor: str) -> Any:
    """The decoded JSON body; an HTML page or malformed JSON is a transient outage."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        kind = "an HTML page" if response.content.lstrip()[:1] == b"<" else "malformed JSON"
        raise RemoteServerError(
            f"{vendor}: answered {kind} instead of JSON (HTTP {response.status_code})"
        ) from None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
