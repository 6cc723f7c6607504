"""API v1 (cgm-remote-monitor lib/api): mounted at ``/api/v1`` and again at ``/api/v2``.

``root_router`` holds the routes outside the prefix (``/api/versions``, ``/pebble``).
"""

from fastapi import APIRouter

from nightbridge.server.api_v1 import devicestatus, entries, pebble, profile, status, treatments

router = APIRouter()
for module in (entries, treatments, devicestatus, profile, status):
    router.include_router(module.router)

root_router = pebble.router

__all__ = ["root_router", "router"]
