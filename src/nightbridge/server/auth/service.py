"""Authentication of requests, as cgm-remote-monitor does it (lib/authorization).

v1 credentials, checked in this order: ``Authorization: Bearer <JWT>``; ``?token=`` (access token or
JWT) or body ``token``; ``api-secret`` header, ``?secret=`` or body ``secret`` holding the hex SHA-1
(any case) or SHA-512 of API_SECRET, or an access token (also as ``token=<access token>``), or
the hex SHA-1 of an access token (or a prefix of it of at least 16 digits: Nightscout's
``accessTokenDigest`` match; nightscout-librelink-up sends ``api-secret: sha1(token)``). The
plain secret is never accepted. Nothing valid → the default roles (``AUTH_DEFAULT_ROLES``), which
are also added to every subject's roles. v3: only ``Authorization: Bearer <JWT>``.

Failed checks (``deny``) slow the caller's address down (see ``delays``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from starlette.requests import Request

from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.auth.jwt import IssuedJwt, JwtSigner, derive_key, looks_like_jwt
from nightbridge.server.auth.permissions import PermissionSet
from nightbridge.server.auth.principal import CredentialKind, Principal
from nightbridge.server.auth.roles import BUILTIN_ROLES, Role, Subject, access_token, token_suffix
from nightbridge.server.errors import ApiError, unauthorized

#: How long the in-memory copy of subjects and roles is trusted before re-reading the store.
DIRECTORY_MAX_AGE_S = 60.0


class AuthDirectory(Protocol):
    """Where subjects and roles live (the store)."""

    async def list_roles(self) -> list[Role]: ...

    async def list_subjects(self) -> list[Subject]: ...


class AuthService:
    """Resolves requests to Principals; issues and verifies JWTs. One per app."""

    def __init__(
        self,
        api_secret: str | None,
        default_roles: tuple[str, ...],
        directory: AuthDirectory | None,
        *,
        delays: FailureDelays | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sha1 = hashlib.sha1(api_secret.encode()).hexdigest() if api_secret else None
        self._sha512 = hashlib.sha512(api_secret.encode()).hexdigest() if api_secret else None
        self.default_roles = default_roles
        self.directory = directory
        self.delays = delays or FailureDelays(clock=clock)
        self.jwt = JwtSigner(derive_key(api_secret), clock)
        self._clock = clock
        self._roles: dict[str, tuple[str, ...]] = dict(BUILTIN_ROLES)
        self._subjects: dict[str, Subject] = {}  # token hex suffix -> subject
        self._digests: dict[str, Subject] = {}  # sha1 hex of the access token -> subject
        self._loaded_at: float | None = None
        self._default = Principal(
            CredentialKind.NONE, self._permissions(default_roles), default_roles
        )
        self._admin = Principal(
            CredentialKind.API_SECRET, PermissionSet.of(["*"]), ("admin",), subject="admin"
        )

    @property
    def has_secret(self) -> bool:
        return self._sha1 is not None

    # --- directory -------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read roles and subjects from the directory."""
        roles = dict(BUILTIN_ROLES)
        subjects: dict[str, Subject] = {}
        digests: dict[str, Subject] = {}
        if self.directory is not None:
            for role in await self.directory.list_roles():
                roles[role.name] = role.permissions
            if self._sha1 is not None:
                for subject in await self.directory.list_subjects():
                    token = access_token(self._sha1, subject)
                    subjects[token.rsplit("-", 1)[1]] = subject
                    digests[hashlib.sha1(token.encode()).hexdigest()] = subject
        self._roles, self._subjects, self._digests = roles, subjects, digests
        self._loaded_at = self._clock()
        self._default = Principal(
            CredentialKind.NONE, self._permissions(self.default_roles), self.default_roles
        )

    async def _fresh(self) -> None:
        if self._loaded_at is None or self._clock() - self._loaded_at > DIRECTORY_MAX_AGE_S:
            await self.reload()

    def token_of(self, subject: Subject) -> str | None:
        """The access token of ``subject`` (None without API_SECRET: no tokens then)."""
        return access_token(self._sha1, subject) if self._sha1 else None

    def role_permissions(self, name: str) -> tuple[str, ...]:
        return self._roles.get(name, ())

    def _permissions(self, roles: tuple[str, ...]) -> PermissionSet:
        return PermissionSet.of(p for r in roles for p in self._roles.get(r, ()))

    # --- resolution ------------------------------------------------------------------------

    def _secret_matches(self, value: str) -> bool:
        if self._sha1 is None or self._sha512 is None:
            return False
        v = value.strip().lower().encode()
        return hmac.compare_digest(v, self._sha1.encode()) or hmac.compare_digest(
            v, self._sha512.encode()
        )

    def _by_digest(self, value: str) -> Subject | None:
        """The subject whose token's SHA-1 hex is ``value`` or starts with it (≥ 16 digits)."""
        digest = value.strip().lower()
        if not 16 <= len(digest) <= 40 or not _HEX.fullmatch(digest):
            return None
        found = self._digests.get(digest)
        if found is not None or len(digest) == 40:
            return found
        return next((s for d, s in self._digests.items() if d.startswith(digest)), None)

    def _subject_principal(self, token: str, kind: CredentialKind) -> Principal | None:
        """The subject of an access token: its 16-hex suffix, else its SHA-1 (as Nightscout's
        ``findSubject``, wherever a token is accepted)."""
        suffix = token_suffix(token)
        subject = self._subjects.get(suffix) if suffix else None
        if subject is None:
            subject = self._by_digest(token)
        if subject is None:
            return None
        roles = tuple(dict.fromkeys((*subject.roles, *self.default_roles)))
        return Principal(
            kind,
            self._permissions(roles),
            roles,
            subject=subject.name,
            access_token=self.token_of(subject),
        )

    def _jwt_principal(self, value: str) -> Principal | None:
        claimed = self.jwt.verify(value)
        return None if claimed is None else self._subject_principal(claimed, CredentialKind.JWT)

    def _token_principal(self, value: str) -> Principal | None:
        if looks_like_jwt(value):
            return self._jwt_principal(value)
        return self._subject_principal(value, CredentialKind.ACCESS_TOKEN)

    def _secret_principal(self, value: str) -> Principal | None:
        if value.lower().startswith("token="):
            return self._token_principal(value[6:])
        if self._secret_matches(value):
            return self._admin
        return self._subject_principal(value, CredentialKind.ACCESS_TOKEN)

    async def authenticate(
        self, request: Request, *, v3: bool = False, body: Any = None
    ) -> Principal:
        """The Principal of ``request``; ``body`` is the parsed JSON body when there is one.

        v1 never raises for bad credentials (the default roles apply; ``deny`` raises later).
        v3 raises 401 ``Missing or bad access token or JWT`` without a Bearer header and
        ``Bad access token or JWT`` for an invalid one. A penalised address waits or gets 429.
        """
        address = request.client.host if request.client else ""
        await self.delays.wait(address)
        await self._fresh()
        principal = self._resolve(request, v3=v3, body=body)
        if v3 and principal is None:
            self.delays.record_failure(address)
            raise ApiError(401, "Bad access token or JWT")
        if principal is None:
            return Principal(
                CredentialKind.INVALID,
                self._default.permissions,
                self._default.roles,
                address=address,
            )
        if principal.kind is CredentialKind.NONE:
            return self._default if not address else _with_address(self._default, address)
        self.delays.clear(address)
        return _with_address(principal, address)

    def _resolve(self, request: Request, *, v3: bool, body: Any) -> Principal | None:
        authorization = request.headers.get("authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            return self._jwt_principal(authorization[7:].strip())
        if v3:
            raise ApiError(401, "Missing or bad access token or JWT")
        fields: Mapping[str, Any] = {}
        if isinstance(body, dict):
            fields = body
        elif isinstance(body, list) and body and isinstance(body[0], dict):
            fields = body[0]
        token = request.query_params.get("token") or _text(fields.get("token"))
        if token:
            return self._token_principal(token.strip())
        secret = (
            request.headers.get("api-secret")
            or request.query_params.get("secret")
            or _text(fields.get("secret"))
        )
        if secret:
            return self._secret_principal(secret.strip())
        return self._default

    def deny(self, principal: Principal) -> ApiError:
        """Record a failed attempt from the principal's address; the 401 to raise."""
        self.delays.record_failure(principal.address)
        return unauthorized()

    def demand(self, principal: Principal, permission: str) -> None:
        """Raise 401 (and penalise the address) unless ``principal`` holds ``permission``."""
        if not principal.can(permission):
            raise self.deny(principal)

    async def request_jwt(self, value: str, address: str) -> tuple[Principal, IssuedJwt]:
        """``/api/v2/authorization/request/<value>``: value is an access token or a valid JWT."""
        await self.delays.wait(address)
        await self._fresh()
        principal = self._token_principal(value.strip())
        if principal is None or principal.access_token is None:
            self.delays.record_failure(address)
            raise unauthorized()
        self.delays.clear(address)
        return principal, self.jwt.issue(principal.access_token)


_HEX = re.compile(r"[0-9a-f]+")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _with_address(principal: Principal, address: str) -> Principal:
    return Principal(
        principal.kind,
        principal.permissions,
        principal.roles,
        principal.subject,
        principal.access_token,
        address,
    )
