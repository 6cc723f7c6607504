"""``/api/v2/properties[/a,b]``: what followers and watch faces poll (lib/api2/properties).

Served: ``bgnow`` (newest sgv: mean/last/mills/sgvs), ``delta`` (change to the previous reading,
scaled to 5 minutes when the gap is longer, as Nightscout's calcdelta), ``direction``
(value/label/entity of the newest sgv). Needs ``api:entries:read`` and ``api:treatments:read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from nightbridge.model import Collection
from nightbridge.model.glucose import ARROWS, Direction, mgdl_to_mmol
from nightbridge.server.api_v1.access import allowed, now_ms
from nightbridge.server.api_v1.documents import derived_object_id
from nightbridge.server.api_v1.find import FOUR_DAYS_MS
from nightbridge.server.api_v1.formats import json_response
from nightbridge.server.deps import get_config, get_store
from nightbridge.store.queries import DocQuery, Filter

router = APIRouter()

#: cgm-remote-monitor's trend numbers by direction.
TREND = {
    "NONE": 0,
    "DoubleUp": 1,
    "SingleUp": 2,
    "FortyFiveUp": 3,
    "Flat": 4,
    "FortyFiveDown": 5,
    "SingleDown": 6,
    "DoubleDown": 7,
    "NOT COMPUTABLE": 8,
    "RATE OUT OF RANGE": 9,
}


@dataclass(frozen=True, slots=True)
class Reading:
    mgdl: int
    mills: int
    direction: str | None
    doc: dict[str, Any]


async def recent_sgvs(request: Request, count: int = 2) -> list[Reading]:
    """The newest ``count`` sgv readings of the last 4 days, newest first."""
    since = now_ms(request) - FOUR_DAYS_MS
    query = DocQuery(
        filters=(Filter("type", "eq", "sgv"), Filter("date", "gte", since)),
        sort=(("date", True),),
        limit=count,
    )
    docs = await get_store(request).find(Collection.ENTRIES, query)
    out = []
    for d in docs:
        sgv, date = d.get("sgv"), d.get("date")
        if isinstance(sgv, int | float) and isinstance(date, int | float):
            direction = d.get("direction")
            out.append(
                Reading(int(sgv), int(date), direction if isinstance(direction, str) else None, d)
            )
    return out


def scaled(mgdl: float, units: str) -> float:
    return mgdl_to_mmol(mgdl) if units == "mmol" else mgdl


def delta_of(readings: list[Reading], units: str) -> dict[str, Any] | None:
    """Nightscout's delta property of the two newest readings (None with fewer than two)."""
    if len(readings) < 2:
        return None
    last, prev = readings[0], readings[1]
    elapsed = (last.mills - prev.mills) / 60000
    absolute = last.mgdl - prev.mgdl
    interpolated = elapsed > 9
    mgdl = round(absolute * 5 / elapsed) if interpolated and elapsed > 0 else absolute
    value = round(scaled(mgdl, units), 1) if units == "mmol" else mgdl
    return {
        "absolute": absolute,
        "elapsedMins": elapsed,
        "interpolated": interpolated,
        "mean5MinsAgo": prev.mgdl,
        "mgdl": mgdl,
        "scaled": value,
        "display": f"{'+' if value >= 0 else ''}{value}",
        "times": {"recent": last.mills, "previous": prev.mills},
    }


def direction_of(readings: list[Reading]) -> dict[str, Any] | None:
    if not readings or readings[0].direction is None:
        return None
    value = readings[0].direction
    try:
        label = ARROWS[Direction(value)]
    except ValueError:
        label = value
    entity = "".join(f"&#{ord(c)};" for c in label) if label and ord(label[0]) > 127 else label
    return {
        "display": label,
        "value": value,
        "label": label,
        "entity": entity,
        "mills": readings[0].mills,
    }


def bgnow_of(readings: list[Reading], units: str) -> dict[str, Any] | None:
    if not readings:
        return None
    last = readings[0]
    sgv = {
        "_id": last.doc.get("_id") or derived_object_id(str(last.doc.get("identifier", ""))),
        "mills": last.mills,
        "mgdl": last.mgdl,
        "direction": last.direction,
        "type": "sgv",
        "scaled": round(scaled(last.mgdl, units), 1) if units == "mmol" else last.mgdl,
    }
    return {"mean": last.mgdl, "last": last.mgdl, "mills": last.mills, "sgvs": [sgv]}


async def _properties(request: Request, wanted: set[str] | None) -> Response:
    await allowed(request, "api:entries:read")
    await allowed(request, "api:treatments:read")
    units = get_config(request).units
    readings = await recent_sgvs(request)
    all_props = {
        "bgnow": bgnow_of(readings, units),
        "delta": delta_of(readings, units),
        "direction": direction_of(readings),
    }
    body = {k: v for k, v in all_props.items() if v is not None and (wanted is None or k in wanted)}
    return json_response(body)


@router.get("/properties")
async def properties(request: Request) -> Response:
    return await _properties(request, None)


@router.get("/properties/{names}")
async def some_properties(request: Request, names: str) -> Response:
    return await _properties(request, {n.strip() for n in names.split(",") if n.strip()})
