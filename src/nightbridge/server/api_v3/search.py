"""SEARCH ``GET /api/v3/{collection}`` (lib/api3/generic/search/*.js).

Filters, ``sort``/``sort$desc``, ``limit`` (default and maximum 1000), ``skip`` and ``fields`` are
parsed by filters.py; soft-deleted documents are left out. 200 ``{status, result:[...]}``.
SEARCH of ``settings`` needs ``api:settings:admin``.
"""

from __future__ import annotations

from fastapi import Request, Response

from nightbridge.server.api_v3.access import caller, read_operation
from nightbridge.server.api_v3.documents import normalise, project
from nightbridge.server.api_v3.filters import parse_search
from nightbridge.server.api_v3.responses import result
from nightbridge.server.api_v3.storage import storage_of


async def search(request: Request, collection: str) -> Response:
    await caller(request, collection, read_operation(collection))
    spec = parse_search(list(request.query_params.multi_items()))
    docs = await storage_of(request).search(collection, spec)
    return result([project(normalise(d, collection), spec.fields) for d in docs])
