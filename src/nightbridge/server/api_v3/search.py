"""SEARCH ``GET /api/v3/{collection}`` (lib/api3/generic/search/*.js).

Filters, ``sort``/``sort$desc``, ``limit`` (default and maximum 1000), ``skip`` and ``fields`` are
parsed by filters.py; soft-deleted documents are left out. 200 ``{status, result:[...]}``.
SEARCH of ``settings`` needs ``api:settings:admin``. Without ``fields`` the stored JSON is
spliced into the answer (api_v1.splice) instead of being decoded and re-encoded.
"""

from __future__ import annotations

from fastapi import Request, Response

from nightbridge.server.api_v1.splice import json_documents
from nightbridge.server.api_v3.access import caller, read_operation
from nightbridge.server.api_v3.documents import normalise, project
from nightbridge.server.api_v3.filters import parse_search
from nightbridge.server.api_v3.responses import raw_result, result
from nightbridge.server.api_v3.storage import storage_of


async def search(request: Request, collection: str) -> Response:
    await caller(request, collection, read_operation(collection))
    spec = parse_search(list(request.query_params.multi_items()))
    storage = storage_of(request)
    if spec.fields is None:
        raws = await storage.search_raw(collection, spec)
        return raw_result(json_documents(raws, object_id=False))
    docs = await storage.search(collection, spec)
    return result([project(normalise(d, collection), spec.fields) for d in docs])
