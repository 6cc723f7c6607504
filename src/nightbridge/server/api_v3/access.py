"""Who may do what in API v3: Bearer-JWT-only authentication, one permission per operation.

Authentication is the server's (``nightbridge.server.auth.authenticate(request, v3=True)``):
only ``Authorization: Bearer <JWT>`` counts. Permissions are Shiro-style strings
``api:<collection>:<read|create|update|delete|admin>``; a missing one answers
403 ``Missing permission api:C:op`` (lib/api3/security.js).
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

from fastapi import Request

from nightbridge.server.api_v3.responses import (
    MSG_BAD_OPERATION,
    MSG_MISSING_PERMISSION,
    MSG_MISSING_TOKEN,
    V3Error,
)

COLLECTIONS = ("devicestatus", "entries", "food", "profile", "settings", "treatments")


class Principal(Protocol):
    """What the server's auth returns: a subject that checks Shiro-style permissions."""

    def can(self, permission: str) -> bool: ...


def check_collection(name: str) -> str:
    """``name`` if it is a v3 collection, else 404 ``Bad operation or collection``."""
    if name not in COLLECTIONS:
        raise V3Error(404, MSG_BAD_OPERATION)
    return name


async def authenticate(request: Request) -> Principal:
    """The caller of a v3 request; 401 in the v3 shape when there is no valid Bearer JWT."""
    try:
        from nightbridge.server.auth import authenticate as server_authenticate
    except ImportError:
        raise V3Error(401, MSG_MISSING_TOKEN) from None
    principal: Any = server_authenticate(request, v3=True)
    if inspect.isawaitable(principal):
        principal = await principal
    if getattr(principal, "authenticated", True) is False:
        raise V3Error(401, MSG_MISSING_TOKEN)
    return principal  # type: ignore[no-any-return]


async def caller(request: Request, collection: str, operation: str) -> Principal:
    """Check the collection (404), authenticate (401) and ``api:<collection>:<operation>`` (403)."""
    check_collection(collection)
    principal = await authenticate(request)
    require(principal, collection, operation)
    return principal


def subject_name(principal: Principal) -> str | None:
    """The subject's name recorded in ``subject``/``modifiedBy`` (None when unknown)."""
    for attr in ("name", "subject", "sub"):
        value = getattr(principal, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def require(principal: Principal, collection: str, operation: str) -> None:
    """403 unless ``principal`` holds ``api:<collection>:<operation>``."""
    permission = f"api:{collection}:{operation}"
    if not principal.can(permission):
        raise V3Error(403, MSG_MISSING_PERMISSION.format(permission))


def read_operation(collection: str) -> str:
    """SEARCH and HISTORY of ``settings`` need ``admin``; everything else ``read``."""
    return "admin" if collection == "settings" else "read"
