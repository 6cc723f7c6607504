"""Upload into a Nightscout server through REST API v1 (works with cgm-remote-monitor 14.x-15.x).

Credentials: the ``api-secret`` header carries the hex SHA-1 of API_SECRET (or the pre-hashed
value given), and/or an access token travels as ``?token=``. ``open()`` asks
``/api/v1/verifyauth`` before anything is written and stops with ``AuthError`` if the answer is
not ``OK`` or says the credentials cannot write.

Idempotency (shared/reference/nightscout-api.md §2.4-2.8): the server upserts entries on
``sysTime`` + ``type`` and treatments on ``created_at`` + ``eventType`` (15.0.7: ``identifier``
first), so re-posting them is safe. Devicestatus, profile and food are plain inserts on the
server: before posting those, this output reads what the server already holds (devicestatus
in the batch's ``created_at`` range; profile and food whole) and leaves out every document whose
``identifier``, or for devicestatus whose (``created_at``, ``device``), is already there. The
server never says how many of a POST were new; entries and treatments count as created when
the echo carries an ``_id`` (15.0.7 echoes ``_id`` only for inserts), else as duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
import orjson
from pydantic import SecretStr

from nightbridge.errors import AuthError, ConfigError, RemoteServerError, SkippableError
from nightbridge.identity import unique_by_identifier
from nightbridge.model import Collection, NSDocument
from nightbridge.model.time import MIN_VALID_MS, iso_utc, parse_any
from nightbridge.outputs.base import WriteResult
from nightbridge.outputs.nightscout_auth import hash_api_secret
from nightbridge.sources.transport import json_body, raise_for_status, send

#: Collections the server stores without any de-duplication (checked client-side).
NOT_IDEMPOTENT = frozenset({Collection.DEVICESTATUS, Collection.PROFILE, Collection.FOOD})
#: Upper bound of documents read back when checking what the server already holds.
READBACK_LIMIT = 10_000
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Request body limits of cgm-remote-monitor: 1 MB for devicestatus/profile/food, 50 MB for
#: entries/treatments (a little is kept free for the server's own accounting).
SMALL_BODY_LIMIT = 900_000
LARGE_BODY_LIMIT = 45_000_000
_JSON = {"content-type": "application/json", "accept": "application/json"}


def base_url_of(url: str) -> str:
    """``url`` with a scheme (https if none was given) and without a trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = f"https://{url}"
    return url.rstrip("/")


def label_of(url: str) -> str:
    """``scheme://host:port`` of ``url``: how logs and cursors name the output (no secrets)."""
    parsed = httpx.URL(base_url_of(url))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host}:{port}"


def doc_time(doc: dict[str, Any], *fields: str) -> int | None:
    """Epoch ms from the first of ``fields`` that holds a time, else None."""
    for field in fields:
        value = doc.get(field)
        if value is None:
            continue
        try:
            return parse_any(value, field)
        except SkippableError:
            continue
    return None


class NightscoutV1Output:
    """A Nightscout server written through ``/api/v1``."""

    kind: ClassVar[str] = "nightscout_v1"

    def __init__(
        self,
        base_url: str,
        api_secret: SecretStr | None = None,
        token: SecretStr | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        batch_size: int = 500,
        secret_is_hashed: bool = False,
    ) -> None:
        if api_secret is None and token is None:
            raise ConfigError(
                "Nightscout v1: give an API secret or an access token",
                variable="NIGHTBRIDGE_NIGHTSCOUT_API_SECRET",
            )
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._base = base_url_of(base_url)
        self.label = label_of(base_url)
        self._headers = dict(_JSON)
        if api_secret is not None:
            raw = api_secret.get_secret_value()
            self._headers["api-secret"] = raw.lower() if secret_is_hashed else hash_api_secret(raw)
        self._params = {"token": token.get_secret_value()} if token is not None else {}
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self.batch_size = batch_size

    async def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Any:
        request = self._client.build_request(
            method,
            f"{self._base}{path}",
            params={**(params or {}), **self._params},
            headers=self._headers,
            content=body,
        )
        response = await send(self._client, request)
        raise_for_status(response, f"Nightscout {self.label}")
        return json_body(response, f"Nightscout {self.label}")

    async def open(self) -> None:
        """Check the credentials with ``GET /api/v1/verifyauth``; AuthError if they cannot write."""
        answer = await self._call("GET", "/api/v1/verifyauth")
        verdict = answer.get("message") if isinstance(answer, dict) else None
        if not isinstance(verdict, dict):
            raise RemoteServerError(f"Nightscout {self.label}: unexpected verifyauth answer")
        if verdict.get("message") != "OK":
            raise AuthError(f"Nightscout {self.label}: API secret or token rejected")
        if verdict.get("canWrite") is False:
            raise AuthError(f"Nightscout {self.label}: these credentials can read but cannot write")

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        """Epoch ms of the newest document (of ``device``), looking back past the 4-day default."""
        params: dict[str, str] = {"count": "1"}
        if device is not None:
            params["find[device]"] = device
        if collection == Collection.ENTRIES:
            params["find[date][$gte]"] = str(MIN_VALID_MS)
            found = await self._call("GET", "/api/v1/entries.json", params)
            return _first_time(found, "date", "dateString", "mills")
        if collection in (Collection.TREATMENTS, Collection.DEVICESTATUS):
            params["find[created_at][$gte]"] = iso_utc(MIN_VALID_MS)
            found = await self._call("GET", f"/api/v1/{collection.value}.json", params)
            return _first_time(found, "created_at", "date", "mills")
        found = await self._call("GET", f"/api/v1/{collection.value}.json", params)
        if not isinstance(found, list):
            return None
        times = [doc_time(d, "date", "created_at", "startDate", "mills") for d in found]
        return max((t for t in times if t is not None), default=None)

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        """POST ``docs`` in batches of ``batch_size``; returns after every batch was accepted.

        A document repeating an identifier within ``docs`` is posted once (the last one, as
        ``unique_by_identifier`` keeps) and the repeats counted as duplicates: the server
        stores devicestatus, profile and food twice, and runs its upserts in parallel.
        """
        unique = unique_by_identifier(docs)
        result = WriteResult(duplicates=len(docs) - len(unique))
        for start in range(0, len(unique), self.batch_size):
            batch = [_payload(d) for d in unique[start : start + self.batch_size]]
            skipped = 0
            if collection in NOT_IDEMPOTENT:
                fresh = await self._not_stored(collection, batch)
                skipped, batch = len(batch) - len(fresh), fresh
            result += WriteResult(duplicates=skipped)
            limit = SMALL_BODY_LIMIT if collection in NOT_IDEMPOTENT else LARGE_BODY_LIMIT
            for body, count in _bodies(batch, limit):
                result += await self._post(collection, body, count)
        return result

    async def _post(self, collection: Collection, body: bytes, count: int) -> WriteResult:
        echo = await self._call("POST", f"/api/v1/{collection.value}", body=body)
        if collection in NOT_IDEMPOTENT or not isinstance(echo, list) or len(echo) != count:
            return WriteResult(created=count)
        created = sum(1 for item in echo if isinstance(item, dict) and "_id" in item)
        return WriteResult(created=created, duplicates=count - created)

    async def _not_stored(
        self, collection: Collection, batch: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The documents of ``batch`` the server does not hold yet."""
        params = {"count": str(READBACK_LIMIT)}
        if collection == Collection.DEVICESTATUS:
            stamps = [d["created_at"] for d in batch if isinstance(d.get("created_at"), str)]
            if stamps:
                params["find[created_at][$gte]"] = min(stamps)
                params["find[created_at][$lte]"] = max(stamps)
        stored = await self._call("GET", f"/api/v1/{collection.value}.json", params)
        if not isinstance(stored, list):
            raise RemoteServerError(f"Nightscout {self.label}: expected a list of documents")
        ids = {d.get("identifier") for d in stored if isinstance(d, dict)} - {None}
        pairs = set()
        if collection == Collection.DEVICESTATUS:
            pairs = {(d.get("created_at"), d.get("device")) for d in stored if isinstance(d, dict)}
        return [
            d
            for d in batch
            if d.get("identifier") not in ids
            and (d.get("created_at"), d.get("device")) not in pairs
        ]

    async def aclose(self) -> None:
        """Close the HTTP client if this output created it."""
        if self._own_client:
            await self._client.aclose()


def _payload(doc: NSDocument) -> dict[str, Any]:
    data = doc.to_nightscout()
    data.pop("_id", None)  # another server's id; our key is ``identifier``
    return data


def _bodies(batch: list[dict[str, Any]], limit: int) -> list[tuple[bytes, int]]:
    """JSON array bodies of at most ``limit`` bytes (one document may exceed it alone), with
    the number of documents in each."""
    out: list[tuple[bytes, int]] = []
    parts: list[bytes] = []
    size = 2
    for doc in batch:
        part = orjson.dumps(doc)
        if parts and size + len(part) + 1 > limit:
            out.append((b"[" + b",".join(parts) + b"]", len(parts)))
            parts, size = [], 2
        parts.append(part)
        size += len(part) + 1
    if parts:
        out.append((b"[" + b",".join(parts) + b"]", len(parts)))
    return out


def _first_time(found: Any, *fields: str) -> int | None:
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        return None
    return doc_time(found[0], *fields)
