"""``/api/v3/version`` (public), ``/api/v3/status`` and ``/api/v3/lastModified``.

``version`` names the cgm-remote-monitor release whose API this server reproduces (clients
compare it) and the API v3 version; ``status`` adds the caller's ``apiPermissions`` per
collection (a subset of ``crud``); ``lastModified`` gives, per readable collection, the newest of
``srvModified`` and ``date`` (entries) or ``created_at`` (others) in epoch ms
(lib/api3/specific/{version,status,lastModified}.js).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from nightbridge import __version__ as nightbridge_version
from nightbridge.server.api_v3.access import COLLECTIONS, authenticate
from nightbridge.server.api_v3.documents import parse_moment
from nightbridge.server.api_v3.responses import result
from nightbridge.server.api_v3.storage import storage_of

#: The cgm-remote-monitor release and API v3 version this server behaves as.
NIGHTSCOUT_VERSION = "15.0.7"
API_VERSION = "3.0.3-alpha"
_LETTERS = (("c", "create"), ("r", "read"), ("u", "update"), ("d", "delete"))


def _version_info(request: Request) -> dict[str, Any]:
    return {
        "version": NIGHTSCOUT_VERSION,
        "apiVersion": API_VERSION,
        "srvDate": storage_of(request).clock(),
        "storage": {"storage": storage_of(request).kind, "version": nightbridge_version},
        "nightbridge": nightbridge_version,
    }


async def version(request: Request) -> Response:
    return result(_version_info(request))


async def status(request: Request) -> Response:
    principal = await authenticate(request)
    permissions: dict[str, str] = {}
    for collection in COLLECTIONS:
        letters = "".join(
            letter for letter, op in _LETTERS if principal.can(f"api:{collection}:{op}")
        )
        if letters:
            permissions[collection] = letters
    return result({**_version_info(request), "apiPermissions": permissions})


async def last_modified(request: Request) -> Response:
    principal = await authenticate(request)
    storage = storage_of(request)
    collections: dict[str, int] = {}
    for collection in COLLECTIONS:
        if not principal.can(f"api:{collection}:read"):
            continue
        field = "date" if collection == "entries" else "created_at"
        candidates = [await storage.newest(collection)]
        newest = await storage.newest_by(collection, field)
        if newest is not None:
            moment = parse_moment(newest.get(field))
            candidates.append(None if moment is None else moment[0])
        values = [v for v in candidates if v is not None]
        if values:
            collections[collection] = max(values)
    return result({"srvDate": storage.clock(), "collections": collections})
