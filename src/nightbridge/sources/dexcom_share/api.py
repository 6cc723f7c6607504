"""The Dexcom Share web services: login and the latest-glucose read (protocols-cgm.md §1).

Login is two POSTs — ``General/AuthenticatePublisherAccount`` (account name → account id) then
``General/LoginPublisherAccountById`` (account id → session id) — or only the second when the
account id is configured or already learnt. The session id travels as the ``sessionId`` query
parameter of ``Publisher/ReadPublisherLatestGlucoseValues``. ``SessionAuth`` keeps one session
for ``SESSION_LIFETIME`` and logs in again exactly once when Dexcom answers SessionIdNotFound /
SessionNotValid. Nothing here retries otherwise: a wrong password is sent once.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from nightbridge.engine.sessions import Clock, Session, monotonic
from nightbridge.errors import AuthError, NightbridgeError, redact
from nightbridge.sources.auth import SessionAuth
from nightbridge.sources.dexcom_share.errors import VENDOR, is_session_expired, raise_for_share
from nightbridge.sources.dexcom_share.settings import DexcomSettings
from nightbridge.sources.dexcom_share.wire import ShareReadings, parse_readings, parse_uuid_string
from nightbridge.sources.transport import json_body, send

#: Dexcom does not document it; peers renew after 23-24 h (ns-connect 24 h - 10 min, Nocturne
#: 24 h - 60 min). We take the shorter, and still re-login once on the vendor's expiry answer.
SESSION_LIFETIME = timedelta(hours=23)
#: The server keeps 24 h of readings: at most 1440 minutes and 288 readings per request.
MAX_MINUTES = 1440
MAX_COUNT = 288
#: pydexcom treats this all-zero answer as a failed login.
NULL_UUID = "00000000-0000-0000-0000-000000000000"

AUTHENTICATE = "General/AuthenticatePublisherAccount"
LOGIN_BY_ID = "General/LoginPublisherAccountById"
READ_LATEST = "Publisher/ReadPublisherLatestGlucoseValues"
_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


class DexcomShareApi:
    """One Share account over ``client``. ``clock`` (monotonic seconds) ages the session."""

    def __init__(
        self, settings: DexcomSettings, client: httpx.AsyncClient, clock: Clock = monotonic
    ) -> None:
        self._settings = settings
        self._client = client
        self._clock = clock
        self._base = httpx.URL(settings.base_url)
        self._account_id = settings.account_id
        self._auth = SessionAuth(self._login, _apply_session, is_session_expired, clock)

    @property
    def logins(self) -> int:
        """How many sessions this object obtained (for tests and metrics)."""
        return self._auth.logins

    async def ensure_session(self) -> Session:
        """The live session, logging in if there is none or it is older than its lifetime."""
        return await self._auth.current()

    async def latest_glucose(self, minutes: int, max_count: int) -> ShareReadings:
        """Readings of the last ``minutes`` (≤ 1440), at most ``max_count`` (≤ 288), newest first.

        Raises AuthError / LockedOutError (never retried), SessionExpiredError (after the one
        re-login), RateLimitedError, RemoteServerError, CannotConnectError.
        """
        minutes = max(0, min(int(minutes), MAX_MINUTES))
        max_count = max(0, min(int(max_count), MAX_COUNT))
        url = self._base.join(READ_LATEST).copy_merge_params(
            {"minutes": minutes, "maxCount": max_count}
        )
        request = self._client.build_request("POST", url, headers=_HEADERS, content=b"{}")
        response = await self._send_authenticated(request)
        return parse_readings(json_body(response, VENDOR))

    async def _send_authenticated(self, request: httpx.Request) -> httpx.Response:
        """Send through ``SessionAuth`` (session id attached, one re-login on expiry)."""
        try:
            response = await send(self._client, request, auth=self._auth)
        except NightbridgeError as exc:
            raise self._scrub(exc) from None
        self._raise(response)
        return response

    async def _login(self) -> Session:
        """Both login steps (or only the second); raises the mapped error, never retries."""
        account_id = self._account_id
        if account_id is None:
            account_id = await self._post_uuid(
                AUTHENTICATE, {"accountName": self._settings.username or ""}, "account id"
            )
            self._account_id = account_id
        session_id = await self._post_uuid(LOGIN_BY_ID, {"accountId": account_id}, "session id")
        return Session(
            token=session_id,
            obtained_at=self._clock(),
            lifetime=SESSION_LIFETIME,
            account_id=account_id,
        )

    async def _post_uuid(self, path: str, fields: dict[str, str], what: str) -> str:
        body = {
            **fields,
            "password": self._settings.password.get_secret_value(),
            "applicationId": self._settings.resolved_application_id,
        }
        request = self._client.build_request(
            "POST", self._base.join(path), headers=_HEADERS, json=body
        )
        try:
            response = await send(self._client, request)
            self._raise(response)
            value = parse_uuid_string(json_body(response, VENDOR), what)
        except NightbridgeError as exc:
            raise self._scrub(exc) from None
        if value == NULL_UUID:
            raise AuthError(f"{VENDOR}: login answered an empty {what}; check the username")
        return value

    def _raise(self, response: httpx.Response) -> None:
        try:
            raise_for_share(response)
        except NightbridgeError as exc:
            raise self._scrub(exc) from None

    def _scrub(self, exc: NightbridgeError) -> NightbridgeError:
        """Remove the password and session id from an error's text (defence in depth)."""
        secrets = [self._settings.password.get_secret_value()]
        if self._auth.session is not None:
            secrets.append(self._auth.session.token)
        cleaned = redact(exc.message, secrets)
        if cleaned != exc.message:
            exc.message = cleaned
            exc.args = (cleaned,)
        return exc


def _apply_session(request: httpx.Request, session: Session) -> None:
    request.url = request.url.copy_set_param("sessionId", session.token)
