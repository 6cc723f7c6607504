"""API v3 answers: the ``{status, result}`` envelope, the ``{status, message}`` error shape.

cgm-remote-monitor (lib/api3/shared/operationTools.js) answers errors as ``{status, message}``
and, for 404/410/412, as ``{status}`` alone. ``V3Error`` carries one of those; ``V3Route`` turns
it (and the server-wide ``ApiError``, when the app raises one from auth) into that JSON so the
v3 shape never depends on other routers' handlers; a failing store (``RetriableError``) is
500 ``Database error``, as Nightscout answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from nightbridge.errors import RetriableError
from nightbridge.model.time import from_ms

log = logging.getLogger(__name__)

#: Error texts of cgm-remote-monitor (lib/api3/const.json ``MSG``), reproduced verbatim.
MSG_BAD_BODY = "Bad or missing request body"
MSG_BAD_IDENTIFIER = "Bad or missing identifier field"
MSG_BAD_DATE = "Bad or missing date field"
MSG_BAD_UTC = "Bad or missing utcOffset field"
MSG_BAD_APP = "Bad or missing app field"
MSG_BAD_LIMIT = "Parameter limit out of tolerance"
MSG_BAD_SKIP = "Parameter skip out of tolerance"
MSG_SORT_CONFLICT = "Parameters sort and sort_desc cannot be combined"
MSG_BAD_OPERATOR = "Unsupported filter operator {0}"
MSG_IMMUTABLE = "Field {0} cannot be modified by the client"
MSG_BAD_LAST_MODIFIED = "Bad or missing Last-Modified header/parameter"
MSG_MISSING_TOKEN = "Missing or bad access token or JWT"
MSG_BAD_TOKEN = "Bad access token or JWT"
MSG_MISSING_PERMISSION = "Missing permission {0}"
MSG_BAD_OPERATION = "Bad operation or collection"
MSG_UNSUPPORTED_FORMAT = "Unsupported output format requested"
MSG_READONLY = "Trying to modify read-only document"
MSG_DATABASE = "Database error"


class V3Error(Exception):
    """An API v3 failure answered as ``{status[, message]}`` with HTTP ``status``."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or str(status))
        self.status = status
        self.message = message


def json_response(
    status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> Response:
    """Serialise ``body`` with orjson (``None`` means an empty body, e.g. 304)."""
    content = b"" if body is None else orjson.dumps(body)
    media = None if body is None else "application/json; charset=utf-8"
    return Response(content=content, status_code=status, media_type=media, headers=headers)


def result(payload: Any, headers: dict[str, str] | None = None, status: int = 200) -> Response:
    """The success envelope ``{status, result}``."""
    return json_response(status, {"status": status, "result": payload}, headers)


def raw_result(array_json: str, status: int = 200) -> Response:
    """``result`` for a payload already serialised as a JSON array text."""
    body = f'{{"status":{status},"result":{array_json}}}'.encode()
    return Response(body, status_code=status, media_type="application/json; charset=utf-8")


def error_response(
    status: int, message: str | None, headers: dict[str, str] | None = None
) -> Response:
    """The error shape ``{status, message}`` (``{status}`` when there is no message)."""
    body: dict[str, Any] = {"status": status}
    if message:
        body["message"] = message
    return json_response(status, body, headers)


def http_date(ms: int) -> str:
    """``Last-Modified`` text for epoch ms (RFC 7231 IMF-fixdate, seconds precision)."""
    return format_datetime(from_ms(ms - ms % 1000), usegmt=True)


def _server_api_error() -> type[Exception] | None:
    try:
        from nightbridge.server.errors import ApiError
    except ImportError:  # the server-wide error module is optional for this router
        return None
    return ApiError


class V3Route(APIRoute):
    """An APIRoute that renders ``V3Error`` and the server's ``ApiError`` in the v3 shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        api_error = _server_api_error()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except V3Error as exc:
                return error_response(exc.status, exc.message)
            except RetriableError:
                log.exception("API v3: the store failed")
                return error_response(500, MSG_DATABASE)
            except Exception as exc:
                if api_error is not None and isinstance(exc, api_error):
                    status = int(getattr(exc, "status", 500))
                    headers = getattr(exc, "headers", None) or None
                    return error_response(status, getattr(exc, "message", None), headers)
                raise

        return handle
