"""Who is asking: the result of authenticating one request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nightbridge.server.auth.permissions import PermissionSet


class CredentialKind(StrEnum):
    NONE = "none"  # nothing presented: default roles
    INVALID = "invalid"  # something presented that matched nothing: default roles
    API_SECRET = "api-secret"
    ACCESS_TOKEN = "access-token"
    JWT = "jwt"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated (or anonymous) caller.

    ``subject`` is the subject name for token/JWT callers, ``"admin"`` for API_SECRET holders and
    None for anonymous ones; ``roles`` are role names (subject roles plus the default roles);
    ``access_token`` is the token a JWT or token credential resolved to.
    """

    kind: CredentialKind
    permissions: PermissionSet
    roles: tuple[str, ...] = ()
    subject: str | None = None
    access_token: str | None = None
    address: str = ""

    def can(self, permission: str) -> bool:
        """True when this caller holds ``permission`` (e.g. ``api:entries:read``)."""
        return self.permissions.allows(permission)

    @property
    def authenticated(self) -> bool:
        """True when valid credentials were presented (not merely the default roles)."""
        return self.kind not in (CredentialKind.NONE, CredentialKind.INVALID)

    @property
    def is_admin(self) -> bool:
        return self.can("*:*:admin")
