"""Request plumbing shared by the API modules: app state access, JSON bodies and responses.

``JSONBytesResponse`` serialises with orjson (non-str keys allowed, naive datetimes as UTC).
``read_json`` reads a request body under a size limit and parses JSON (or a flat url-encoded
form) and raises ``ApiError`` 400/413/415 — never 500 — for anything it cannot take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.server.errors import ApiError

if TYPE_CHECKING:
    from nightbridge.server.config import ServerConfig
    from nightbridge.store import Store

#: cgm-remote-monitor's body-parser limits: entries/treatments 50 MB, the rest 1 MB.
LARGE_BODY = 50 * 1024 * 1024
SMALL_BODY = 1024 * 1024

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC


class JSONBytesResponse(Response):
    """A JSON response serialised with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_ORJSON_OPTIONS)


def dumps(content: Any) -> bytes:
    """orjson with the options of JSONBytesResponse."""
    return orjson.dumps(content, option=_ORJSON_OPTIONS)


def get_store(request: Request) -> Store:
    """The app's Store (opened by the lifespan)."""
    store: Store = request.app.state.store
    return store


def get_config(request: Request) -> ServerConfig:
    config: ServerConfig = request.app.state.config
    return config


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes with 413 before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            too_big = int(declared) > limit
        except ValueError:
            raise ApiError(400, "Bad Request", "invalid Content-Length") from None
        if too_big:
            raise ApiError(413, "Payload Too Large", f"request body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "Payload Too Large", f"request body over {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if b"\\u0000" in raw or b"\x00" in raw:
        # PostgreSQL text and jsonb cannot hold NUL; refuse it the same way on every database.
        raise ApiError(400, "Bad Request", "a NUL character (\\u0000) cannot be stored")
    return raw


async def read_json(request: Request, limit: int = SMALL_BODY) -> Any:
    """The parsed body: JSON (any JSON media type or none) or a flat url-encoded form.

    An empty body is None. Malformed JSON → 400 ``{status, message, description}``.
    """
    raw = await read_body(request, limit)
    if not raw.strip():
        return None
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        try:
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise ApiError(400, "Bad Request", "form body is not UTF-8") from None
        if any("\x00" in k or "\x00" in v for k, v in form.items()):
            raise ApiError(400, "Bad Request", "a NUL character (\\u0000) cannot be stored")
        return form
    if media and not (media.endswith("json") or media.startswith("text/")):
        raise ApiError(415, "Unsupported Media Type", f"cannot read a {media} body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "Bad Request", f"malformed JSON body: {exc.msg}") from None
