"""The login flow every vendor source composes: an ``httpx.Auth`` that logs in lazily, reuses
the session for its lifetime, and on the vendor's "session expired" logs in again exactly once.

A vendor supplies two callables: ``login()`` returning a fresh ``Session`` (raising AuthError /
TermsNotAcceptedError / RetriableError), and ``apply(request, session)`` putting the token on a
request. ``is_expired(response)`` recognises the vendor's expiry answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import httpx

from nightbridge.engine.sessions import Clock, Session, monotonic
from nightbridge.errors import SessionExpiredError

Login = Callable[[], Awaitable[Session]]
Apply = Callable[[httpx.Request, Session], None]
IsExpired = Callable[[httpx.Response], bool]


class SessionAuth(httpx.Auth):
    """Attach a vendor session to each request; re-login once when the vendor says it expired."""

    requires_response_body = True

    def __init__(self, login: Login, apply: Apply, is_expired: IsExpired, clock: Clock = monotonic):
        self._login = login
        self._apply = apply
        self._is_expired = is_expired
        self._clock = clock
        self.session: Session | None = None
        self.logins = 0

    async def current(self) -> Session:
        """The live session, logging in if there is none or it is stale."""
        if self.session is None or not self.session.is_fresh(self._clock()):
            self.session = await self._login()
            self.logins += 1
        return self.session

    def forget(self) -> None:
        self.session = None

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._apply(request, await self.current())
        response = yield request
        await response.aread()  # overriding async_auth_flow skips httpx's own read
        if not self._is_expired(response):
            return
        self.forget()
        self._apply(request, await self.current())
        response = yield request
        await response.aread()
        if self._is_expired(response):
            raise SessionExpiredError("session expired again right after a fresh login")
