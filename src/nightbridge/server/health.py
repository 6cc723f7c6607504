"""Probes for orchestrators (Kubernetes, systemd, Docker health checks). No authentication:
they reveal nothing but "up" and the schema version.

- ``GET /healthz``: 200 ``{"status": "ok"}`` while the process serves requests; touches no
  database (a liveness probe must not fail because the database is slow).
- ``GET /readyz``: 200 ``{"status": "ready", "schema": N}`` when the store answers a query and
  its schema is at the latest migration this code ships; otherwise 503 with ``status``
  ``"unavailable"`` and a ``reason`` (``store unreachable`` or ``migrations pending``).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.errors import RetriableError
from nightbridge.server.deps import JSONBytesResponse, get_store
from nightbridge.store.migrations import latest_version

router = APIRouter(tags=["operations"])
_NO_CACHE = {"Cache-Control": "no-store"}


@router.get("/healthz")
async def healthz() -> Response:
    """Liveness: the process answers."""
    return JSONBytesResponse({"status": "ok"}, headers=_NO_CACHE)


def _unavailable(reason: str) -> Response:
    return JSONBytesResponse(
        {"status": "unavailable", "reason": reason}, status_code=503, headers=_NO_CACHE
    )


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: store reachable and migrated (200), else 503 with the reason."""
    store = get_store(request)
    if not await store.ping():
        return _unavailable("store unreachable")
    try:
        version = await store.schema_version()
    except RetriableError:
        return _unavailable("store unreachable")
    if version < latest_version(store.dialect):
        return _unavailable("migrations pending")
    return JSONBytesResponse({"status": "ready", "schema": version}, headers=_NO_CACHE)
