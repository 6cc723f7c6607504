"""Our OpenAPI 3.1 document (``/openapi.json``): the routes FastAPI found, described.

The API handlers take the raw ``Request`` and answer ready ``Response`` bytes (no pydantic
validation on the hot path), so FastAPI alone would publish routes without parameters or
response shapes. ``describe(app)`` adds them: the Nightscout query parameters, the response
schemas of entries, treatments, the other documents, v1 status/versions, v2 authorization and
the v3 envelopes, the three ways to authenticate, and the Nightscout error shapes instead of
FastAPI's never-used 422. Documents are open objects (``additionalProperties``): Nightscout
keeps every field a client sends. ``tests/server/test_openapi.py`` validates the document and
checks real answers against these schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

Schema = dict[str, Any]

_INT = {"type": "integer"}
_NUM = {"type": "number"}
_STR = {"type": "string"}
_MS = {"type": "integer", "description": "epoch milliseconds (UTC)"}
_SERVER_FIELDS: Schema = {
    "identifier": {**_STR, "description": "Nightscout v3 identifier (UUID v5 when computed)"},
    "srvCreated": _MS,
    "srvModified": _MS,
    "isValid": {"const": False, "description": "present only on soft-deleted documents"},
}
_V1_ID = {"_id": {**_STR, "description": "24-hex ObjectId (sent or derived)"}}


def _doc(properties: Schema, required: tuple[str, ...], *, v1: bool) -> Schema:
    props = {**(_V1_ID if v1 else {}), **properties, **_SERVER_FIELDS}
    needed = [*(("_id",) if v1 else ()), "identifier", "srvModified", *required]
    return {"type": "object", "properties": props, "required": needed}


_ENTRY = {
    "type": _STR,
    "date": {**_NUM, "description": "epoch ms"},
    "dateString": _STR,
    "sysTime": _STR,
    "sgv": {"type": ["number", "string"]},
    "mbg": {"type": ["number", "string"]},
    "direction": _STR,
    "noise": _NUM,
    "filtered": _NUM,
    "unfiltered": _NUM,
    "rssi": _NUM,
    "device": _STR,
    "utcOffset": _NUM,
}
_TREATMENT = {
    "eventType": _STR,
    "created_at": _STR,
    "insulin": {"type": ["number", "null"]},
    "carbs": {"type": ["number", "null"]},
    "glucose": {"type": ["number", "string", "null"]},
    "notes": {"type": ["string", "null"]},
    "enteredBy": _STR,
    "utcOffset": _NUM,
}
_GENERIC = {"created_at": _STR, "device": _STR, "date": _NUM}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _envelope(result: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {"status": _INT, "result": result},
        "required": ["status", "result"],
    }


SCHEMAS: dict[str, Schema] = {
    "Entry": _doc(_ENTRY, (), v1=True),
    "Treatment": _doc(_TREATMENT, (), v1=True),
    "Document": _doc(_GENERIC, (), v1=True),
    "V3Document": _doc({**_ENTRY, **_TREATMENT}, (), v1=False),
    "V1Error": {
        "type": "object",
        "properties": {"status": _INT, "message": _STR, "description": _STR},
        "required": ["status", "message"],
    },
    "DeleteResult": {
        "type": "object",
        "properties": {"acknowledged": {"type": "boolean"}, "deletedCount": _INT, "n": _INT},
        "required": ["deletedCount"],
    },
    "Status": {
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "name": _STR,
            "version": _STR,
            "serverTime": _STR,
            "serverTimeEpoch": _MS,
            "apiEnabled": {"type": "boolean"},
            "careportalEnabled": {"type": "boolean"},
            "settings": {"type": "object"},
            "extendedSettings": {"type": "object"},
        },
        "required": ["status", "name", "version", "serverTime", "apiEnabled", "settings"],
    },
    "Versions": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"version": _STR, "url": _STR},
            "required": ["version", "url"],
        },
    },
    "Authorization": {
        "type": "object",
        "properties": {
            "token": {**_STR, "description": "HS256 JWT, valid 8 h"},
            "sub": {"type": ["string", "null"]},
            "permissionGroups": {"type": "array", "items": {"type": "array", "items": _STR}},
            "iat": _INT,
            "exp": _INT,
        },
        "required": ["token", "iat", "exp"],
    },
    "Subject": {
        "type": "object",
        "properties": {
            "_id": _STR,
            "name": _STR,
            "roles": {"type": "array", "items": _STR},
            "notes": _STR,
            "accessToken": {"type": ["string", "null"]},
        },
        "required": ["_id", "name", "roles"],
    },
    "Role": {"type": "object", "properties": {"name": _STR, "permissions": {"type": "array"}}},
    "V3Error": {
        "type": "object",
        "properties": {"status": _INT, "message": _STR},
        "required": ["status"],
    },
    "V3Fields": {
        "type": "object",
        "description": "a V3Document; with the fields parameter only the fields listed",
        "properties": _doc({**_ENTRY, **_TREATMENT}, (), v1=False)["properties"],
    },
    "V3Search": _envelope(_array("V3Fields")),
    "V3Read": _envelope(_ref("V3Document")),
    "V3Write": {
        "type": "object",
        "properties": {
            "status": _INT,
            "identifier": _STR,
            "lastModified": _MS,
            "isDeduplication": {"type": "boolean"},
            "deduplicatedIdentifier": _STR,
        },
        "required": ["status"],
    },
    "V3Version": _envelope(
        {
            "type": "object",
            "properties": {
                "version": _STR,
                "apiVersion": _STR,
                "srvDate": _MS,
                "storage": {"type": "object"},
                "apiPermissions": {"type": "object", "additionalProperties": _STR},
            },
            "required": ["version", "apiVersion", "srvDate", "storage"],
        }
    ),
    "V3LastModified": _envelope(
        {
            "type": "object",
            "properties": {
                "srvDate": _MS,
                "collections": {"type": "object", "additionalProperties": _MS},
            },
            "required": ["srvDate", "collections"],
        }
    ),
}

SECURITY_SCHEMES: Schema = {
    "apiSecret": {
        "type": "apiKey",
        "in": "header",
        "name": "api-secret",
        "description": "SHA-1 or SHA-512 hex of API_SECRET, or an access token",
    },
    "querySecret": {"type": "apiKey", "in": "query", "name": "secret"},
    "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
    "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
}
_V1_SECURITY: list[dict[str, list[str]]] = [
    {"apiSecret": []},
    {"querySecret": []},
    {"queryToken": []},
    {},
]
_V3_SECURITY: list[dict[str, list[str]]] = [{"bearerJwt": []}]


def _query(name: str, schema: Schema, description: str, **extra: Any) -> Schema:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


_FIND = _query(
    "find",
    {"type": "object"},
    "MongoDB-style filter: find[field][$op]=value, ops $eq $ne $gt $gte $lt $lte $in $nin "
    "$regex; without a date constraint only the last 4 days",
    style="deepObject",
    explode=True,
)
_V1_LIST = [_query("count", {"type": "integer", "minimum": 0}, "how many (default 10)"), _FIND]
_V3_SEARCH = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "default 1000"),
    _query("skip", {"type": "integer", "minimum": 0}, "documents to skip"),
    _query("sort", _STR, "field to sort ascending"),
    _query("sort$desc", _STR, "field to sort descending"),
    _query("fields", _STR, "comma-separated fields to return (default all)"),
]


def _json(schema: Schema, description: str = "OK") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _v1_collection(path: str, item: str) -> dict[tuple[str, str], Schema]:
    many = _json(_array(item))
    return {
        (path, "get"): {"parameters": _V1_LIST, "responses": {"200": many}},
        (path, "post"): {
            "request": {"oneOf": [_ref(item), _array(item)]},
            "responses": {"200": many},
        },
        (path, "put"): {"request": _ref(item), "responses": {"200": _json(_ref(item))}},
        (path, "delete"): {
            "parameters": [_FIND],
            "responses": {"200": _json(_ref("DeleteResult"))},
        },
    }


def _operations() -> dict[tuple[str, str], Schema]:
    v1 = "/api/v1"
    ops: dict[tuple[str, str], Schema] = {}
    ops.update(_v1_collection(f"{v1}/entries", "Entry"))
    ops.update(_v1_collection(f"{v1}/treatments", "Treatment"))
    for name in ("devicestatus", "profile", "food"):
        ops.update(_v1_collection(f"{v1}/{name}", "Document"))
    ops[f"{v1}/entries/current", "get"] = {"responses": {"200": _json(_array("Entry"))}}
    ops[f"{v1}/entries/{{spec}}", "get"] = {
        "parameters": _V1_LIST,
        "responses": {"200": _json(_array("Entry")), "404": _json(_ref("V1Error"), "No such id")},
    }
    ops[f"{v1}/profile/current", "get"] = {"responses": {"200": _json(_ref("Document"))}}
    ops[f"{v1}/status", "get"] = {"responses": {"200": _json(_ref("Status"))}}
    ops["/api/versions", "get"] = {"responses": {"200": _json(_ref("Versions"))}}
    auth = "/api/v2/authorization"
    ops[f"{auth}/request/{{token}}", "get"] = {
        "responses": {
            "200": _json(_ref("Authorization")),
            "401": _json(_ref("V1Error"), "unknown token"),
        }
    }
    ops[f"{auth}/subjects", "get"] = {"responses": {"200": _json(_array("Subject"))}}
    ops[f"{auth}/roles", "get"] = {"responses": {"200": _json(_array("Role"))}}
    v3 = "/api/v3"
    errors = {"401": _json(_ref("V3Error"), "no valid JWT"), "403": _json(_ref("V3Error"))}
    ops[f"{v3}/version", "get"] = {"responses": {"200": _json(_ref("V3Version"))}}
    ops[f"{v3}/status", "get"] = {"responses": {"200": _json(_ref("V3Version")), **errors}}
    ops[f"{v3}/lastModified", "get"] = {"responses": {"200": _json(_ref("V3LastModified"))}}
    ops[f"{v3}/{{collection}}", "get"] = {
        "parameters": _V3_SEARCH,
        "responses": {"200": _json(_ref("V3Search")), **errors},
    }
    ops[f"{v3}/{{collection}}", "post"] = {
        "request": _ref("V3Document"),
        "responses": {
            "201": _json(_ref("V3Write"), "created"),
            "200": _json(_ref("V3Write"), "de-duplicated"),
            "400": _json(_ref("V3Error")),
            **errors,
        },
    }
    item = f"{v3}/{{collection}}/{{identifier}}"
    gone = {"404": {"description": "absent"}, "410": {"description": "deleted"}}
    ops[item, "get"] = {"responses": {"200": _json(_ref("V3Read")), **gone, **errors}}
    for method in ("put", "patch", "delete"):
        ops[item, method] = {"responses": {"200": _json(_ref("V3Write")), **gone, **errors}}
    for path in (f"{v3}/{{collection}}/history", f"{v3}/{{collection}}/history/{{last_modified}}"):
        ops[path, "get"] = {"responses": {"200": _json(_ref("V3Search")), **errors}}
    return ops


def _apply(operation: Schema, path: str, extra: Schema) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    responses.update(extra.get("responses", {}))
    known = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
    params = [p for p in extra.get("parameters", []) if (p["name"], p["in"]) not in known]
    if params:
        operation["parameters"] = [*operation.get("parameters", []), *params]
    if "request" in extra:
        content = {"application/json": {"schema": extra["request"]}}
        operation["requestBody"] = {"required": True, "content": content}
    if path.startswith("/api/v3/"):
        operation["security"] = _V3_SECURITY
    elif path.startswith(("/api/v1/", "/api/v2/")):
        operation["security"] = _V1_SECURITY


def describe(app: FastAPI) -> Schema:
    """The app's OpenAPI document with our parameters, schemas and security (cached)."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        description="Nightscout API v1 (also under /api/v2), v2 authorization and v3.",
        routes=app.routes,
    )
    ops = _operations()
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "responses" in operation:
                _apply(operation, path, ops.get((path, method), {}))
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(SCHEMAS)
    components["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = spec
    return spec


def install(app: FastAPI) -> None:
    """Serve ``describe(app)`` at the app's ``openapi_url``."""
    app.openapi = lambda: describe(app)  # type: ignore[method-assign]
