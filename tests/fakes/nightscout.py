"""A fake Nightscout (cgm-remote-monitor 15.0.7 semantics) as an in-memory ASGI app.

Serves API v1 (``/api/v1`` and ``/api/v2``), the v2 JWT request and API v3, with the real
upsert keys and de-dup answers (see ``nightscout_v1`` / ``nightscout_v3``). Tests inspect what
was stored (``fake.entries`` ...) and what was asked (``fake.requests``, ``fake.count``), and
inject failures (``fail_next``, ``slow``, ``down``, ``die_after``).

    fake = FakeNightscout(api_secret="a long secret", tokens={"bridge-0123456789abcdef": "admin"})
    with serve(fake.app) as base_url: ...

Standalone: ``python -m tests.fakes.nightscout --port 8081 --api-secret S [--token T]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from nightbridge.model.time import iso_utc
from tests.fakes import nightscout_v1, nightscout_v3
from tests.fakes.nightscout_auth import FakeAuth
from tests.fakes.nightscout_store import Collection

Body = Literal["json", "html", "malformed"] | dict[str, Any] | list[Any]

OUTAGE_PAGE = b"<!DOCTYPE html><html><body><h1>Application Error</h1></body></html>"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake saw it (headers lower-cased; a test fake may hold secrets)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]

    @property
    def route(self) -> str:
        """``path`` without a ``.json`` suffix or trailing slash, e.g. ``/api/v1/entries``."""
        return self.path.rstrip("/").removesuffix(".json")


@dataclass(slots=True)
class _Failure:
    remaining: int
    status: int
    retry_after: float | None
    body: Body


class FakeNightscout:
    """In-memory Nightscout. ``app`` is the ASGI app; ``clock`` gives epoch seconds."""

    def __init__(
        self,
        api_secret: str | None = "nightbridge-test-secret",
        tokens: Mapping[str, str | Iterable[str]] | None = None,
        clock: Callable[[], float] = time.time,
        *,
        default_roles: Iterable[str] = ("readable",),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.auth = FakeAuth(api_secret, tokens or {}, default_roles, clock)
        self._collections = {name: Collection(name) for name in nightscout_v3.V3_COLLECTIONS}
        self.requests: list[RecordedRequest] = []
        self._sleep = sleep
        self._failures: list[_Failure] = []
        self._delay = 0.0
        self._down: Literal["503", "drop"] | None = None
        self._die_after: int | None = None
        self._die_mode: Literal["503", "drop"] = "503"
        self._starlette = Starlette(routes=self._routes())

    # --- what tests read ------------------------------------------------------------------

    def collection(self, name: str) -> Collection:
        return self._collections[name]

    @property
    def entries(self) -> list[dict[str, Any]]:
        return self._collections["entries"].docs

    @property
    def treatments(self) -> list[dict[str, Any]]:
        return self._collections["treatments"].docs

    @property
    def devicestatus(self) -> list[dict[str, Any]]:
        return self._collections["devicestatus"].docs

    @property
    def profile(self) -> list[dict[str, Any]]:
        return self._collections["profile"].docs

    @property
    def food(self) -> list[dict[str, Any]]:
        return self._collections["food"].docs

    def docs(self, name: str) -> list[dict[str, Any]]:
        """The stored documents of collection ``name`` (live list, insertion order)."""
        return self._collections[name].docs

    def count(self, method: str | None = None, route: str | None = None) -> int:
        """How many requests matched ``method`` and ``route`` (path minus ``.json``; prefix ok
        when it ends with ``/``, e.g. ``/api/v2/authorization/request/``)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (
                route is None
                or r.route == route.rstrip("/")
                or (route.endswith("/") and r.path.startswith(route))
            )
        )

    def insert(self, name: str, *docs: dict[str, Any]) -> None:
        """Put documents straight into storage (as if written long ago, e.g. by another
        uploader); they are stored as given plus an ``_id``."""
        for doc in docs:
            self._collections[name].insert(dict(doc))

    def reset(self) -> None:
        """Forget all documents, requests and injected failures."""
        for coll in self._collections.values():
            coll.clear()
        self.requests.clear()
        self._failures.clear()
        self._delay, self._down, self._die_after = 0.0, None, None

    # --- failure injection ----------------------------------------------------------------

    def fail_next(
        self, n: int = 1, status: int = 500, retry_after: float | None = None, body: Body = "json"
    ) -> None:
        """Answer the next ``n`` requests with ``status`` and ``body``: ``"json"`` (a
        Nightscout error object), ``"html"`` (an outage page), ``"malformed"`` (truncated
        JSON) or a given JSON value; ``Retry-After`` when ``retry_after`` is set."""
        self._failures.append(_Failure(n, status, retry_after, body))

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 turns it off)."""
        self._delay = seconds

    def down(self, is_down: bool = True, mode: Literal["503", "drop"] = "503") -> None:
        """While down, answer 503 with an HTML page, or (``mode="drop"``, loopback only) cut
        the connection mid-answer so the client sees a transport error."""
        self._down = mode if is_down else None

    def die_after(self, n: int | None, mode: Literal["503", "drop"] = "503") -> None:
        """Serve ``n`` more requests normally, then behave as ``down(True, mode)``."""
        self._die_after = None if n is None else len(self.requests) + n
        self._die_mode = mode

    # --- server facts ---------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def version(self) -> dict[str, Any]:
        return {"version": "15.0.7", "apiVersion": "3.0.3-alpha", "srvDate": self.now_ms()}

    def status(self) -> dict[str, Any]:
        now = self.now_ms()
        return {
            "status": "ok",
            "name": "nightscout",
            "version": "15.0.7",
            "serverTime": iso_utc(now),
            "serverTimeEpoch": now,
            "apiEnabled": True,
            "careportalEnabled": True,
            "settings": {"units": "mg/dl"},
        }

    # --- ASGI -----------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        async def v1(request: Request) -> Response:
            return await nightscout_v1.handle(self, request, request.path_params["rest"])

        async def v3(request: Request) -> Response:
            return await nightscout_v3.handle(self, request, request.path_params["rest"])

        async def jwt_request(request: Request) -> Response:
            return nightscout_v3.authorization_request(self, request.path_params["token"])

        methods = ["GET", "POST", "PUT", "DELETE"]
        return [
            Route("/api/v2/authorization/request/{token}", jwt_request, methods=["GET"]),
            Route("/api/v1/{rest:path}", v1, methods=methods),
            Route("/api/v2/{rest:path}", v1, methods=methods),
            Route("/api/v3/{rest:path}", v3, methods=methods),
        ]

    @property
    def app(self) -> FakeNightscout:
        """The ASGI app (the fake itself; an instance with an async ``__call__`` is what uvicorn
        recognises as ASGI 3, a bound method is not)."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point: record, inject failures, then serve."""
        if scope["type"] != "http":
            await self._starlette(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        self.requests.append(RecordedRequest(scope["method"], scope["path"], query, headers))
        if self._delay:
            await self._sleep(self._delay)
        if self._die_after is not None and len(self.requests) > self._die_after:
            self._down = self._die_mode
        if self._down == "drop":
            await send({"type": "http.response.start", "status": 200, "headers": _length(100)})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise ConnectionAbortedError("fake Nightscout dropped the connection")
        if self._down == "503":
            await _answer(send, 503, OUTAGE_PAGE, "text/html", None)
            return
        if self._failures:
            failure = self._failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.pop(0)
            await _answer(send, failure.status, *_failure_body(failure), failure.retry_after)
            return
        await self._starlette(scope, receive, send)


def _length(n: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(n).encode())]


def _failure_body(failure: _Failure) -> tuple[bytes, str]:
    if failure.body == "html":
        return OUTAGE_PAGE, "text/html"
    if failure.body == "malformed":
        return b'{"status": 200, "message": {"canRe', "application/json"
    if failure.body == "json":
        message = "Too Many Requests" if failure.status == 429 else "Mongo Error"
        return orjson.dumps({"status": failure.status, "message": message}), "application/json"
    return orjson.dumps(failure.body), "application/json"


async def _answer(
    send: Send, status: int, body: bytes, media: str, retry_after: float | None
) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> None:
    """Run a fake Nightscout on 127.0.0.1 until interrupted."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.fakes.nightscout")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--api-secret", default="nightbridge-test-secret")
    parser.add_argument(
        "--token", action="append", default=[], help="access token with the admin role"
    )
    args = parser.parse_args(argv)
    fake = FakeNightscout(api_secret=args.api_secret, tokens=dict.fromkeys(args.token, "admin"))
    print(f"fake Nightscout on http://127.0.0.1:{args.port}", flush=True)
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
