"""The HS256 JWTs of ``/api/v2/authorization/request/<accessToken>`` (8 hours, as Nightscout).

Payload ``{accessToken, iat, exp}`` (seconds). The key is derived from API_SECRET with HMAC-SHA256
(so tokens survive a restart but not a secret change); without a secret (read-only demo) a random
per-process key is used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import jwt

JWT_LIFETIME_S = 8 * 3600
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class IssuedJwt:
    token: str
    iat: int
    exp: int


def derive_key(api_secret: str | None) -> bytes:
    """The signing key for this API_SECRET (random when there is none)."""
    if not api_secret:
        return secrets.token_bytes(32)
    return hmac.new(api_secret.encode(), b"nightbridge jwt signing key v1", hashlib.sha256).digest()


class JwtSigner:
    """Issues and verifies JWTs. ``clock`` returns epoch seconds (injectable for tests)."""

    def __init__(self, key: bytes, clock: Callable[[], float]) -> None:
        self._key = key
        self._clock = clock

    def issue(self, access_token: str, lifetime_s: int = JWT_LIFETIME_S) -> IssuedJwt:
        iat = int(self._clock())
        exp = iat + lifetime_s
        token = jwt.encode(
            {"accessToken": access_token, "iat": iat, "exp": exp}, self._key, algorithm=_ALGORITHM
        )
        return IssuedJwt(token, iat, exp)

    def verify(self, token: str) -> str | None:
        """The ``accessToken`` claim of a valid, unexpired JWT signed by us; else None."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                options={"verify_exp": False, "require": ["exp", "iat"]},
            )
        except jwt.PyJWTError:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self._clock():
            return None
        value = claims.get("accessToken")
        return value if isinstance(value, str) else None


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("ey")
