"""Authorization for every API version. What route modules (v1, v2, v3) use:

- ``await authenticate(request, v3=False, body=None) -> Principal``: resolve the caller
  (v3=True: Bearer JWT only; raises ``ApiError`` 401 with v3's messages when missing/bad).
- ``principal.can("api:entries:read")``: Shiro-style check (``*``, ``api:*:read`` ...).
- ``demand(request, principal, "api:entries:create")``: raise the v1 401 and penalise the
  caller's address unless the permission is held.
- ``deny(request, principal)``: record a failed attempt and get the 401 ``ApiError`` to raise
  (v3 routes raise their own 403 ``Missing permission api:C:op`` after calling ``deny`` if they
  want the address penalised).
- ``auth_service(request)``: the app's ``AuthService`` (JWT issuing, reloads after admin edits).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from nightbridge.server.auth.permissions import PermissionSet, implies
from nightbridge.server.auth.principal import CredentialKind, Principal
from nightbridge.server.auth.roles import BUILTIN_ROLES, Role, Subject
from nightbridge.server.auth.service import AuthDirectory, AuthService
from nightbridge.server.errors import ApiError


def auth_service(request: Request) -> AuthService:
    """The AuthService the app was created with."""
    service: AuthService = request.app.state.auth
    return service


async def authenticate(request: Request, *, v3: bool = False, body: Any = None) -> Principal:
    """Resolve the caller of ``request`` (see AuthService.authenticate)."""
    return await auth_service(request).authenticate(request, v3=v3, body=body)


def demand(request: Request, principal: Principal, permission: str) -> None:
    """Raise 401 (penalising the address) unless ``principal`` holds ``permission``."""
    auth_service(request).demand(principal, permission)


def deny(request: Request, principal: Principal) -> ApiError:
    """Record a failed attempt from the caller's address; returns the v1 401 to raise."""
    return auth_service(request).deny(principal)


__all__ = [
    "BUILTIN_ROLES",
    "AuthDirectory",
    "AuthService",
    "CredentialKind",
    "PermissionSet",
    "Principal",
    "Role",
    "Subject",
    "auth_service",
    "authenticate",
    "demand",
    "deny",
    "implies",
]
