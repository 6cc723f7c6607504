"""The LibreLinkUp HTTP API: login (with region redirects), connections, graph, logbook.

Login is lazy and reused for the ticket's ``duration``; when the vendor answers an
authenticated call with HTTP 401 (or body status 2) the ``SessionAuth`` flow logs in again
exactly once. Every call carries ``product`` and ``version``; calls after login also carry
``Authorization: Bearer <token>`` and ``Account-Id`` = lower-case hex SHA-256 of the user id.
A redirect at login (``redirect: true, region: r``) moves this client to region ``r``'s host for
good (at most two hops, never back to a region already tried).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from nightbridge.engine.sessions import Clock, Session, monotonic
from nightbridge.errors import FatalError, RemoteServerError
from nightbridge.sources.auth import SessionAuth
from nightbridge.sources.librelinkup import errors
from nightbridge.sources.librelinkup.settings import LibreSettings, region_base_url
from nightbridge.sources.librelinkup.wire import (
    Connection,
    ConnectionsResponse,
    DataEnvelope,
    GraphData,
    GraphResponse,
    Item,
    LogbookResponse,
    LoginEnvelope,
)
from nightbridge.sources.transport import json_body, send

LOGIN_PATH = "/llu/auth/login"
MAX_REDIRECTS = 2
#: Lifetime assumed when a ticket states none (the 180 days every fixture shows).
DEFAULT_TICKET_DURATION = timedelta(days=180)

M = TypeVar("M", bound=BaseModel)


def account_id(user_id: str) -> str:
    """The ``Account-Id`` header: lower-case hex SHA-256 of the logged-in user's id."""
    return hashlib.sha256(user_id.encode()).hexdigest()


def is_expired(response: httpx.Response) -> bool:
    """The vendor's "token no longer valid": HTTP 401, or a body with status 2."""
    if response.status_code == 401:
        return True
    if response.status_code >= 300:
        return False
    body = errors.peek_json(response)
    return isinstance(body, dict) and body.get("status") == errors.STATUS_NOT_AUTHENTICATED


class LibreLinkUpApi:
    """One LibreLinkUp account over an injected ``httpx.AsyncClient``.

    ``region_url`` maps a redirect's region key to a base URL (default: the region table).
    """

    def __init__(
        self,
        settings: LibreSettings,
        client: httpx.AsyncClient,
        clock: Clock = monotonic,
        *,
        region_url: Callable[[str], str] = region_base_url,
    ) -> None:
        self.settings = settings
        self._client = client
        self._clock = clock
        self._region_url = region_url
        self.base_url = settings.base_url
        self.region: str | None = None
        self.login_attempts = 0
        self.auth = SessionAuth(self._login, self._apply, is_expired, clock)
        self._patient_id: str | None = None

    @property
    def session(self) -> Session | None:
        return self.auth.session

    def _headers(self) -> dict[str, str]:
        return {
            "product": self.settings.product,
            "version": self.settings.version,
            "Accept": "application/json",
            "Content-Type": "application/json;charset=UTF-8",
        }

    async def login(self) -> Session:
        """Log in now (following region redirects) and keep the session."""
        self.auth.forget()
        return await self.auth.current()

    async def _login(self) -> Session:
        tried: set[str] = set()
        for _ in range(MAX_REDIRECTS + 1):
            envelope = await self._post_login()
            errors.check_login(envelope)
            data = envelope.data
            assert data is not None
            if not data.redirect:
                assert data.authTicket is not None and data.user is not None and data.user.id
                ticket = data.authTicket
                lifetime = (
                    timedelta(milliseconds=ticket.duration)
                    if ticket.duration and ticket.duration > 0
                    else DEFAULT_TICKET_DURATION
                )
                return Session(
                    token=ticket.token,
                    obtained_at=self._clock(),
                    lifetime=lifetime,
                    account_id=account_id(data.user.id),
                )
            region = (data.region or "").strip().lower()
            if not region or region in tried or region == self.region:
                raise RemoteServerError(f"{errors.VENDOR}: login redirected in a loop")
            tried.add(region)
            try:
                self.base_url = self._region_url(region)
            except ValueError:
                raise FatalError(
                    f"{errors.VENDOR}: the account lives in region {region[:10]!r}, which "
                    "nightbridge does not know; set NIGHTBRIDGE_LIBRE_SERVER to its API host"
                ) from None
            self.region = region
        raise RemoteServerError(f"{errors.VENDOR}: too many login redirects")

    async def _post_login(self) -> LoginEnvelope:
        body = {
            "email": self.settings.username,
            "password": self.settings.password.get_secret_value(),
        }
        request = self._client.build_request(
            "POST", self.base_url + LOGIN_PATH, json=body, headers=self._headers()
        )
        self.login_attempts += 1
        response = await send(self._client, request)
        errors.check_http(response)
        raw = json_body(response, errors.VENDOR)
        if isinstance(raw, dict):
            errors.check_fatal_body(raw)
        return _parse(LoginEnvelope, raw, "login")

    def _apply(self, request: httpx.Request, session: Session) -> None:
        request.headers["Authorization"] = f"Bearer {session.token}"
        if session.account_id:
            request.headers["Account-Id"] = session.account_id

    async def _get(self, path: str) -> DataEnvelope:
        await self.auth.current()  # log in first: a redirect may change the host
        request = self._client.build_request("GET", self.base_url + path, headers=self._headers())
        response = await send(self._client, request, auth=self.auth)
        errors.check_http(response)
        raw = json_body(response, errors.VENDOR)
        if isinstance(raw, dict):
            errors.check_fatal_body(raw)
        return _parse(DataEnvelope, raw, path)

    async def connections(self) -> list[Connection]:
        """Everyone the account follows (possibly nobody)."""
        envelope = await self._get("/llu/connections")
        if envelope.status != errors.STATUS_OK:
            raise RemoteServerError(
                f"{errors.VENDOR}: connections answered status {envelope.status}"
            )
        return _parse(ConnectionsResponse, {"data": envelope.data}, "connections").data

    async def patient_id(self) -> str:
        """The followed patient: the configured ``patient_id``, else the first connection.

        FatalError when the account follows nobody or the configured id is not among them
        (the message names no other patient).
        """
        if self._patient_id is not None:
            return self._patient_id
        connections = await self.connections()
        if not connections:
            raise FatalError(
                f"{errors.VENDOR}: this account follows nobody; accept the invitation in the "
                "LibreLinkUp app first"
            )
        wanted = self.settings.patient_id
        if wanted is None:
            self._patient_id = connections[0].patientId
        elif any(c.patientId == wanted for c in connections):
            self._patient_id = wanted
        else:
            raise errors.PatientNotFoundError(f"{errors.VENDOR}: patient id not found")
        return self._patient_id

    async def _patient_get(self, patient_id: str, what: str) -> DataEnvelope:
        envelope = await self._get(f"/llu/connections/{patient_id}/{what}")
        if envelope.status == errors.STATUS_OK:
            return envelope
        self._patient_id = None
        if envelope.status == errors.STATUS_ACTION_REQUIRED and envelope.error is not None:
            if self.settings.patient_id is not None:
                raise errors.PatientNotFoundError(f"{errors.VENDOR}: patient id not found")
            raise RemoteServerError(f"{errors.VENDOR}: the followed patient could not be loaded")
        raise RemoteServerError(f"{errors.VENDOR}: {what} answered status {envelope.status}")

    async def graph(self, patient_id: str) -> GraphData:
        """About 12 h of 5-minute history plus the connection with the current reading."""
        envelope = await self._patient_get(patient_id, "graph")
        return _parse(GraphResponse, {"data": envelope.data}, "graph").data

    async def logbook(self, patient_id: str) -> list[Item]:
        """About 14 days of events (scans, alarms), newest first."""
        envelope = await self._patient_get(patient_id, "logbook")
        return _parse(LogbookResponse, {"data": envelope.data}, "logbook").data


def _parse(model: type[M], raw: Any, what: str) -> M:
    """Validate a body; a shape we do not understand is a (retriable) vendor fault."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RemoteServerError(
            f"{errors.VENDOR}: unexpected {what} answer ({where}: {first['msg'][:60]})"
        ) from None
