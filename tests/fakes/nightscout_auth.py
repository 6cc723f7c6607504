"""Credentials of the fake Nightscout, as cgm-remote-monitor 15.x checks them.

v1: ``api-secret`` header or ``?secret=`` holding the hex SHA-1 (any case) or SHA-512 of
API_SECRET, or an access token in that header, in ``?token=`` or as the literal text
``token=<access token>``, or the hex SHA-1 of an access token (or its first ≥ 16 digits:
cgm-remote-monitor's ``accessTokenDigest`` match; what nightscout-librelink-up sends); a JWT
as ``Authorization: Bearer`` or ``?token=``. Default roles (``readable``) apply to everyone.
v3: ``Authorization: Bearer <JWT>`` only. JWTs come from
``/api/v2/authorization/request/<access token>``: HS256, payload ``{accessToken, iat, exp}``,
8 hours, checked against the fake's own clock (epoch seconds).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import jwt
from starlette.requests import Request

#: Built-in roles of cgm-remote-monitor (lib/authorization/storage.js).
ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "denied": (),
    "status-only": ("api:status:read",),
    "readable": ("*:*:read",),
    "careportal": ("api:treatments:create",),
    "devicestatus-upload": ("api:devicestatus:create",),
    "activity": ("api:activity:create",),
}
JWT_LIFETIME_S = 8 * 3600


def implies(granted: str, wanted: str) -> bool:
    """Shiro-style check: ``*`` wildcards, comma lists, a shorter grant implies everything below."""
    g_parts = granted.split(":")
    w_parts = wanted.split(":")
    for i, want in enumerate(w_parts):
        if i >= len(g_parts):
            return True
        allowed = g_parts[i].split(",")
        if "*" not in allowed and want not in allowed:
            return False
    return all(part == "*" for part in g_parts[len(w_parts) :])


def expand(roles_or_permissions: Iterable[str]) -> tuple[str, ...]:
    """Role names become their permissions; anything else is taken as a permission string."""
    out: list[str] = []
    for item in roles_or_permissions:
        out.extend(ROLES.get(item, (item,)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a request is: ``name`` (None = anonymous), its permissions, how it was recognised."""

    name: str | None
    permissions: tuple[str, ...]
    found: bool

    def can(self, permission: str) -> bool:
        return any(implies(g, permission) for g in self.permissions)


class FakeAuth:
    """API_SECRET, access tokens and JWTs of one fake server."""

    def __init__(
        self,
        api_secret: str | None,
        tokens: Mapping[str, str | Iterable[str]],
        default_roles: Iterable[str],
        clock: Callable[[], float],
    ) -> None:
        self.sha1 = hashlib.sha1(api_secret.encode()).hexdigest() if api_secret else None
        self.sha512 = hashlib.sha512(api_secret.encode()).hexdigest() if api_secret else None
        self.tokens = {
            tok: expand([roles] if isinstance(roles, str) else roles)
            for tok, roles in tokens.items()
        }
        self.default = expand(default_roles)
        self.clock = clock
        self.key = secrets.token_hex(32)
        self.failures = 0

    def _token_subject(self, token: str) -> Subject | None:
        perms = self.tokens.get(token)
        if perms is None:
            return None
        return Subject(token.split("-")[0], perms + self.default, True)

    def _secret_subject(self, value: str) -> Subject | None:
        if self.sha1 and value.lower() == self.sha1:
            return Subject("admin", ("*",), True)
        if self.sha512 and value == self.sha512:
            return Subject("admin", ("*",), True)
        hashed = self._hashed_token(value)
        if hashed is not None:
            return self._token_subject(hashed)
        return self._token_subject(value.removeprefix("token="))

    def _hashed_token(self, value: str) -> str | None:
        """The access token whose hex SHA-1 is ``value`` or starts with it (≥ 16 digits)."""
        digest = value.strip().lower()
        if len(digest) < 16 or any(c not in "0123456789abcdef" for c in digest):
            return None
        for token in self.tokens:
            if hashlib.sha1(token.encode()).hexdigest().startswith(digest):
                return token
        return None

    def verify_jwt(self, token: str) -> str | None:
        """The access token inside a JWT signed by this fake and not expired, else None."""
        try:
            payload = jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return None
        if not isinstance(payload.get("exp"), int) or payload["exp"] <= self.clock():
            return None
        access = payload.get("accessToken")
        return access if isinstance(access, str) and access in self.tokens else None

    def v1_subject(self, request: Request) -> Subject:
        """The subject of a v1 request; unknown or missing credentials give the default roles."""
        header = request.headers.get("api-secret") or request.query_params.get("secret")
        if header:
            subject = self._secret_subject(header)
            if subject:
                return subject
        bearer = _bearer(request)
        query_token = request.query_params.get("token")
        for candidate in (bearer, query_token):
            if not candidate:
                continue
            access = self.verify_jwt(candidate) if candidate.count(".") == 2 else candidate
            subject = self._token_subject(access) if access else None
            if subject:
                return subject
        if header or bearer or query_token:
            self.failures += 1
        return Subject(None, self.default, False)

    def v3_subject(self, request: Request) -> Subject | str:
        """The subject of a v3 request, or the 401 message when the Bearer JWT is missing/bad."""
        bearer = _bearer(request)
        if not bearer:
            return "Missing or bad access token or JWT"
        access = self.verify_jwt(bearer)
        subject = self._token_subject(access) if access else None
        if subject is None:
            self.failures += 1
            return "Bad access token or JWT"
        return subject

    def issue(self, token_or_jwt: str) -> dict[str, object] | None:
        """The ``/api/v2/authorization/request`` answer for an access token (or live JWT)."""
        access = self.verify_jwt(token_or_jwt) if token_or_jwt.count(".") == 2 else token_or_jwt
        if access is None or access not in self.tokens:
            self.failures += 1
            return None
        iat = int(self.clock())
        exp = iat + JWT_LIFETIME_S
        signed = jwt.encode({"accessToken": access, "iat": iat, "exp": exp}, self.key, "HS256")
        subject = self._token_subject(access)
        assert subject is not None
        groups = [list(self.tokens[access]), list(self.default)]
        return {
            "token": signed,
            "sub": subject.name,
            "permissionGroups": groups,
            "iat": iat,
            "exp": exp,
        }


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None
