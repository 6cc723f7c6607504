"""``/profile`` and ``/food`` (cgm-remote-monitor lib/api/{profile,food}; reference §2.7, §2.8).

Profile: GET newest first by ``startDate`` (count 10, no date window), ``/profile/current`` the
newest document exactly as stored (or null); POST object or array, ``created_at`` defaulted, no
de-duplication; PUT replaces by ``_id`` (400 when it is not 24 hex, a new one when absent);
DELETE by ``_id`` → ``{}``. Food: GET all (``/food/quickpicks``, ``/food/regular`` filtered),
POST/PUT like profile, DELETE → ``{}``.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model import Collection
from nightbridge.model.time import iso_utc
from nightbridge.server.api_v1.access import allowed, body_allowed, now_ms, params_of
from nightbridge.server.api_v1.devicestatus import check_object_id
from nightbridge.server.api_v1.documents import (
    Doc,
    assign_ids,
    documents_of,
    drop_null_identifier,
    time_with_offset,
    with_object_id,
)
from nightbridge.server.api_v1.entries import delete_by_id, find_by_object_id, id_filters
from nightbridge.server.api_v1.find import parse_count
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.deps import SMALL_BODY, get_store
from nightbridge.server.errors import ApiError
from nightbridge.store.queries import DocQuery, Filter

router = APIRouter()
_NEWEST = (("startDate", True), ("created_at", True))


def _date_of(doc: Doc, now: int) -> int:
    for key in ("startDate", "created_at", "date"):
        value = doc.get(key)
        if value not in (None, ""):
            try:
                return time_with_offset(value, key)[0]
            except ApiError:
                continue
    return now


def _prepare(doc: Doc, now: int, *, stamp_created: bool) -> Doc:
    drop_null_identifier(doc)
    check_object_id(doc)
    if stamp_created or "created_at" not in doc:
        doc["created_at"] = iso_utc(now)
    if "_id" not in doc and "identifier" not in doc:
        doc["_id"] = secrets.token_hex(12)
    assign_ids(doc)
    if "identifier" not in doc:
        doc["identifier"] = doc["_id"]
    if not isinstance(doc.get("date"), int | float):
        doc["date"] = _date_of(doc, now)
    return doc


async def _replace(request: Request, collection: str, doc: Doc) -> Doc:
    drop_null_identifier(doc)
    raw = doc.get("_id")
    if isinstance(raw, str) and id_filters(raw) is not None and "identifier" not in doc:
        found = await find_by_object_id(request, collection, raw)
        if found:
            doc["identifier"] = found[0]["identifier"]
    prepared = _prepare(doc, now_ms(request), stamp_created=False)
    await get_store(request).upsert(collection, [prepared])
    return prepared


async def _delete(request: Request, collection: str, spec: str) -> Response:
    filters = id_filters(spec)
    if filters is None:
        raise ApiError(400, "Invalid _id format", f"{spec!r} is not a 24-hex ObjectId")
    await delete_by_id(request, collection, spec)
    return json_response({})


@router.get("/profile")
async def list_profiles(request: Request) -> Response:
    await allowed(request, "api:profile:read")
    count = parse_count(params_of(request), 10)
    docs = await get_store(request).find(
        Collection.PROFILE, DocQuery(sort=_NEWEST, limit=count or None)
    )
    return json_response([with_object_id(d) for d in docs])


@router.get("/profile/current")
async def current_profile(request: Request) -> Response:
    await allowed(request, "api:profile:read")
    docs = await get_store(request).find(Collection.PROFILE, DocQuery(sort=_NEWEST, limit=1))
    return json_response(with_object_id(docs[0]) if docs else None)


@router.post("/profile")
async def post_profile(request: Request) -> Response:
    return await _post(request, Collection.PROFILE, stamp_created=False)


@router.put("/profile")
async def put_profile(request: Request) -> Response:
    return await _put(request, Collection.PROFILE)


@router.delete("/profile/{spec}")
async def delete_profile(request: Request, spec: str) -> Response:
    await allowed(request, "api:profile:delete")
    return await _delete(request, Collection.PROFILE, spec)


async def _foods(request: Request, extra: tuple[Filter, ...]) -> Response:
    await allowed(request, "api:food:read")
    docs = await get_store(request).find(Collection.FOOD, DocQuery(filters=extra))
    return json_response([with_object_id(d) for d in docs])


@router.get("/food")
async def list_food(request: Request) -> Response:
    return await _foods(request, ())


@router.get("/food/quickpicks")
async def food_quickpicks(request: Request) -> Response:
    return await _foods(request, (Filter("type", "eq", "quickpick"), Filter("hidden", "ne", True)))


@router.get("/food/regular")
async def food_regular(request: Request) -> Response:
    return await _foods(request, (Filter("type", "eq", "food"),))


@router.post("/food")
async def post_food(request: Request) -> Response:
    return await _post(request, Collection.FOOD, stamp_created=True)


@router.put("/food")
async def put_food(request: Request) -> Response:
    return await _put(request, Collection.FOOD)


async def _post(request: Request, collection: Collection, *, stamp_created: bool) -> Response:
    """Insert one document or a list; answers what was stored (an object for an object)."""
    body = await body_allowed(request, f"api:{collection}:create", SMALL_BODY)
    now = now_ms(request)
    docs = [_prepare(d, now, stamp_created=stamp_created) for d in documents_of(body)]
    if docs:
        await get_store(request).upsert(collection, docs)
    return json_response(docs if isinstance(body, list) else (docs[0] if docs else []))


async def _put(request: Request, collection: Collection) -> Response:
    """Replace one document (PUT takes exactly one JSON object)."""
    body = await body_allowed(request, f"api:{collection}:update", SMALL_BODY)
    if not isinstance(body, dict):
        raise ApiError(400, "Bad Request", f"PUT /{collection} takes one JSON object")
    return json_response(await _replace(request, collection, dict(body)))


@router.delete("/food/{spec}")
async def delete_food(request: Request, spec: str) -> Response:
    await allowed(request, "api:food:delete")
    return await _delete(request, Collection.FOOD, spec)
