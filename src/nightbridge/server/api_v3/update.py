"""UPDATE ``PUT`` and PATCH ``PATCH /api/v3/{collection}/{identifier}``.

PUT replaces the whole document (body parsed and validated as CREATE, the path identifier
forced in); an absent document is inserted (201, needs ``create``). PATCH merges the given
fields, validating only those, without date parsing. Both: 410 for a soft-deleted document,
412 when ``If-Unmodified-Since`` is older than its ``srvModified``, 422 when read-only, 400 when
an immutable field changes (lib/api3/generic/{update,patch}/*.js).
"""

from __future__ import annotations

from fastapi import Request, Response

from nightbridge.server.api_v3.access import caller, require, subject_name
from nightbridge.server.api_v3.create import insert, modified_headers, read_body, replace
from nightbridge.server.api_v3.documents import (
    SERVER_FIELDS,
    Doc,
    check_modifiable,
    parse_date,
    validate_common,
    validate_patch,
)
from nightbridge.server.api_v3.read import header_ms
from nightbridge.server.api_v3.responses import MSG_DATABASE, V3Error, json_response
from nightbridge.server.api_v3.storage import storage_of


def check_unmodified_since(request: Request, stored: Doc) -> None:
    """410 for a soft-deleted document; 412 if it changed after ``If-Unmodified-Since``."""
    if stored.get("isValid") is False:
        raise V3Error(410)
    since = header_ms(request.headers.get("if-unmodified-since"))
    modified = stored.get("srvModified")
    if since is not None and isinstance(modified, int | float) and since // 1000 < modified // 1000:
        raise V3Error(412)


async def update(request: Request, collection: str, identifier: str) -> Response:
    principal = await caller(request, collection, "update")
    doc = await read_body(request)
    parse_date(doc)
    doc["identifier"] = identifier
    validate_common(doc)
    storage = storage_of(request)
    stored = await storage.get(collection, identifier)
    if stored is None:
        require(principal, collection, "create")
        inserted = await insert(storage, collection, doc, principal)
        if inserted is not None:
            return inserted
        # A concurrent request created it after we looked: this PUT replaces that one.
        stored = await storage.get(collection, identifier)
        if stored is None:
            raise V3Error(500, MSG_DATABASE)
    check_unmodified_since(request, stored)
    written, headers = await replace(
        storage, collection, doc, stored, principal, deduplication=False
    )
    headers.pop("Location", None)
    return json_response(200, {"status": 200, "lastModified": written.get("srvModified")}, headers)


async def patch(request: Request, collection: str, identifier: str) -> Response:
    principal = await caller(request, collection, "update")
    changes = await read_body(request)
    storage = storage_of(request)
    stored = await storage.get(collection, identifier)
    if stored is None:
        raise V3Error(404)
    check_unmodified_since(request, stored)
    check_modifiable(changes, stored)
    validate_patch(changes)
    merged = {**stored, **{k: v for k, v in changes.items() if k not in SERVER_FIELDS}}
    merged["identifier"] = stored["identifier"]
    subject = subject_name(principal)
    if subject:
        merged["modifiedBy"] = subject
    written = await storage.save(collection, merged)
    headers = modified_headers(collection, identifier, written)
    headers.pop("Location", None)
    return json_response(200, {"status": 200}, headers)
