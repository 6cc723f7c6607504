"""Upload into a Nightscout server through REST API v3 (cgm-remote-monitor 15.x).

v3 accepts only ``Authorization: Bearer <JWT>``; the JWT is exchanged for the access token at
``/api/v2/authorization/request/<token>``, renewed five minutes before it expires and once
more when the server answers 401. v3 has no bulk create: every document is one POST carrying
our ``identifier`` plus the required ``date``, ``utcOffset`` (0 when absent) and ``app``; up to
``concurrency`` POSTs are in flight at once.

Answers (shared/reference/nightscout-api.md §4.5): 201 is a new document; 200 with
``isDeduplication`` means the server already held it (counted as a duplicate). A 400 "Field X
cannot be modified by the client" means the document exists (typically written through v1 without
``app``) and v3 refuses to overwrite it: also counted as a duplicate, never retried forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import orjson
from pydantic import SecretStr

from nightbridge.engine.sessions import Clock, Session, monotonic
from nightbridge.errors import AuthError, FatalError, RemoteServerError
from nightbridge.identity import identify, unique_by_identifier
from nightbridge.model import Collection, NSDocument
from nightbridge.outputs.base import WriteResult
from nightbridge.outputs.nightscout_auth import DEFAULT_JWT_LIFETIME, JwtSession
from nightbridge.outputs.nightscout_v1 import DEFAULT_TIMEOUT, base_url_of, doc_time, label_of
from nightbridge.sources.transport import json_body, raise_for_status, send

APP_NAME = "nightbridge"
_IMMUTABLE_HINT = b"cannot be modified by the client"


class NightscoutV3Output:
    """A Nightscout server written through ``/api/v3`` with a JWT from an access token."""

    kind: ClassVar[str] = "nightscout_v3"

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Clock = monotonic,
        concurrency: int = 8,
    ) -> None:
        self._base = base_url_of(base_url)
        self.label = label_of(base_url)
        self._vendor = f"Nightscout {self.label}"
        self._token = token
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self._clock = clock
        self._jwt = JwtSession(self._request_jwt, clock)
        self._limit = asyncio.Semaphore(max(1, concurrency))

    @property
    def jwt_fetches(self) -> int:
        """How many JWTs were requested so far (for tests and metrics)."""
        return self._jwt.fetches

    async def _request_jwt(self) -> Session:
        """Exchange the access token for a JWT (no secret appears in any error text)."""
        url = f"{self._base}/api/v2/authorization/request/{self._token.get_secret_value()}"
        response = await send(self._client, self._client.build_request("GET", url))
        if response.status_code == 401:
            raise AuthError(f"{self._vendor}: access token rejected")
        if response.status_code == 404:
            raise FatalError(f"{self._vendor}: no API v2 authorization (server too old for v3)")
        raise_for_status(response, self._vendor)
        answer = json_body(response, self._vendor)
        jwt = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(jwt, str) or not jwt:
            raise RemoteServerError(f"{self._vendor}: authorization answer without a token")
        lifetime = DEFAULT_JWT_LIFETIME
        iat, exp = answer.get("iat"), answer.get("exp")
        if isinstance(iat, int | float) and isinstance(exp, int | float) and exp > iat:
            lifetime = timedelta(seconds=exp - iat)
        return Session(token=jwt, obtained_at=self._clock(), lifetime=lifetime)

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        """One authorised request; on 401 the JWT is renewed once and the request repeated."""
        jwt = await self._jwt.token()
        for attempt in range(2):
            request = self._client.build_request(
                method,
                f"{self._base}{path}",
                params=params,
                content=body,
                headers={
                    "authorization": f"Bearer {jwt}",
                    "content-type": "application/json",
                    "accept": "application/json",
                },
            )
            response = await send(self._client, request)
            if response.status_code != 401 or attempt:
                return response
            jwt = await self._jwt.renew(jwt)
        raise AssertionError("unreachable")

    async def open(self) -> None:
        """Obtain the first JWT: AuthError now rather than at the first write."""
        await self._jwt.token()

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        """Epoch ms of the newest document (of ``device``) by ``date``, or None."""
        params = {"sort$desc": "date", "limit": "1", "fields": "date"}
        if device is not None:
            params["device$eq"] = _literal(device)
        response = await self._send("GET", f"/api/v3/{collection.value}", params)
        raise_for_status(response, self._vendor)
        answer = json_body(response, self._vendor)
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, list) or not result or not isinstance(result[0], dict):
            return None
        return doc_time(result[0], "date")

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        """Create every document (``concurrency`` at a time); raises the first failure after
        all attempts finished (a fatal one before a transient one).

        Documents repeating an identifier within ``docs`` are sent once (the last one, as
        ``unique_by_identifier`` keeps) and the repeats counted as duplicates: two creates of
        one identifier in flight at once would race on the server, where Nightscout's
        find-then-insert can store both.
        """
        unique = unique_by_identifier(docs)
        outcomes = await asyncio.gather(
            *(self._create(collection, doc) for doc in unique), return_exceptions=True
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            fatal = [e for e in errors if isinstance(e, FatalError)]
            raise (fatal or errors)[0]
        result = WriteResult(duplicates=len(docs) - len(unique))
        for outcome in outcomes:
            assert isinstance(outcome, WriteResult)
            result += outcome
        return result

    async def _create(self, collection: Collection, doc: NSDocument) -> WriteResult:
        payload = _payload(doc)
        async with self._limit:
            response = await self._send(
                "POST", f"/api/v3/{collection.value}", body=orjson.dumps(payload)
            )
        if response.status_code == 201:
            return WriteResult(created=1)
        if response.status_code == 400 and _IMMUTABLE_HINT in response.content:
            return WriteResult(duplicates=1)
        raise_for_status(response, self._vendor)
        answer = json_body(response, self._vendor)
        if isinstance(answer, dict) and answer.get("isDeduplication"):
            return WriteResult(duplicates=1)
        return WriteResult(created=1)

    async def aclose(self) -> None:
        """Close the HTTP client if this output created it."""
        if self._own_client:
            await self._client.aclose()


def _payload(doc: NSDocument) -> dict[str, Any]:
    identify(doc)
    data = doc.to_nightscout()
    data.pop("_id", None)
    data.setdefault("utcOffset", 0)
    data.setdefault("app", APP_NAME)
    return data


def _literal(value: str) -> str:
    """A v3 filter value that stays a string (numbers and booleans would be converted)."""
    numeric = value.replace(".", "", 1).lstrip("+-").isdigit()
    return f"'{value}'" if numeric or value in ("true", "false") else value
