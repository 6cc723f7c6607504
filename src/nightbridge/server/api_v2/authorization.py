"""``/api/v2/authorization`` (cgm-remote-monitor lib/authorization/endpoints.js; reference §3).

- ``GET /request/<accessToken or JWT>`` (no prior auth): ``{token, sub, permissionGroups, iat,
  exp}`` with an 8 h HS256 JWT; 401 in the v1 shape otherwise (a failed attempt).
- Subjects (``admin:api:subjects:read/create/update/delete``): ``{_id, name, roles, notes,
  accessToken}``; roles (``admin:api:roles:list/create/update/delete``): ``{_id, name,
  permissions, notes}`` — built-in roles are listed with ``_id`` = their name and can be
  overridden by a stored role of the same name.
- ``GET /permissions`` (``admin:api:permissions:read``), ``GET /debug/check/<permission>``.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.server.api_v1.access import allowed, body_allowed
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.auth import BUILTIN_ROLES, auth_service, authenticate, demand
from nightbridge.server.auth.roles import Subject as AuthSubject
from nightbridge.server.deps import SMALL_BODY, get_store
from nightbridge.server.errors import ApiError

router = APIRouter(prefix="/authorization")

_COLLECTIONS = ("entries", "treatments", "devicestatus", "profile", "food", "settings")
KNOWN_PERMISSIONS = [
    *(f"api:{c}:{a}" for c in _COLLECTIONS for a in ("read", "create", "update", "delete")),
    "api:status:read",
    "api:activity:create",
]


@router.get("/request/{token}")
async def request_jwt(request: Request, token: str) -> Response:
    address = request.client.host if request.client else ""
    principal, issued = await auth_service(request).request_jwt(token, address)
    service = auth_service(request)
    groups = [list(service.role_permissions(r)) for r in principal.roles]
    return json_response(
        {
            "token": issued.token,
            "sub": principal.subject,
            "permissionGroups": groups,
            "iat": issued.iat,
            "exp": issued.exp,
        }
    )


def _text(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise ApiError(400, "Bad Request", f"{key} must be a non-empty string")
    return value.strip()


def _names(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ApiError(400, "Bad Request", f"{key} must be a list of strings")
    return list(value)


async def _object(request: Request, permission: str) -> dict[str, Any]:
    body = await body_allowed(request, permission, SMALL_BODY)
    if not isinstance(body, dict):
        raise ApiError(400, "Bad Request", "the body must be a JSON object")
    return body


def _subject_json(request: Request, s: Any) -> dict[str, Any]:
    token = auth_service(request).token_of(AuthSubject(s.id, s.name, tuple(s.roles)))
    return {
        "_id": s.id,
        "name": s.name,
        "roles": list(s.roles),
        "notes": s.notes,
        "accessToken": token,
    }


@router.get("/subjects")
async def list_subjects(request: Request) -> Response:
    await allowed(request, "admin:api:subjects:read")
    subjects = await get_store(request).list_subjects()
    return json_response([_subject_json(request, s) for s in subjects])


@router.post("/subjects")
async def create_subject(request: Request) -> Response:
    body = await _object(request, "admin:api:subjects:create")
    name, roles, notes = _text(body, "name"), _names(body, "roles"), _text(body, "notes", "")
    service = auth_service(request)
    subject_id = secrets.token_hex(12)
    token = service.token_of(AuthSubject(subject_id, name, tuple(roles))) or subject_id
    created = await get_store(request).create_subject(
        name, roles, token, notes, subject_id=subject_id
    )
    await service.reload()
    return json_response(_subject_json(request, created))


@router.put("/subjects")
async def update_subject(request: Request) -> Response:
    body = await _object(request, "admin:api:subjects:update")
    subject_id = _text(body, "_id")
    roles = _names(body, "roles") if "roles" in body else None
    name = _text(body, "name") if "name" in body else None
    notes = _text(body, "notes", "") if "notes" in body else None
    updated = await get_store(request).update_subject(
        subject_id, name=name, roles_=roles, notes=notes
    )
    if updated is None:
        raise ApiError(404, "Not Found", "no such subject")
    await auth_service(request).reload()
    return json_response(_subject_json(request, updated))


@router.delete("/subjects/{subject_id}")
async def delete_subject(request: Request, subject_id: str) -> Response:
    await allowed(request, "admin:api:subjects:delete")
    if not await get_store(request).delete_subject(subject_id):
        raise ApiError(404, "Not Found", "no such subject")
    await auth_service(request).reload()
    return json_response({})


@router.get("/roles")
async def list_roles(request: Request) -> Response:
    await allowed(request, "admin:api:roles:list")
    roles: dict[str, dict[str, Any]] = {
        name: {"_id": name, "name": name, "permissions": list(perms), "notes": "built-in"}
        for name, perms in BUILTIN_ROLES.items()
    }
    for role in await get_store(request).list_roles():
        roles[role.name] = {
            "_id": role.name,
            "name": role.name,
            "permissions": list(role.permissions),
            "notes": role.notes,
        }
    return json_response(list(roles.values()))


@router.post("/roles")
async def create_role(request: Request) -> Response:
    body = await _object(request, "admin:api:roles:create")
    name, perms, notes = _text(body, "name"), _names(body, "permissions"), _text(body, "notes", "")
    store = get_store(request)
    try:
        role = await store.create_role(name, perms, notes)
    except ValueError:
        raise ApiError(409, "Conflict", f"role {name!r} exists") from None
    await auth_service(request).reload()
    return json_response(
        {"_id": role.name, "name": role.name, "permissions": list(role.permissions), "notes": notes}
    )


@router.put("/roles")
async def update_role(request: Request) -> Response:
    body = await _object(request, "admin:api:roles:update")
    name = _text(body, "_id", body.get("name") if isinstance(body.get("name"), str) else None)
    perms = _names(body, "permissions") if "permissions" in body else None
    notes = _text(body, "notes", "") if "notes" in body else None
    store = get_store(request)
    role = await store.update_role(name, permissions=perms, notes=notes)
    if role is None:
        if name not in BUILTIN_ROLES:
            raise ApiError(404, "Not Found", "no such role")
        role = await store.create_role(name, perms or list(BUILTIN_ROLES[name]), notes or "")
    await auth_service(request).reload()
    return json_response(
        {
            "_id": role.name,
            "name": role.name,
            "permissions": list(role.permissions),
            "notes": role.notes,
        }
    )


@router.delete("/roles/{name}")
async def delete_role(request: Request, name: str) -> Response:
    await allowed(request, "admin:api:roles:delete")
    if not await get_store(request).delete_role(name):
        raise ApiError(404, "Not Found", "no such role")
    await auth_service(request).reload()
    return json_response({})


@router.get("/permissions")
async def permissions(request: Request) -> Response:
    await allowed(request, "admin:api:permissions:read")
    return json_response(KNOWN_PERMISSIONS)


@router.get("/debug/check/{permission}")
async def check(request: Request, permission: str) -> Response:
    principal = await authenticate(request)
    demand(request, principal, permission)
    return json_response({"check": True})
