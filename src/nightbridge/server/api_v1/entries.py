"""``/entries``: CGM and meter readings (cgm-remote-monitor lib/api/entries; reference §2.4).

GET list/current/{spec} with ``find``/``count`` (4-day default window, 10 by default), JSON, CSV,
TSV or text; ``If-Modified-Since`` → 304. POST one object (needs ``date``) or an array: upsert on
``sysTime``+``type``, 200 with the stored documents in input order (``_id`` only on newly
inserted ones, as 15.0.7). DELETE by ``find`` or spec
(an id, a type, or ``*``). ``{spec}`` is an id (24 hex or a UUID identifier) or a type.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model import Collection
from nightbridge.server.api_v1.access import (
    allowed,
    body_allowed,
    http_date,
    not_modified,
    now_ms,
    params_of,
    store_echo,
)
from nightbridge.server.api_v1.cache import Rendered, cache_key, response_cache
from nightbridge.server.api_v1.documents import (
    Doc,
    documents_of,
    prepare_entry,
    with_object_id,
)
from nightbridge.server.api_v1.find import ENTRIES, build_query, is_object_id, is_uuid
from nightbridge.server.api_v1.formats import Format, json_response, negotiate, render_rows
from nightbridge.server.api_v1.splice import json_documents, newest_date
from nightbridge.server.deps import LARGE_BODY, dumps, get_store
from nightbridge.store.codec import decode
from nightbridge.store.documents import RawDoc
from nightbridge.store.queries import DocQuery, Filter

router = APIRouter()
C = Collection.ENTRIES


def id_filters(spec: str) -> tuple[Filter, ...] | None:
    """Filters selecting the document ``spec`` names, or None when spec is not an id."""
    if is_uuid(spec):
        return (Filter("identifier", "eq", spec),)
    if is_object_id(spec):
        return (Filter("_id", "eq", spec.lower()),)
    return None


async def find_by_object_id(request: Request, collection: str, spec: str) -> list[Doc]:
    """Documents whose ``_id`` is ``spec``; falls back to identifiers it was derived from."""
    store = get_store(request)
    filters = id_filters(spec)
    assert filters is not None
    docs: list[Doc] = await store.find(collection, DocQuery(filters=filters, limit=1))
    if not docs and is_object_id(spec):
        h = spec.lower()
        prefix = f"^{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:24]}"
        docs = await store.find(
            collection, DocQuery(filters=(Filter("identifier", "re", prefix),), limit=1)
        )
    return docs


def render_docs(request: Request, docs: list[Doc], kind: str | None) -> Rendered:
    """Entries as the body of the negotiated format (``_id`` and requested type filled)."""
    newest: int | None = None
    for doc in docs:
        with_object_id(doc)
        if kind:
            doc.setdefault("type", kind)
        date = doc.get("date")
        if isinstance(date, int | float) and (newest is None or date > newest):
            newest = int(date)
    fmt = negotiate(request)
    if fmt in (Format.CSV, Format.TSV, Format.TEXT):
        response = render_rows(docs, fmt)
        return Rendered(bytes(response.body), response.media_type or "text/plain", newest)
    return Rendered(dumps(docs), "application/json", newest)


def render_raw(request: Request, raws: list[RawDoc]) -> Rendered:
    """``render_docs`` for undecoded documents: JSON is spliced (api_v1.splice), the row
    formats decode."""
    fmt = negotiate(request)
    if fmt in (Format.CSV, Format.TSV, Format.TEXT):
        docs = [
            decode(r.body, r.identifier, r.srv_created, r.srv_modified, r.is_valid) for r in raws
        ]
        return render_docs(request, docs, None)
    body = json_documents(raws, object_id=True).encode()
    return Rendered(body, "application/json", newest_date(raws))


def respond(request: Request, rendered: Rendered) -> Response:
    """200 with the rendered body and ``Last-Modified``, or 304 for ``If-Modified-Since``."""
    cached = not_modified(request, rendered.newest_ms)
    if cached is not None:
        return cached
    headers = {"Last-Modified": http_date(rendered.newest_ms)} if rendered.newest_ms else None
    return Response(rendered.body, headers=headers, media_type=rendered.media_type)


def _respond(request: Request, docs: list[Doc], kind: str | None) -> Response:
    return respond(request, render_docs(request, docs, kind))


async def _list(request: Request, extra: tuple[Filter, ...]) -> Response:
    await allowed(request, "api:entries:read")

    async def render() -> Rendered:
        query = build_query(params_of(request), ENTRIES, now_ms(request), extra=extra)
        raws = [] if query is None else await get_store(request).find_raw(C, query)
        return render_raw(request, raws)

    return respond(request, await response_cache(request).get(cache_key(request, C), render))


@router.get("/entries")
async def list_entries(request: Request) -> Response:
    return await _list(request, ())


@router.get("/entries/current")
async def current_entry(request: Request) -> Response:
    await allowed(request, "api:entries:read")

    async def render() -> Rendered:
        query = build_query({"count": "1"}, ENTRIES, now_ms(request))
        assert query is not None
        return render_raw(request, await get_store(request).find_raw(C, query))

    return respond(request, await response_cache(request).get(cache_key(request, C), render))


@router.get("/entries/{spec}")
async def entries_by_spec(request: Request, spec: str) -> Response:
    if id_filters(spec) is not None:
        await allowed(request, "api:entries:read")
        docs = await find_by_object_id(request, C, spec)
        if not docs:
            return json_response(
                {"status": 404, "message": "Not Found", "description": "No such id"}, status=404
            )
        return _respond(request, docs, None)
    return await _list(request, (Filter("type", "eq", spec),))


async def _prepared(request: Request) -> list[Doc]:
    body = await body_allowed(request, "api:entries:create", LARGE_BODY)
    now = now_ms(request)
    return [prepare_entry(doc, now) for doc in documents_of(body, single_needs="date")]


@router.post("/entries")
async def post_entries(request: Request) -> Response:
    docs = await _prepared(request)
    if not docs:
        return json_response([])
    return json_response(await store_echo(request, C, docs))


@router.post("/entries/preview")
async def preview_entries(request: Request) -> Response:
    return json_response(await _prepared(request))


def delete_result(count: int) -> Response:
    """The delete answer of both MongoDB driver generations (``n/ok`` and 5.x)."""
    return json_response({"acknowledged": True, "deletedCount": count, "n": count, "ok": 1})


async def delete_where(request: Request, collection: str, query: DocQuery | None) -> Response:
    """Delete what ``query`` selects (the caller has checked the permission)."""
    response_cache(request).invalidate(collection)
    if query is None:
        return delete_result(0)
    return delete_result(await get_store(request).delete_matching(collection, query))


async def delete_by_id(request: Request, collection: str, spec: str) -> Response:
    """Remove the document named by ``spec`` (an ``_id`` or identifier) for good."""
    store = get_store(request)
    response_cache(request).invalidate(collection)
    count = 0
    for doc in await find_by_object_id(request, collection, spec):
        count += int(await store.delete(collection, doc["identifier"], permanent=True))
    return delete_result(count)


@router.delete("/entries")
async def delete_entries(request: Request) -> Response:
    await allowed(request, "api:entries:delete")
    query = build_query(params_of(request), ENTRIES, now_ms(request), for_delete=True)
    return await delete_where(request, C, query)


@router.delete("/entries/{spec}")
async def delete_entries_spec(request: Request, spec: str) -> Response:
    await allowed(request, "api:entries:delete")
    if id_filters(spec) is not None:
        return await delete_by_id(request, C, spec)
    extra: tuple[Filter, ...] = () if spec == "*" else (Filter("type", "eq", spec),)
    query = build_query(params_of(request), ENTRIES, now_ms(request), extra=extra, for_delete=True)
    return await delete_where(request, C, query)
