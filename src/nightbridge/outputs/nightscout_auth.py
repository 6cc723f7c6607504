"""Nightscout credentials: the v1 ``api-secret`` value and the v3 JWT obtained from a token.

v1 takes the hex SHA-1 of API_SECRET in the ``api-secret`` header (never the plain secret), or
an access token in ``?token=``. v3 (cgm-remote-monitor 15.x) takes only ``Authorization: Bearer
<JWT>``; the JWT comes from ``GET /api/v2/authorization/request/<access token>`` and lives 8 h.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from nightbridge.engine.sessions import RENEW_MARGIN, Clock, Session, monotonic

#: Renew a JWT this long before the server would refuse it.
RENEW_EARLY = timedelta(minutes=5)
#: Lifetime assumed when the server's answer lacks ``iat``/``exp`` (cgm-remote-monitor: 8 h).
DEFAULT_JWT_LIFETIME = timedelta(hours=8)


def hash_api_secret(secret: str) -> str:
    """The ``api-secret`` header value: lower-case hex SHA-1 of the plain API_SECRET."""
    return hashlib.sha1(secret.encode()).hexdigest()


class JwtSession:
    """Hands out a live JWT, fetching a new one when it is within ``RENEW_EARLY`` of expiry.

    ``fetch()`` returns a ``Session`` whose ``lifetime`` is the JWT's ``exp - iat``. Concurrent
    callers share one fetch (a lock), so eight uploads in flight cause one renewal, not eight.
    """

    def __init__(self, fetch: Callable[[], Awaitable[Session]], clock: Clock = monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = asyncio.Lock()
        self.session: Session | None = None
        self.fetches = 0

    def _fresh(self) -> bool:
        # Session.is_fresh keeps RENEW_MARGIN; shift "now" so the margin becomes RENEW_EARLY.
        shift = max(0.0, (RENEW_EARLY - RENEW_MARGIN).total_seconds())
        return self.session is not None and self.session.is_fresh(self._clock() + shift)

    async def token(self) -> str:
        """A JWT that stays valid for at least ``RENEW_EARLY``."""
        if self._fresh():
            assert self.session is not None
            return self.session.token
        async with self._lock:
            if not self._fresh():
                self.session = await self._fetch()
                self.fetches += 1
            assert self.session is not None
            return self.session.token

    async def renew(self, rejected: str) -> str:
        """A new JWT after the server refused ``rejected`` (fetched once even if many refused)."""
        async with self._lock:
            if self.session is None or self.session.token == rejected:
                self.session = await self._fetch()
                self.fetches += 1
            return self.session.token
