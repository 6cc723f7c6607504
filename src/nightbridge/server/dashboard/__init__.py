"""The dashboard: one page at ``/`` and what it needs, shipped in the package (no CDN).

- ``GET /``: the page (``static/index.html``); ``GET /dashboard/{app.js,app.css,icon.svg}``.
  The page and assets are public (they hold no data); the page reads everything through the
  API with the caller's credential, so reading it needs the same permissions as the API.
- ``GET /dashboard/connectors.json``: ``{"now": ms, "connectors": [ConnectorRow...]}``, needs
  ``api:connectors:read`` (held by ``readable`` through ``*:*:read``).

When anonymous callers cannot read, the page asks for the API secret or an access token, keeps
its SHA-1 (or the token) in the browser's localStorage, and sends it as the ``api-secret``
header, never in a URL.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.server.api_v1.access import allowed, now_ms
from nightbridge.server.dashboard.connectors import rows_of
from nightbridge.server.deps import JSONBytesResponse, get_store
from nightbridge.server.errors import ApiError

router = APIRouter(tags=["dashboard"], include_in_schema=False)

#: Asset name → media type; nothing else is served from the static folder.
ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
#: Revalidate every time: an upgrade must not leave an old script running against a new API.
_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@cache
def asset(name: str) -> bytes:
    """The bytes of a packaged asset (read once)."""
    return resources.files(__package__).joinpath("static", name).read_bytes()


@router.get("/")
async def page() -> Response:
    return Response(asset("index.html"), media_type=ASSETS["index.html"], headers=_CACHE)


@router.get("/dashboard/connectors.json")
async def connectors(request: Request) -> Response:
    """The connector table (see ``dashboard.connectors``)."""
    await allowed(request, "api:connectors:read")
    rows = rows_of(await get_store(request).connector_status())
    return JSONBytesResponse(
        {"now": now_ms(request), "connectors": [r.model_dump(mode="json") for r in rows]},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/dashboard/{name}")
async def static_asset(name: str) -> Response:
    media = ASSETS.get(name)
    if media is None or name == "index.html":
        raise ApiError(404, "Not Found", f"no dashboard asset {name}")
    return Response(asset(name), media_type=media, headers=_CACHE)
