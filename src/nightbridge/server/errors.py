"""Errors the server answers, always in Nightscout's shape ``{status, message, description}``.

cgm-remote-monitor answers some bad input with an HTML page or a 500; we answer a 4xx in the
JSON shape instead. Handlers registered by ``install_error_handlers`` turn:

- ``ApiError`` into its status and body (``description`` left out when None);
- FastAPI ``RequestValidationError`` (bad path/query types, malformed JSON bodies) into 400;
- Starlette ``HTTPException`` (unknown route 404, wrong method 405) into the same shape;
- anything else into a 500 whose body names no internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An HTTP error with Nightscout's body. ``headers`` are added to the response."""

    def __init__(
        self,
        status: int,
        message: str,
        description: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """``{status, message[, description]}``."""
        body: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.description is not None:
            body["description"] = self.description
        return body

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def unauthorized() -> ApiError:
    """The v1 401: ``{"status":401,"message":"Unauthorized","description":"Invalid/Missing"}``."""
    return ApiError(401, "Unauthorized", "Invalid/Missing")


def bad_request(description: str, message: str = "Bad Request") -> ApiError:
    return ApiError(400, message, description)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return ApiError(400, "Bad Request", "; ".join(parts) or "invalid request").response()


_REASONS = {404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = _REASONS.get(exc.status_code, str(exc.detail))
    description = None if str(exc.detail) == message else str(exc.detail)
    headers = dict(exc.headers) if exc.headers else None
    return ApiError(exc.status_code, message, description, headers=headers).response()


async def _unexpected(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error while serving a request", exc_info=exc)
    return ApiError(500, "Internal Server Error").response()


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
