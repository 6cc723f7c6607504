"""``/devicestatus`` (cgm-remote-monitor lib/api/devicestatus; reference §2.6).

POST: object or array; an ``_id`` that is not 24 hex → 400 ``Invalid _id format`` (15.0.7);
``created_at`` → UTC ISO (missing/invalid → now) with ``utcOffset``; OpenAPS prediction arrays
cut to 288 values; then inserted without de-duplication, as Nightscout does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model import Collection
from nightbridge.server.api_v1.access import allowed, body_allowed, now_ms, params_of, store_natural
from nightbridge.server.api_v1.documents import (
    Doc,
    assign_ids,
    documents_of,
    prepare_created_at,
    with_object_id,
)
from nightbridge.server.api_v1.entries import delete_by_id, delete_where, id_filters
from nightbridge.server.api_v1.find import DEVICESTATUS, build_query, is_object_id
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.deps import SMALL_BODY, get_store
from nightbridge.server.errors import ApiError

router = APIRouter()
C = Collection.DEVICESTATUS
PREDICTIONS_MAX_SIZE = 288


def check_object_id(doc: Doc) -> None:
    """400 ``Invalid _id format`` for an ``_id`` that is not 24 hex (15.0.7)."""
    raw = doc.get("_id")
    if raw is not None and not (isinstance(raw, str) and is_object_id(raw)):
        raise ApiError(400, "Invalid _id format", f"_id {raw!r} is not a 24-hex ObjectId")


def _truncate_predictions(doc: Doc) -> None:
    openaps = doc.get("openaps")
    if not isinstance(openaps, dict):
        return
    for part in ("suggested", "enacted"):
        block = openaps.get(part)
        preds: Any = block.get("predBGs") if isinstance(block, dict) else None
        if isinstance(preds, dict):
            for curve in ("IOB", "COB", "UAM", "ZT"):
                values = preds.get(curve)
                if isinstance(values, list) and len(values) > PREDICTIONS_MAX_SIZE:
                    preds[curve] = values[:PREDICTIONS_MAX_SIZE]


def prepare_devicestatus(doc: Doc, now: int) -> Doc:
    check_object_id(doc)
    prepare_created_at(doc, now)
    _truncate_predictions(doc)
    return assign_ids(doc)


@router.get("/devicestatus")
async def list_devicestatus(request: Request) -> Response:
    await allowed(request, "api:devicestatus:read")
    query = build_query(params_of(request), DEVICESTATUS, now_ms(request))
    docs: list[Doc] = [] if query is None else await get_store(request).find(C, query)
    return json_response([with_object_id(d) for d in docs])


@router.post("/devicestatus")
async def post_devicestatus(request: Request) -> Response:
    body = await body_allowed(request, "api:devicestatus:create", SMALL_BODY)
    now = now_ms(request)
    docs = [prepare_devicestatus(doc, now) for doc in documents_of(body)]
    if not docs:
        return json_response([])
    stored = await store_natural(request, C, docs)
    return json_response([with_object_id(d) for d in stored])


@router.delete("/devicestatus")
async def delete_devicestatus(request: Request) -> Response:
    await allowed(request, "api:devicestatus:delete")
    query = build_query(params_of(request), DEVICESTATUS, now_ms(request), for_delete=True)
    return await delete_where(request, C, query)


@router.delete("/devicestatus/{spec}")
async def delete_one_devicestatus(request: Request, spec: str) -> Response:
    await allowed(request, "api:devicestatus:delete")
    if spec != "*":
        if id_filters(spec) is None:
            raise ApiError(400, "Invalid _id format", f"{spec!r} is not a 24-hex ObjectId")
        return await delete_by_id(request, C, spec)
    query = build_query(params_of(request), DEVICESTATUS, now_ms(request), for_delete=True)
    return await delete_where(request, C, query)
