"""API v1 of the fake Nightscout (``/api/v1`` and, as in cgm-remote-monitor, ``/api/v2``).

Write semantics of cgm-remote-monitor 15.0.7 (shared/reference/nightscout-api.md §2.4-2.8):
entries upsert (``$set``) on ``sysTime`` + ``type``; treatments replace on ``identifier``, else
``_id``, else ``created_at`` + ``eventType``; devicestatus, profile and food are plain inserts.
POST answers 200 with the stored documents in input order; ``_id`` only on new inserts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model.time import iso_utc
from tests.fakes.nightscout_auth import Subject
from tests.fakes.nightscout_query import QueryError, matches, parse_time, v1_conditions

if TYPE_CHECKING:
    from tests.fakes.nightscout import FakeNightscout

COLLECTIONS = ("entries", "treatments", "devicestatus", "profile", "food")
DEFAULT_COUNT = {"entries": 10, "treatments": 100, "devicestatus": 10, "profile": 10}
SORT_FIELD = {"entries": "date", "profile": "startDate"}
_TREATMENT_NUMBERS = (
    *("glucose", "targetTop", "targetBottom", "carbs", "insulin"),
    *("duration", "percent", "absolute", "relative", "preBolus"),
)
_DROP_IF_FALSY = (
    *("targetTop", "targetBottom", "carbs", "insulin"),
    *("percent", "relative", "notes", "preBolus"),
)
MB = 1024 * 1024
#: body-parser limits of cgm-remote-monitor (entries/treatments 50 MB, the others 1 MB).
BODY_LIMIT = {"devicestatus": MB, "profile": MB, "food": MB}
_TYPE_SPECS = {"sgv", "mbg", "cal", "etc", "sensor"}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def status_body(status: int, message: str, description: str | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if description is not None:
        body["description"] = description
    return json_response(body, status)


UNAUTHORIZED = ("Unauthorized", "Invalid/Missing")


async def handle(fake: FakeNightscout, request: Request, rest: str) -> Response:
    """Dispatch ``/api/v1/<rest>``; ``.json`` suffixes are stripped as the real server does."""
    parts = [p.removesuffix(".json") for p in rest.strip("/").split("/") if p]
    if not parts:
        return status_body(404, "Not found")
    subject = fake.auth.v1_subject(request)
    head = parts[0]
    if head == "verifyauth":
        return verifyauth(subject)
    if head == "status":
        return _guarded(subject, "api:status:read") or json_response(fake.status())
    if head not in COLLECTIONS:
        return status_body(404, "Not found")
    method = request.method
    action = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}[method]
    denied = _guarded(subject, f"api:{head}:{action}")
    if denied:
        fake.auth.failures += 1
        return denied
    try:
        if method == "POST":
            raw = await request.body()
            if len(raw) > BODY_LIMIT.get(head, 50 * MB):
                return Response(b"request entity too large", 413, media_type="text/html")
            return json_response(post(fake, head, _body(raw)))
        if method == "GET":
            return json_response(get(fake, head, parts[1:], request))
        if method == "DELETE":
            return json_response(delete(fake, head, parts[1:], request))
    except QueryError as exc:
        return status_body(500, "Mongo Error", str(exc))
    except ValueError as exc:
        return status_body(400, str(exc))
    return status_body(405, "Method not allowed")


def _guarded(subject: Subject, permission: str) -> Response | None:
    return None if subject.can(permission) else status_body(401, *UNAUTHORIZED)


def verifyauth(subject: Subject) -> Response:
    """Always 200; the verdict sits under ``message`` (lib/api/verifyauth.js)."""
    can_read = subject.can("*:*:read")
    ok = can_read and subject.found
    return json_response(
        {
            "status": 200,
            "message": {
                "canRead": can_read,
                "canWrite": subject.can("*:*:write"),
                "isAdmin": subject.can("*:*:admin"),
                "message": "OK" if ok else "UNAUTHORIZED",
                "rolefound": "FOUND" if subject.found else "NOTFOUND",
                "permissions": "ROLE" if subject.found else "DEFAULT",
            },
        }
    )


def _body(raw: bytes) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("malformed JSON body") from None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        return data
    raise ValueError("body must be an object or an array of objects")


def post(fake: FakeNightscout, name: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store ``docs`` in collection ``name``; the echo the real server sends back."""
    coll = fake.collection(name)
    now = fake.now_ms()
    echo: list[dict[str, Any]] = []
    if name == "entries" and len(docs) == 1 and "date" not in docs[0]:
        return []
    for raw in docs:
        doc = dict(raw)
        bad_id = "_id" in doc and not (isinstance(doc["_id"], str) and len(doc["_id"]) == 24)
        if name in ("devicestatus", "profile", "food") and bad_id:
            raise ValueError("Invalid _id format")
        if name == "entries":
            _prepare_entry(doc, now)
            stored = coll.find(("sysTime", doc["sysTime"], doc.get("type")))
            if stored is not None and "type" in doc:
                coll.replace(stored, doc, merge=True)
                echo.append({k: v for k, v in stored.items() if k != "_id"})
                continue
        elif name == "treatments":
            _prepare_treatment(doc, now)
            stored = _treatment_match(fake, doc)
            if stored is not None:
                coll.replace(stored, doc)
                echo.append({k: v for k, v in stored.items() if k != "_id"})
                continue
        elif name == "food":
            doc["created_at"] = iso_utc(now)
        else:
            _prepare_dated(doc, now, keep_missing=name == "profile")
        echo.append(dict(coll.insert(doc)))
    return echo


def _prepare_entry(doc: dict[str, Any], now: int) -> None:
    offset = 0
    if isinstance(doc.get("dateString"), str):
        ms, offset = parse_time(doc["dateString"])
    elif isinstance(doc.get("date"), int | float):
        ms = int(doc["date"])
    else:
        ms = now
    doc["utcOffset"] = offset
    doc["sysTime"] = iso_utc(ms)
    if "dateString" in doc:
        doc["dateString"] = iso_utc(ms)


def _prepare_dated(doc: dict[str, Any], now: int, keep_missing: bool = False) -> None:
    raw = doc.get("created_at")
    try:
        ms, offset = parse_time(raw) if isinstance(raw, str) else (now, 0)
    except QueryError:
        ms, offset = now, 0
    doc["created_at"] = iso_utc(ms)
    if not keep_missing:
        doc["utcOffset"] = offset


def _js_number(value: Any) -> float:
    if value is None or value == "":
        return 0.0 if value == "" else math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _prepare_treatment(doc: dict[str, Any], now: int) -> None:
    if "eventTime" in doc:
        doc["created_at"] = doc.pop("eventTime")
    _prepare_dated(doc, now)
    for field in _TREATMENT_NUMBERS:
        if field in doc:
            number = _js_number(doc[field])
            doc[field] = int(number) if number.is_integer() else number
    for field in _DROP_IF_FALSY:
        if field in doc and (not doc[field] or doc[field] != doc[field]):
            del doc[field]
    for field in ("absolute", "duration"):
        if field in doc and doc[field] != doc[field]:
            del doc[field]
    if "glucose" in doc and (not doc["glucose"] or doc["glucose"] != doc["glucose"]):
        for field in ("glucose", "glucoseType", "units"):
            doc.pop(field, None)
    if doc.get("eventType") == "Announcement":
        doc["isAnnouncement"] = True


def _treatment_match(fake: FakeNightscout, doc: dict[str, Any]) -> dict[str, Any] | None:
    coll = fake.collection("treatments")
    if doc.get("identifier") is not None:
        return coll.find(("identifier", doc["identifier"]))
    if "_id" in doc:
        return coll.find(("_id", doc["_id"]))
    return coll.find(("ce", doc["created_at"], doc.get("eventType")))


def _query(fake: FakeNightscout, name: str, request: Request, extra: list[tuple[str, str]]) -> Any:
    items = list(request.query_params.multi_items()) + extra
    conds, had_find = v1_conditions(name, items, fake.now_ms(), window=name != "profile")
    return conds, had_find


def get(
    fake: FakeNightscout, name: str, spec: list[str], request: Request
) -> list[dict[str, Any]] | dict[str, Any] | None:
    """A v1 GET: find conditions, default window and count, newest first."""
    extra: list[tuple[str, str]] = []
    current = False
    if name == "entries" and spec:
        if spec[0] == "current":
            current = True
        elif spec[0] in _TYPE_SPECS:
            extra.append(("find[type]", spec[0]))
        else:
            extra.append(("find[_id]", spec[0]))
    if name == "profile" and spec == ["current"]:
        docs = _sorted(fake, "profile", [])
        return docs[0] if docs else None
    conds, had_find = _query(fake, name, request, extra)
    raw_count = request.query_params.get("count")
    if current:
        count = 1
    elif raw_count is not None:
        count = int(raw_count) if raw_count.lstrip("-").isdigit() else 0
        if count == 0 and not had_find:
            return []
    else:
        count = 1000 if name == "treatments" and had_find else DEFAULT_COUNT.get(name, 0)
    docs = _sorted(fake, name, conds)
    return docs[:count] if count > 0 else docs


def _sorted(fake: FakeNightscout, name: str, conds: list[Any]) -> list[dict[str, Any]]:
    field = SORT_FIELD.get(name, "created_at")
    found = [d for d in fake.collection(name) if matches(d, conds)]

    def key(doc: dict[str, Any]) -> tuple[int, Any]:
        value = doc.get(field, doc.get("created_at"))
        return (0, "") if value is None else (1 if isinstance(value, str) else 2, value)

    return sorted(found, key=key, reverse=True)


def delete(fake: FakeNightscout, name: str, spec: list[str], request: Request) -> dict[str, Any]:
    """Delete by ``/<id>`` or by ``find`` (with the default window); the 5.x driver answer."""
    extra = [("find[_id]", spec[0])] if spec and spec[0] != "*" else []
    conds, _ = _query(fake, name, request, extra)
    coll = fake.collection(name)
    doomed = [d for d in coll if matches(d, conds)]
    for doc in doomed:
        coll.remove(doc)
    return {"acknowledged": True, "deletedCount": len(doomed)}
