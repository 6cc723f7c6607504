"""CREATE ``POST /api/v3/{collection}`` with de-duplication (lib/api3/generic/create/*.js).

The body is one JSON object: dates are parsed, ``date``/``utcOffset``/``app`` validated, and the
``identifier`` is the client's or, when absent, the UUID v5 that identity/ computes. A document
with the same identifier, or (for stored documents without one) the same natural key, is
replaced: 200 ``isDeduplication`` (needs ``update`` too). Otherwise the document is inserted:
201 with ``Location`` and ``Last-Modified``. A malformed body is 400, never 500.

Concurrent creates of one identifier: the insert itself reports whether it created the row
(``INSERT .. ON CONFLICT DO NOTHING`` on the database's unique key, which holds across
processes too), so exactly one answers 201; the others de-duplicate against its document (200).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request, Response

from nightbridge.identity import calculate_identifier
from nightbridge.server.api_v3.access import Principal, caller, require, subject_name
from nightbridge.server.api_v3.documents import (
    SERVER_FIELDS,
    Doc,
    check_identifier,
    check_modifiable,
    parse_date,
    validate_common,
)
from nightbridge.server.api_v3.responses import (
    MSG_BAD_BODY,
    MSG_DATABASE,
    V3Error,
    http_date,
    json_response,
)
from nightbridge.server.api_v3.storage import V3Storage, storage_of
from nightbridge.server.deps import LARGE_BODY
from nightbridge.server.deps import read_body as read_limited


async def read_body(request: Request) -> Doc:
    """The body as one non-empty JSON object, else 400 ``Bad or missing request body``.

    Bodies over 50 MB (cgm-remote-monitor's body-parser limit) answer 413.
    """
    raw = await read_limited(request, LARGE_BODY)
    try:
        body: Any = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise V3Error(400, MSG_BAD_BODY) from None
    if not isinstance(body, dict) or not body:
        raise V3Error(400, MSG_BAD_BODY)
    return body


def resolve_identifier(doc: Doc) -> str:
    """Keep a client identifier (a non-empty string); compute the Nightscout one otherwise."""
    if "identifier" in doc:
        return check_identifier(doc["identifier"])
    device = doc.get("device")
    event_type = doc.get("eventType")
    return calculate_identifier(
        None if device is None else _js_string(device),
        int(doc["date"]),
        _js_string(event_type) if event_type else None,
    )


def _js_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def modified_headers(collection: str, identifier: str, stored: Doc) -> dict[str, str]:
    """``Location`` (the identifier percent-encoded: headers are Latin-1) and
    ``Last-Modified`` of a written document."""
    headers = {"Location": f"/api/v3/{collection}/{quote(identifier, safe='')}"}
    modified = stored.get("srvModified")
    if isinstance(modified, int | float):
        headers["Last-Modified"] = http_date(int(modified))
    return headers


#: Rounds of look-up and insert before giving up: another round is only needed when a
#: concurrent request inserted the identifier and then removed it again in between.
_ATTEMPTS = 3


async def insert(
    storage: V3Storage, collection: str, doc: Doc, principal: Principal
) -> Response | None:
    """Store a new document: 201 ``{status, identifier, lastModified}``; None (nothing
    written) when a document with this identifier exists, e.g. inserted by a concurrent
    request after the caller looked."""
    for field in SERVER_FIELDS:
        doc.pop(field, None)
    subject = subject_name(principal)
    if subject:
        doc["subject"] = subject
    stored = await storage.create(collection, doc)
    if stored is None:
        return None
    identifier = str(doc["identifier"])
    body = {"status": 201, "identifier": identifier, "lastModified": stored.get("srvModified")}
    return json_response(201, body, modified_headers(collection, identifier, stored))


async def replace(
    storage: V3Storage,
    collection: str,
    doc: Doc,
    stored: Doc,
    principal: Principal,
    *,
    deduplication: bool,
) -> tuple[Doc, dict[str, str]]:
    """Replace ``stored`` by ``doc`` keeping ``srvCreated``; returns (stored doc, headers)."""
    check_modifiable(doc, stored, deduplication=deduplication)
    for field in SERVER_FIELDS:
        doc.pop(field, None)
    if "srvCreated" in stored:
        doc["srvCreated"] = stored["srvCreated"]
    subject = subject_name(principal)
    if subject:
        doc["subject"] = subject
    old = stored.get("identifier")
    written = await storage.save(collection, doc, replaces=old if isinstance(old, str) else None)
    return written, modified_headers(collection, str(doc["identifier"]), written)


async def create(request: Request, collection: str) -> Response:
    principal = await caller(request, collection, "create")
    doc = await read_body(request)
    parse_date(doc)
    validate_common(doc)
    doc["identifier"] = resolve_identifier(doc)
    storage = storage_of(request)
    for _ in range(_ATTEMPTS):
        existing = await storage.find_existing(collection, doc)
        if existing is None:
            inserted = await insert(storage, collection, doc, principal)
            if inserted is not None:
                return inserted
            continue  # a concurrent create won: de-duplicate against its document
        return await deduplicate(storage, collection, doc, existing, principal)
    raise V3Error(500, MSG_DATABASE)


async def deduplicate(
    storage: V3Storage, collection: str, doc: Doc, existing: Doc, principal: Principal
) -> Response:
    """Replace ``existing`` by ``doc``: 200 ``isDeduplication`` (needs ``update``)."""
    require(principal, collection, "update")
    written, headers = await replace(
        storage, collection, doc, existing, principal, deduplication=True
    )
    body: dict[str, Any] = {
        "status": 200,
        "identifier": doc["identifier"],
        "lastModified": written.get("srvModified"),
        "isDeduplication": True,
    }
    old = existing.get("identifier")
    if old is not None and old != doc["identifier"]:
        body["deduplicatedIdentifier"] = old
    return json_response(200, body, headers)
