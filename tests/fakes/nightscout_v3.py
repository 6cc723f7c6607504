"""API v3 and the v2 JWT request of the fake Nightscout (shared/reference/nightscout-api.md §3-4).

CREATE: ``date`` parsed (``created_at`` fallback) and required > 2000-01-01, ``utcOffset``
defaulted, ``app`` required, identifier kept or computed (UUID v5, ``NightscoutRocks!``). An
existing document with that identifier, or one without identifier matching the collection's
fallback fields, is replaced: 200 ``isDeduplication``; otherwise 201 with ``Location``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model.time import iso_utc
from tests.fakes.nightscout_auth import Subject
from tests.fakes.nightscout_query import QueryError, matches, parse_time, v3_conditions
from tests.fakes.nightscout_store import FALLBACK_FIELDS
from tests.fakes.nightscout_v1 import UNAUTHORIZED, json_response, status_body

if TYPE_CHECKING:
    from tests.fakes.nightscout import FakeNightscout

V3_COLLECTIONS = ("devicestatus", "entries", "food", "profile", "settings", "treatments")
NAMESPACE = uuid.UUID(bytes=b"NightscoutRocks!")
MIN_DATE = 946_684_800_000
MAX_LIMIT = 1000
IMMUTABLE = ("date", "utcOffset", "eventType", "device", "app")


def authorization_request(fake: FakeNightscout, token: str) -> Response:
    """``GET /api/v2/authorization/request/<access token or JWT>``: 200 with a JWT, or 401."""
    answer = fake.auth.issue(token)
    return json_response(answer) if answer else status_body(401, *UNAUTHORIZED)


async def handle(fake: FakeNightscout, request: Request, rest: str) -> Response:
    """Dispatch ``/api/v3/<rest>``."""
    parts = [p for p in rest.strip("/").split("/") if p]
    if parts == ["version"]:
        return json_response({"status": 200, "result": fake.version()})
    if not parts or parts[0] not in V3_COLLECTIONS or len(parts) > 2:
        return status_body(404, "Bad operation or collection")
    subject = fake.auth.v3_subject(request)
    if isinstance(subject, str):
        return status_body(401, subject)
    name = parts[0]
    if request.method == "POST" and len(parts) == 1:
        return await create(fake, subject, name, request)
    if request.method == "GET":
        if not subject.can(f"api:{name}:read"):
            return status_body(403, f"Missing permission api:{name}:read")
        if len(parts) == 2:
            return read(fake, name, parts[1], request)
        return search(fake, name, request)
    return status_body(404, "Bad operation or collection")


def calculate_identifier(doc: dict[str, Any]) -> str:
    key = f"{'undefined' if doc.get('device') is None else doc['device']}_{doc['date']}"
    if doc.get("eventType"):
        key += f"_{doc['eventType']}"
    return str(uuid.uuid5(NAMESPACE, key))


def _parse_date(doc: dict[str, Any]) -> None:
    raw = doc.get("date", doc.get("created_at"))
    offset: int | None = None
    if isinstance(raw, bool) or raw is None:
        return
    numeric_text = isinstance(raw, str) and raw.strip().lstrip("-").isdigit()
    if isinstance(raw, int | float) or numeric_text:
        ms = int(raw)
    elif isinstance(raw, str):
        try:
            ms, offset = parse_time(raw)
        except QueryError:
            return
    else:
        return
    if 0 < ms < MIN_DATE:
        ms *= 1000
    doc["date"] = ms
    if "utcOffset" not in doc:
        doc["utcOffset"] = offset or 0
    doc["created_at"] = iso_utc(ms)


def _validate(doc: dict[str, Any]) -> str | None:
    date = doc.get("date")
    if not isinstance(date, int) or isinstance(date, bool) or date <= MIN_DATE:
        return "Bad or missing date field"
    offset = doc.get("utcOffset")
    if not isinstance(offset, int | float) or isinstance(offset, bool) or abs(offset) > 1440:
        return "Bad or missing utcOffset field"
    app = doc.get("app")
    if not isinstance(app, str) or not app.strip():
        return "Bad or missing app field"
    return None


async def create(fake: FakeNightscout, subject: Subject, name: str, request: Request) -> Response:
    try:
        doc = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return status_body(500, "Internal Server Error")
    if not doc:
        return status_body(400, "Bad or missing request body")
    if not isinstance(doc, dict):
        return status_body(400, "Bad or missing date field")
    _parse_date(doc)
    problem = _validate(doc)
    if problem:
        return status_body(400, problem)
    doc.pop("_id", None)
    doc.setdefault("identifier", calculate_identifier(doc))
    coll = fake.collection(name)
    stored = coll.find(("identifier", doc["identifier"]))
    if stored is None and (fields := FALLBACK_FIELDS.get(name)) and all(f in doc for f in fields):
        stored = coll.find(("fallback", *(doc[f] for f in fields)))
    now = fake.now_ms()
    location = {"Location": f"/api/v3/{name}/{doc['identifier']}"}
    if stored is None:
        if not subject.can(f"api:{name}:create"):
            return status_body(403, f"Missing permission api:{name}:create")
        doc.update(srvCreated=now, srvModified=now, subject=subject.name)
        coll.insert(doc)
        body = {"status": 201, "identifier": doc["identifier"], "lastModified": now}
        return json_response(body, 201, location)
    if not subject.can(f"api:{name}:update"):
        return status_body(403, f"Missing permission api:{name}:update")
    if stored.get("isValid") is not False:
        for field in IMMUTABLE:
            if field in doc and doc[field] != stored.get(field):
                return status_body(400, f"Field {field} cannot be modified by the client")
    old_identifier = stored.get("identifier", stored["_id"])
    doc.update(srvCreated=stored.get("srvCreated", now), srvModified=now, subject=subject.name)
    coll.replace(stored, doc)
    body = {
        "status": 200,
        "lastModified": now,
        "identifier": doc["identifier"],
        "isDeduplication": True,
    }
    if old_identifier != doc["identifier"]:
        body["deduplicatedIdentifier"] = old_identifier
    return json_response(body, 200, location)


def _public(doc: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "_id"}
    out.setdefault("identifier", doc.get("_id"))
    if fields is not None:
        out = {k: out[k] for k in fields if k in out}
    return out


def _fields(request: Request) -> list[str] | None:
    raw = request.query_params.get("fields")
    return None if raw is None or raw == "_all" else raw.split(",")


def read(fake: FakeNightscout, name: str, identifier: str, request: Request) -> Response:
    coll = fake.collection(name)
    doc = coll.find(("identifier", identifier)) or coll.find(("_id", identifier))
    if doc is None:
        return json_response({"status": 404}, 404)
    if doc.get("isValid") is False:
        return json_response({"status": 410}, 410)
    return json_response({"status": 200, "result": _public(doc, _fields(request))})


def search(fake: FakeNightscout, name: str, request: Request) -> Response:
    params = request.query_params
    try:
        conds = v3_conditions(params.multi_items())
    except QueryError as exc:
        return status_body(400, str(exc))
    if "sort" in params and "sort$desc" in params:
        return status_body(400, "Parameters sort and sort_desc cannot be combined")
    try:
        limit = int(params.get("limit", MAX_LIMIT))
        skip = int(params.get("skip", 0))
    except ValueError:
        return status_body(400, "Parameter limit out of tolerance")
    if not 1 <= limit <= MAX_LIMIT:
        return status_body(400, "Parameter limit out of tolerance")
    if skip < 0:
        return status_body(400, "Parameter skip out of tolerance")
    found = [
        d for d in fake.collection(name) if d.get("isValid") is not False and matches(d, conds)
    ]
    desc = "sort$desc" in params
    field = params.get("sort$desc") or params.get("sort") or "identifier"
    order = (field, "identifier", "created_at", "date")

    def key(doc: dict[str, Any]) -> tuple[tuple[int, Any], ...]:
        out = []
        for f in order:
            value = doc.get(f, doc.get("_id") if f == "identifier" else None)
            out.append((0, 0) if value is None else (1 if isinstance(value, str) else 2, value))
        return tuple(out)

    found.sort(key=key, reverse=desc)
    fields = _fields(request)
    result = [_public(d, fields) for d in found[skip : skip + limit]]
    return json_response({"status": 200, "result": result})
