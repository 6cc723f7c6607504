"""HISTORY ``GET /api/v3/{collection}/history[/{lastModified}]`` (generic/history/operation.js).

The starting time is the ``Last-Modified`` request header (HTTP date, whole seconds, documents
with ``srvModified >=`` it) or the path value (any time, ``srvModified >`` it). Results are
sorted by ``srvModified`` ascending and include soft-deleted documents (``isValid: false``).
A non-empty answer carries ``Last-Modified`` and ``ETag: W/"<max srvModified>"``.
"""

from __future__ import annotations

from fastapi import Request, Response

from nightbridge.server.api_v3.access import caller, read_operation
from nightbridge.server.api_v3.documents import normalise, parse_fields, parse_moment, project
from nightbridge.server.api_v3.filters import parse_limit
from nightbridge.server.api_v3.read import header_ms
from nightbridge.server.api_v3.responses import MSG_BAD_LAST_MODIFIED, V3Error, http_date, result
from nightbridge.server.api_v3.storage import storage_of


async def _history(
    request: Request, collection: str, since_ms: int | None, *, inclusive: bool
) -> Response:
    await caller(request, collection, read_operation(collection))
    if since_ms is None:
        raise V3Error(400, MSG_BAD_LAST_MODIFIED)
    limit = parse_limit(request.query_params.get("limit"))
    fields = parse_fields(request.query_params.get("fields"))
    stored = await storage_of(request).history(
        collection, since_ms, inclusive=inclusive, limit=limit
    )
    docs = [normalise(d, collection) for d in stored]
    headers: dict[str, str] = {}
    times = [int(d["srvModified"]) for d in docs if isinstance(d.get("srvModified"), int | float)]
    if times:
        newest = max(times)
        headers["Last-Modified"] = http_date(newest)
        headers["ETag"] = f'W/"{newest}"'
    return result([project(d, fields) for d in docs], headers)


async def history_since_header(request: Request, collection: str) -> Response:
    since = header_ms(request.headers.get("last-modified"))
    floored = None if since is None else since - since % 1000
    return await _history(request, collection, floored, inclusive=True)


async def history_since(request: Request, collection: str, last_modified: str) -> Response:
    moment = parse_moment(last_modified)
    return await _history(
        request, collection, None if moment is None else moment[0], inclusive=False
    )
