"""The ASGI application: Nightscout API v1 (also under /api/v2), v2 authorization, v3, and the
hooks for dashboard/health/metrics.

``create_app(config, store=None, connectors=())``: the lifespan opens the store from
``config.database()`` when none is given (migrations apply on open) and closes it at the end;
a given store belongs to the caller. Each connector is a coroutine function
``job(store, stop: asyncio.Event)`` started as a background task and stopped (``stop`` set, then
cancelled after ``STOP_GRACE_S``) when the server shuts down.

Optional routers are included when their modules exist: ``nightbridge.server.api_v3.router``
(at /api/v3), ``nightbridge.server.health.router``, ``nightbridge.server.metrics.router`` and
``nightbridge.server.dashboard.router`` (at the root).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from fastapi import APIRouter, FastAPI

from nightbridge.server.api_v1 import root_router
from nightbridge.server.api_v1 import router as v1_router
from nightbridge.server.api_v1.cache import ResponseCache
from nightbridge.server.api_v1.formats import ExtensionToAccept
from nightbridge.server.api_v2 import router as v2_router
from nightbridge.server.auth import AuthService
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.auth.roles import Role, Subject
from nightbridge.server.config import ServerConfig
from nightbridge.server.errors import install_error_handlers
from nightbridge.server.metrics import RequestMetrics
from nightbridge.server.openapi import install as install_openapi
from nightbridge.store import Store

log = logging.getLogger(__name__)

Connector = Callable[[Store, asyncio.Event], Awaitable[None]]
STOP_GRACE_S = 5.0
_OPTIONAL_ROUTERS = (
    ("nightbridge.server.api_v3", "/api/v3"),
    ("nightbridge.server.health", ""),
    ("nightbridge.server.metrics", ""),
    ("nightbridge.server.dashboard", ""),
)


class StoreDirectory:
    """The store's roles and subjects as the auth module sees them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def list_roles(self) -> list[Role]:
        return [
            Role(r.name, tuple(r.permissions), r.name, r.notes)
            for r in await self._store.list_roles()
        ]

    async def list_subjects(self) -> list[Subject]:
        return [
            Subject(s.id, s.name, tuple(s.roles), s.notes)
            for s in await self._store.list_subjects()
        ]


def _optional_router(module_name: str) -> APIRouter | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    router = getattr(module, "router", None)
    return router if isinstance(router, APIRouter) else None


async def _run_connector(job: Connector, store: Store, stop: asyncio.Event) -> None:
    try:
        await job(store, stop)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("a connector stopped with an error")


def create_app(
    config: ServerConfig,
    *,
    store: Store | None = None,
    connectors: Sequence[Connector] = (),
    clock: Callable[[], int] | None = None,
    delays: FailureDelays | None = None,
) -> FastAPI:
    """The server app. ``clock`` (epoch ms) and ``delays`` are injectable for tests."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        opened = store if store is not None else await Store.open(config.database())
        app.state.store = opened
        app.state.auth = AuthService(
            config.secret,
            config.auth_default_roles,
            StoreDirectory(opened),
            delays=delays or FailureDelays(config.auth_fail_delay_ms / 1000),
        )
        await app.state.auth.reload()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_run_connector(job, opened, stop)) for job in connectors]
        app.state.stop = stop
        try:
            yield
        finally:
            stop.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            if owned:
                await opened.close()

    app = FastAPI(
        title="nightbridge (Nightscout-compatible API)",
        lifespan=lifespan,
        docs_url="/api-docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.config = config
    app.state.clock = clock or (lambda: int(time.time() * 1000))
    app.state.v1_cache = ResponseCache(config.response_cache_ttl_s)
    install_error_handlers(app)
    app.include_router(v1_router, prefix="/api/v1", tags=["API v1"])
    app.include_router(v2_router, prefix="/api/v2", tags=["API v2"])
    app.include_router(
        v1_router, prefix="/api/v2", tags=["API v1 under v2"], include_in_schema=False
    )
    app.include_router(root_router)
    for module_name, prefix in _OPTIONAL_ROUTERS:
        router = _optional_router(module_name)
        if router is not None:
            app.include_router(router, prefix=prefix)
    app.add_middleware(RequestMetrics)  # inside ExtensionToAccept: it sees the route
    app.add_middleware(ExtensionToAccept)
    install_openapi(app)
    return app
