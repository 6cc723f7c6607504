"""``/treatments`` (cgm-remote-monitor lib/api/treatments, lib/server/treatments.js; §2.5).

POST normalises each document as Nightscout's ``prepareData`` does — ``eventTime`` replaces
``created_at``; ``created_at`` becomes UTC ISO with ms (missing/invalid → now) and ``utcOffset``
its zone; ``glucose targetTop targetBottom carbs insulin duration percent absolute relative
preBolus`` become numbers (JavaScript ``Number``), then falsy ``targetTop targetBottom carbs
insulin percent relative notes preBolus`` and NaN ``absolute duration`` are removed, and a
0/NaN ``glucose`` takes ``glucoseType``/``units`` with it; ``Announcement`` gets
``isAnnouncement``; ``preBolus`` with carbs splits the carbs into a second treatment
``preBolus`` minutes later — then upserts on ``created_at``+``eventType``. Numbers a 64-bit
integer cannot hold (``insulin: 1e30``) and times outside years 1..9999 are 400 naming the field.
GET answers ``carbs``/``insulin`` as numbers (null when absent), as Nightscout does.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.errors import SkippableError
from nightbridge.model import Collection
from nightbridge.model.time import iso_utc
from nightbridge.server.api_v1.access import (
    allowed,
    body_allowed,
    http_date,
    not_modified,
    now_ms,
    params_of,
    store_echo,
    store_natural,
)
from nightbridge.server.api_v1.documents import (
    Doc,
    assign_ids,
    documents_of,
    drop_null_identifier,
    prepare_created_at,
    time_with_offset,
    with_object_id,
)
from nightbridge.server.api_v1.entries import (
    delete_by_id,
    delete_where,
    find_by_object_id,
    id_filters,
)
from nightbridge.server.api_v1.find import INT64_MAX, INT64_MIN, TREATMENTS, build_query
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.deps import LARGE_BODY, get_store
from nightbridge.server.errors import ApiError
from nightbridge.store.queries import Filter

router = APIRouter()
C = Collection.TREATMENTS
_NUMERIC = (
    "glucose",
    "targetTop",
    "targetBottom",
    "carbs",
    "insulin",
    "duration",
    "percent",
    "absolute",
    "relative",
    "preBolus",
)
_DROP_IF_FALSY = ("targetTop", "targetBottom", "carbs", "insulin", "percent", "relative", "notes")
_DROP_IF_NAN = ("absolute", "duration")


def js_number(value: Any) -> float | int:
    """JavaScript ``Number(value)``; integral results as int."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return math.nan
    else:
        return math.nan
    return int(number) if number.is_integer() else number


def _in_range(key: str, number: float | int) -> float | int:
    """``number`` unless it is an integer beyond 64 bits (then 400 naming ``key``)."""
    if isinstance(number, int) and not INT64_MIN <= number <= INT64_MAX:
        raise ApiError(400, "Bad Request", f"{key}: {number:.3g} is out of range")
    return number


def _falsy(value: Any) -> bool:
    return value is None or value == 0 or value == "" or value is False or _nan(value)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def prepare_treatment(doc: Doc, now: int) -> list[Doc]:
    """One posted treatment normalised (plus its preBolus carbs treatment, if any)."""
    if doc.get("eventTime"):
        doc["created_at"] = doc.pop("eventTime")
    created_ms = prepare_created_at(doc, now)
    for key in _NUMERIC:
        if key in doc:
            doc[key] = _in_range(key, js_number(doc[key]))
    for key in (*_DROP_IF_FALSY, "preBolus"):
        if key in doc and _falsy(doc[key]):
            del doc[key]
    for key in _DROP_IF_NAN:
        if key in doc and _nan(doc[key]):
            del doc[key]
    if "glucose" in doc and _falsy(doc["glucose"]):
        for key in ("glucose", "glucoseType", "units"):
            doc.pop(key, None)
    event = doc.get("eventType")
    if event is not None and not isinstance(event, str):
        raise ApiError(400, "Bad Request", "eventType must be a string")
    if event == "Announcement":
        doc["isAnnouncement"] = True
    date = doc.get("date")
    if not isinstance(date, int | float) or isinstance(date, bool):
        doc["date"] = created_ms
    else:
        time_with_offset(date, "date")  # 400 when out of range
    out = [assign_ids(doc)]
    pre_bolus = doc.get("preBolus")
    if isinstance(pre_bolus, int | float) and "carbs" in doc:
        carbs = doc.pop("carbs")
        extra_ms = created_ms + int(pre_bolus * 60_000)
        try:
            extra_at = iso_utc(extra_ms, "preBolus")
        except SkippableError as exc:
            raise ApiError(400, "Bad Request", str(exc)) from None
        extra: Doc = {"created_at": extra_at, "eventType": event, "carbs": carbs}
        if "notes" in doc:
            extra["notes"] = doc["notes"]
        extra["utcOffset"] = doc.get("utcOffset", 0)
        extra["date"] = extra_ms
        out.append(extra)
    return out


def shape(doc: Doc) -> Doc:
    """A stored treatment as v1 GET answers it."""
    with_object_id(doc)
    for key in ("carbs", "insulin"):
        number = js_number(doc[key]) if key in doc else math.nan
        doc[key] = None if _nan(number) else number
    return doc


@router.get("/treatments")
async def list_treatments(request: Request) -> Response:
    await allowed(request, "api:treatments:read")
    query = build_query(params_of(request), TREATMENTS, now_ms(request))
    docs: list[Doc] = [] if query is None else await get_store(request).find(C, query)
    newest = None
    for doc in docs:
        shape(doc)
        if isinstance(doc.get("created_at"), str):
            try:
                ms = time_with_offset(doc["created_at"], "created_at")[0]
            except ApiError:
                continue
            newest = ms if newest is None else max(newest, ms)
    cached = not_modified(request, newest)
    if cached is not None:
        return cached
    headers = {"Last-Modified": http_date(newest)} if newest is not None else None
    return json_response(docs, headers=headers)


@router.post("/treatments")
async def post_treatments(request: Request) -> Response:
    body = await body_allowed(request, "api:treatments:create", LARGE_BODY)
    now = now_ms(request)
    docs = [t for doc in documents_of(body) for t in prepare_treatment(doc, now)]
    if not docs:
        return json_response([])
    return json_response(await store_echo(request, C, docs))


@router.put("/treatments")
async def put_treatment(request: Request) -> Response:
    body = await body_allowed(request, "api:treatments:update", LARGE_BODY)
    if not isinstance(body, dict):
        raise ApiError(400, "Bad Request", "PUT /treatments takes one JSON object")
    doc = drop_null_identifier(dict(body))
    object_id = doc.get("_id")
    if "identifier" not in doc and isinstance(object_id, str) and id_filters(object_id):
        found = await find_by_object_id(request, C, object_id)
        if found:
            doc["identifier"] = found[0]["identifier"]
    client_identifier = "identifier" in doc
    prepared = prepare_treatment(doc, now_ms(request))[0]
    if client_identifier or ("_id" in body and prepared.get("identifier")):
        await get_store(request).upsert(C, [prepared])
        return json_response(with_object_id(prepared))
    stored = await store_natural(request, C, [prepared])
    return json_response(with_object_id(stored[0]))


@router.delete("/treatments")
async def delete_treatments(request: Request) -> Response:
    await allowed(request, "api:treatments:delete")
    query = build_query(params_of(request), TREATMENTS, now_ms(request), for_delete=True)
    return await delete_where(request, C, query)


@router.delete("/treatments/{spec}")
async def delete_treatment(request: Request, spec: str) -> Response:
    await allowed(request, "api:treatments:delete")
    extra: tuple[Filter, ...] = ()
    if spec != "*":
        if id_filters(spec) is not None:
            return await delete_by_id(request, C, spec)
        extra = (Filter("_id", "eq", spec),)
    query = build_query(
        params_of(request), TREATMENTS, now_ms(request), extra=extra, for_delete=True
    )
    return await delete_where(request, C, query)
