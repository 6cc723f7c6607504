"""DELETE ``/api/v3/{collection}/{identifier}[?permanent=true]`` (generic/delete/operation.js).

Soft by default: ``isValid`` false, ``srvModified`` now, ``modifiedBy`` the subject; READ then
answers 410 and HISTORY lists the document. ``permanent=true`` removes it. 404 when absent,
422 when read-only; 200 ``{status:200}`` otherwise (also for an already deleted document).
"""

from __future__ import annotations

from fastapi import Request, Response

from nightbridge.server.api_v3.access import caller, subject_name
from nightbridge.server.api_v3.documents import is_read_only
from nightbridge.server.api_v3.responses import MSG_READONLY, V3Error, json_response
from nightbridge.server.api_v3.storage import storage_of


async def delete(request: Request, collection: str, identifier: str) -> Response:
    principal = await caller(request, collection, "delete")
    storage = storage_of(request)
    stored = await storage.get(collection, identifier)
    if stored is None:
        raise V3Error(404)
    if is_read_only(stored):
        raise V3Error(422, MSG_READONLY)
    if request.query_params.get("permanent") == "true":
        if not await storage.remove(collection, identifier):
            raise V3Error(404)
        return json_response(200, {"status": 200})
    subject = subject_name(principal)
    if subject and stored.get("isValid") is not False and stored.get("modifiedBy") != subject:
        await storage.save(collection, {**stored, "modifiedBy": subject})
    await storage.soft_delete(collection, identifier)
    return json_response(200, {"status": 200})
