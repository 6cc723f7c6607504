"""Nightscout API v3 (``/api/v3``) over the store: ``router`` is mounted by server/app.py.

One module per operation family: search, create, read, update (PUT and PATCH), delete,
history, meta (version, status, lastModified). Every answer uses the v3 shapes of
cgm-remote-monitor 15.0.7: ``{status, result}`` on success, ``{status, message}`` on error, and
404 ``Bad operation or collection`` for anything that is not a v3 route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from nightbridge.server.api_v3 import create, delete, history, meta, read, search, update
from nightbridge.server.api_v3.access import check_collection
from nightbridge.server.api_v3.documents import check_identifier
from nightbridge.server.api_v3.responses import (
    MSG_BAD_OPERATION,
    MSG_UNSUPPORTED_FORMAT,
    V3Error,
    V3Route,
)

router = APIRouter(route_class=V3Route, tags=["API v3"])


def _collection(name: str) -> str:
    """A v3 collection name; ``entries.json`` is JSON, other extensions (csv, xml) answer 406."""
    base, dot, ext = name.partition(".")
    if not dot:
        return check_collection(name)
    check_collection(base)
    if ext != "json":
        raise V3Error(406, MSG_UNSUPPORTED_FORMAT)
    return base


@router.get("/version")
async def get_version(request: Request) -> Response:
    """Public: server and API version, server time, storage."""
    return await meta.version(request)


@router.get("/status")
async def get_status(request: Request) -> Response:
    """Version plus the caller's permissions per collection."""
    return await meta.status(request)


@router.get("/lastModified")
async def get_last_modified(request: Request) -> Response:
    """Newest modification time (epoch ms) of every collection the caller can read."""
    return await meta.last_modified(request)


@router.get("/{collection}/history")
async def get_history(request: Request, collection: str) -> Response:
    """Changes since the ``Last-Modified`` request header (inclusive)."""
    return await history.history_since_header(request, _collection(collection))


@router.get("/{collection}/history/{last_modified}")
async def get_history_since(request: Request, collection: str, last_modified: str) -> Response:
    """Changes after ``last_modified`` (epoch ms or any date)."""
    return await history.history_since(request, _collection(collection), last_modified)


@router.get("/{collection}")
async def get_search(request: Request, collection: str) -> Response:
    """SEARCH with filters, sort, limit, skip and fields."""
    return await search.search(request, _collection(collection))


@router.post("/{collection}")
async def post_create(request: Request, collection: str) -> Response:
    """CREATE one document (201) or de-duplicate it (200 ``isDeduplication``)."""
    return await create.create(request, _collection(collection))


@router.get("/{collection}/{identifier}")
async def get_read(request: Request, collection: str, identifier: str) -> Response:
    """READ one document (404 absent, 410 deleted, 304 not modified)."""
    name = _collection(collection)
    return await read.read(request, name, check_identifier(identifier))


@router.put("/{collection}/{identifier}")
async def put_update(request: Request, collection: str, identifier: str) -> Response:
    """UPDATE (replace) one document; inserts it (201) when absent."""
    name = _collection(collection)
    return await update.update(request, name, check_identifier(identifier))


@router.patch("/{collection}/{identifier}")
async def patch_update(request: Request, collection: str, identifier: str) -> Response:
    """PATCH (merge) one document."""
    name = _collection(collection)
    return await update.patch(request, name, check_identifier(identifier))


@router.delete("/{collection}/{identifier}")
async def delete_document(request: Request, collection: str, identifier: str) -> Response:
    """DELETE one document, softly unless ``permanent=true``."""
    name = _collection(collection)
    return await delete.delete(request, name, check_identifier(identifier))


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def bad_operation(path: str) -> Response:
    """Anything else under /api/v3: 404 ``Bad operation or collection``."""
    raise V3Error(404, MSG_BAD_OPERATION)


__all__ = ["router"]
