"""``/status`` and ``/verifyauth`` (cgm-remote-monitor lib/api/{status,verifyauth}.js; §2.2, §2.9).

status: ``{status:"ok", name, version, serverTime, serverTimeEpoch, apiEnabled, careportalEnabled,
boluscalcEnabled, settings:{units, thresholds, enable, ...}, extendedSettings, authorized,
runtimeState}``; ``.js`` gives ``this.serverSettings = {...};``, ``.txt``/``.html`` ``STATUS OK``.
verifyauth: always 200 ``{status:200, message:{canRead, canWrite, isAdmin, message, rolefound,
permissions}}``; presenting credentials that match nothing counts as a failed attempt.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model.time import iso_utc
from nightbridge.server.api_v1.access import allowed, now_ms
from nightbridge.server.api_v1.formats import Format, json_response, negotiate
from nightbridge.server.auth import CredentialKind, auth_service, authenticate
from nightbridge.server.deps import dumps, get_config
from nightbridge.server.errors import ApiError

router = APIRouter()


def status_document(request: Request, authorized: dict[str, Any] | None) -> dict[str, Any]:
    config = get_config(request)
    now = now_ms(request)
    features = list(config.features)
    thresholds = {
        "bgHigh": config.bg_high,
        "bgTargetTop": config.bg_target_top,
        "bgTargetBottom": config.bg_target_bottom,
        "bgLow": config.bg_low,
    }
    return {
        "status": "ok",
        "name": "nightscout",
        "version": config.version,
        "serverTime": iso_utc(now),
        "serverTimeEpoch": now,
        "apiEnabled": True,
        "careportalEnabled": "careportal" in features,
        "boluscalcEnabled": "boluscalc" in features,
        "settings": {
            "units": config.units,
            "timeFormat": 12,
            "nightMode": False,
            "editMode": True,
            "showRawbg": "never",
            "customTitle": config.title,
            "theme": "default",
            "language": "en",
            "enable": features,
            "showPlugins": "",
            "alarmTypes": ["predict"],
            "authDefaultRoles": " ".join(config.auth_default_roles),
            "thresholds": thresholds,
            "DEFAULT_FEATURES": ["bgnow", "delta", "direction", "timeago", "devicestatus"],
        },
        "extendedSettings": {"devicestatus": {"advanced": True}},
        "authorized": authorized,
        "runtimeState": "loaded",
    }


@router.get("/status")
async def status(request: Request) -> Response:
    principal = await allowed(request, "api:status:read")
    authorized = None
    token = request.query_params.get("token")
    if token and principal.authenticated:
        service = auth_service(request)
        try:
            found, issued = await service.request_jwt(token, principal.address)
        except ApiError:
            found = None
        if found is not None:
            authorized = {
                "token": issued.token,
                "sub": found.subject,
                "permissionGroups": [list(found.permissions.granted)],
                "iat": issued.iat,
                "exp": issued.exp,
            }
    document = status_document(request, authorized)
    fmt = negotiate(request)
    accept = request.headers.get("accept", "")
    if fmt is Format.JS:
        body = b"this.serverSettings = " + dumps(document) + b";"
        return Response(body, media_type="application/javascript")
    if fmt is Format.TEXT:
        return Response("STATUS OK", media_type="text/plain")
    if "text/html" in accept:
        return Response("<h1>STATUS OK</h1>", media_type="text/html")
    return json_response(document)


@router.get("/verifyauth")
async def verifyauth(request: Request) -> Response:
    principal = await authenticate(request)
    if principal.kind is CredentialKind.INVALID:
        auth_service(request).delays.record_failure(principal.address)
    can_read = principal.can("*:*:read")
    message = {
        "canRead": can_read,
        "canWrite": principal.can("*:*:write"),
        "isAdmin": principal.can("*:*:admin"),
        "message": "OK" if can_read and principal.authenticated else "UNAUTHORIZED",
        "rolefound": "FOUND" if principal.authenticated else "NOTFOUND",
        "permissions": "ROLE" if principal.authenticated else "DEFAULT",
    }
    return json_response({"status": 200, "message": message})
