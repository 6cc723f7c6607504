"""``/pebble`` (watch faces) and ``/api/versions`` (cgm-remote-monitor lib/server/pebble.js,
lib/api/root.js). Pebble: ``{status:[{now}], bgs:[{sgv, trend, direction, datetime, bgdelta}],
cals:[]}`` with ``sgv`` as text in the display units (``?units=mmol`` overrides), newest first,
``count`` readings (default 1).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model.glucose import mgdl_to_mmol
from nightbridge.server.api_v1.access import allowed, now_ms
from nightbridge.server.api_v1.find import parse_count
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.api_v2.properties import TREND, recent_sgvs
from nightbridge.server.deps import get_config

router = APIRouter()

VERSIONS = [
    {"version": "1.0.0", "url": "/api/v1"},
    {"version": "2.0.0", "url": "/api/v2"},
    {"version": "3.0.3-alpha", "url": "/api/v3"},
]


@router.get("/api/versions")
async def versions() -> Response:
    return json_response(VERSIONS)


def _text(mgdl: float, units: str) -> str:
    return f"{mgdl_to_mmol(mgdl):.1f}" if units == "mmol" else str(int(mgdl))


@router.get("/pebble")
@router.get("/pebble.json")
async def pebble(request: Request) -> Response:
    await allowed(request, "api:entries:read")
    units = request.query_params.get("units") or get_config(request).units
    units = "mmol" if units.startswith("mmol") else "mg/dl"
    count = max(1, min(parse_count(request.query_params, 1), 100))
    readings = await recent_sgvs(request, count + 1)
    bgs: list[dict[str, Any]] = []
    for i, r in enumerate(readings[:count]):
        prev = readings[i + 1] if i + 1 < len(readings) else None
        delta = (r.mgdl - prev.mgdl) if prev else 0
        bgs.append(
            {
                "sgv": _text(r.mgdl, units),
                "trend": TREND.get(r.direction or "NONE", 0),
                "direction": r.direction or "NONE",
                "datetime": r.mills,
                "bgdelta": round(mgdl_to_mmol(delta), 1) if units == "mmol" else delta,
            }
        )
    return json_response({"status": [{"now": now_ms(request)}], "bgs": bgs, "cals": []})
