"""READ ``GET /api/v3/{collection}/{identifier}`` (lib/api3/generic/read/operation.js).

404 ``{status:404}`` when absent, 410 ``{status:410}`` when soft-deleted, 304 (empty) when the
``If-Modified-Since`` time is not older than the document's ``srvModified`` (both in seconds),
else 200 ``{status, result}`` with ``Last-Modified``. ``fields`` projects the result.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from fastapi import Request, Response

from nightbridge.model.time import to_ms
from nightbridge.server.api_v3.access import caller
from nightbridge.server.api_v3.documents import normalise, parse_fields, project
from nightbridge.server.api_v3.responses import V3Error, http_date, json_response, result
from nightbridge.server.api_v3.storage import storage_of


def header_ms(value: str | None) -> int | None:
    """Epoch ms of an HTTP-date header value, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return to_ms(parsed) if parsed.tzinfo is not None else None


async def read(request: Request, collection: str, identifier: str) -> Response:
    await caller(request, collection, "read")
    stored = await storage_of(request).get(collection, identifier)
    if stored is None:
        raise V3Error(404)
    if stored.get("isValid") is False:
        raise V3Error(410)
    doc = normalise(stored, collection)
    modified = doc.get("srvModified")
    headers: dict[str, str] = {}
    if isinstance(modified, int | float):
        headers["Last-Modified"] = http_date(int(modified))
        since = header_ms(request.headers.get("if-modified-since"))
        if since is not None and since // 1000 >= int(modified) // 1000:
            return json_response(304, None, headers)
    fields = parse_fields(request.query_params.get("fields"))
    return result(project(doc, fields), headers)
