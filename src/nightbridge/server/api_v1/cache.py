"""A short-lived cache of rendered v1 GET answers, as cgm-remote-monitor keeps recent data in
memory (lib/server/cache.js) so followers polling every few seconds do not each hit the database.

Keyed by collection, path, query string and Accept header; an entry lives ``ttl_s`` (1 s by
default, ``NIGHTBRIDGE_RESPONSE_CACHE_TTL``; 0 turns it off) and every v1 or v3 write to the
collection drops that collection's entries at once, so a client reads its own writes. Writes
that bypass both APIs (connectors, another process) become visible within ``ttl_s``.
Concurrent misses of one key share one database query. Authorization is checked before the
cache is consulted.

An optional layer: the uncached path splices the stored JSON (api_v1.splice) and reads SQLite
without aiosqlite (store.reader); the cache saves that work for followers that poll the same
URL many times a second (bench/server.py shows both).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

MAX_ENTRIES = 256


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered answer: body bytes, media type and the newest document time (epoch ms)."""

    body: bytes
    media_type: str
    newest_ms: int | None


class ResponseCache:
    def __init__(self, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[tuple[str, ...], tuple[float, Rendered]] = {}
        self._pending: dict[tuple[str, ...], asyncio.Future[Rendered]] = {}
        self._generation: dict[str, int] = {}

    def invalidate(self, collection: str) -> None:
        """Forget every answer of ``collection`` (called after each v1 write)."""
        self._generation[collection] = self._generation.get(collection, 0) + 1
        for key in [k for k in self._entries if k[0] == collection]:
            del self._entries[key]

    async def get(
        self, key: tuple[str, ...], render: Callable[[], Awaitable[Rendered]]
    ) -> Rendered:
        """The cached answer for ``key`` (``key[0]`` is the collection), else ``render()``."""
        if self.ttl_s <= 0:
            return await render()
        hit = self._entries.get(key)
        now = self._clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self._generation.get(key[0], 0)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            rendered = await render()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, no "never retrieved" warning
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(rendered)
        if generation == self._generation.get(key[0], 0):
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (now + self.ttl_s, rendered)
        return rendered


def response_cache(request: Request) -> ResponseCache:
    """The app's cache (created on first use)."""
    cache: ResponseCache | None = getattr(request.app.state, "v1_cache", None)
    if cache is None:
        cache = ResponseCache()
        request.app.state.v1_cache = cache
    return cache


def cache_key(request: Request, collection: str) -> tuple[str, ...]:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return (collection, request.scope["path"], query, request.headers.get("accept", ""))
