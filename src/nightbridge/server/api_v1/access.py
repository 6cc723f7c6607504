"""What every v1 route does first: authenticate, check one permission, read params and body."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model.time import from_ms
from nightbridge.server.api_v1.query_string import Nested, parse_query
from nightbridge.server.auth import Principal, authenticate, demand
from nightbridge.server.deps import read_json
from nightbridge.store.documents import UpsertResult


def now_ms(request: Request) -> int:
    """The app's clock (``app.state.clock`` returns epoch ms; injectable in tests)."""
    clock: Callable[[], int] | None = getattr(request.app.state, "clock", None)
    return clock() if clock else int(time.time() * 1000)


def params_of(request: Request) -> Nested:
    """Nested query parameters (qs rules, see query_string)."""
    return parse_query(request.scope.get("query_string", b""))


async def allowed(request: Request, permission: str, body: Any = None) -> Principal:
    """Authenticate and demand ``permission`` (401 + address penalty otherwise)."""
    principal = await authenticate(request, body=body)
    demand(request, principal, permission)
    return principal


async def body_allowed(request: Request, permission: str, limit: int) -> Any:
    """Read the JSON body (≤ ``limit`` bytes), authenticate with it, demand ``permission``.

    A ``secret``/``token`` field is removed from the body (first element for arrays) once read.
    """
    body = await read_json(request, limit)
    await allowed(request, permission, body)
    holder = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(holder, dict):
        holder.pop("secret", None)
        holder.pop("token", None)
    return body


def http_date(ms: int) -> str:
    return format_datetime(from_ms(ms), usegmt=True)


def not_modified(request: Request, newest_ms: int | None) -> Response | None:
    """A 304 when ``If-Modified-Since`` is at or after ``newest_ms`` (second precision)."""
    header = request.headers.get("if-modified-since")
    if not header or newest_ms is None:
        return None
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if since.tzinfo is None:
        return None
    if since.timestamp() * 1000 >= (newest_ms // 1000) * 1000:
        return Response(status_code=304, headers={"Last-Modified": http_date(newest_ms)})
    return None


async def _upsert_natural(
    request: Request, collection: str, docs: list[dict[str, Any]]
) -> UpsertResult:
    from nightbridge.server.api_v1.cache import response_cache
    from nightbridge.server.deps import get_store

    try:
        result: UpsertResult = await get_store(request).upsert_natural(
            collection, docs, now_ms=now_ms(request)
        )
    finally:
        response_cache(request).invalidate(collection)
    return result


async def store_natural(request: Request, collection: str, docs: list[dict[str, Any]]) -> list[Any]:
    """Write ``docs`` with v1 semantics (``Store.upsert_natural``); the stored documents."""
    result = await _upsert_natural(request, collection, docs)
    return list(result.docs) if result.docs else list(docs)


async def store_echo(
    request: Request, collection: str, docs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``store_natural`` answered as ``POST /entries`` and ``/treatments`` echo it (§2.4,
    §2.5): the stored documents in input order, with an ``_id`` only where newly inserted
    (15.0.7 fills only the upserted ids) or where the client sent one itself. A document that
    matched a stored one, or an earlier one of the batch, comes back without ``_id``: the
    ``nightscout_v1`` output counts created documents by it."""
    from nightbridge.server.api_v1.documents import with_object_id

    result = await _upsert_natural(request, collection, docs)
    echo: list[dict[str, Any]] = []
    for sent, stored, new in zip(docs, result.docs, result.inserted, strict=True):
        if new:
            echo.append(with_object_id(stored))
            continue
        if "_id" not in sent:
            stored.pop("_id", None)
        echo.append(stored)
    return echo
