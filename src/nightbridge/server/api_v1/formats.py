"""Output formats of v1: JSON (default), CSV, TSV and text, chosen by path extension or Accept.

``ExtensionToAccept`` is the ASGI middleware cgm-remote-monitor has (express-extension-to-accept):
under ``/api/v1`` and ``/api/v2`` a known extension (``.json .csv .tsv .txt .html .svg .png .js``)
is stripped from the path and becomes the ``Accept`` header, so ``/entries/sgv.json`` is
``/entries/sgv`` with ``Accept: application/json``.

CSV/TSV/text rows of entries carry ``dateString, date, sgv, direction, device``, each value
JSON-quoted, rows CRLF-separated (text is tab-separated like TSV).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from nightbridge.server.deps import dumps

_EXTENSIONS = {
    "json": b"application/json",
    "csv": b"text/csv",
    "tsv": b"text/tab-separated-values",
    "txt": b"text/plain",
    "html": b"text/html",
    "svg": b"image/svg+xml",
    "png": b"image/png",
    "js": b"application/javascript",
}
_PREFIXES = ("/api/v1/", "/api/v2/")
ENTRY_COLUMNS = ("dateString", "date", "sgv", "direction", "device")


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    TSV = "tsv"
    TEXT = "txt"
    JS = "js"


class ExtensionToAccept:
    """Strip a known extension from v1/v2 paths and send it on as the Accept header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(_PREFIXES) and "." in path[8:]:
                stem, _, ext = path.rpartition(".")
                mime = _EXTENSIONS.get(ext.lower())
                if mime is not None and "/" in stem:
                    scope = dict(scope)
                    scope["path"] = stem
                    scope["raw_path"] = stem.encode()
                    headers = [(k, v) for k, v in scope["headers"] if k != b"accept"]
                    headers.append((b"accept", mime))
                    scope["headers"] = headers
        await self.app(scope, receive, send)


def negotiate(request: Request) -> Format:
    """The format asked for; JSON unless the Accept header prefers one of ours."""
    accept = request.headers.get("accept", "")
    if not accept or "json" in accept or accept.startswith("*/*"):
        return Format.JSON
    if "text/csv" in accept:
        return Format.CSV
    if "tab-separated" in accept:
        return Format.TSV
    if "javascript" in accept:
        return Format.JS
    if "text/plain" in accept:
        return Format.TEXT
    return Format.JSON


def _cell(value: Any) -> str:
    return "" if value is None else orjson.dumps(value).decode()


def render_rows(docs: Iterable[dict[str, Any]], fmt: Format) -> Response:
    """Entries as CSV/TSV/text rows (see module docstring)."""
    sep = "," if fmt is Format.CSV else "\t"
    body = "\r\n".join(sep.join(_cell(d.get(c)) for c in ENTRY_COLUMNS) for d in docs)
    media = {
        Format.CSV: "text/csv",
        Format.TSV: "text/tab-separated-values",
    }.get(fmt, "text/plain")
    return Response(body, media_type=f"{media}; charset=utf-8")


def json_response(
    content: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response (orjson)."""
    return Response(dumps(content), status, headers=headers, media_type="application/json")
