"""CGM and meter readings: Nightscout ``entries`` of type sgv, mbg and cal."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field, model_validator

from nightbridge.errors import SkippableError
from nightbridge.model.document import Collection, NSDocument
from nightbridge.model.glucose import Direction, parse_direction
from nightbridge.model.time import MIN_VALID_MS, check_plausible, iso_utc, parse_any

#: Largest glucose value any CGM or meter reports, mg/dL.
MAX_GLUCOSE_MGDL = 1000


class EntryType(StrEnum):
    SGV = "sgv"
    MBG = "mbg"
    CAL = "cal"


class Entry(NSDocument):
    """One reading. ``sgv`` (sensor) and ``mbg`` (meter) are mg/dL and mutually exclusive.

    ``date`` is UTC epoch ms; ``dateString`` and ``sysTime`` are always its UTC ISO form.
    A vendor arrow Nightscout lacks (``TripleUp``) is stored as the nearest one (``DoubleUp``)
    with the vendor's text kept in ``trendOriginal``.
    """

    collection: ClassVar[Collection] = Collection.ENTRIES

    type: EntryType = EntryType.SGV
    dateString: str = ""
    sysTime: str = ""
    sgv: int | None = Field(default=None, gt=0, le=MAX_GLUCOSE_MGDL)
    mbg: int | None = Field(default=None, gt=0, le=MAX_GLUCOSE_MGDL)
    direction: Direction | None = None
    trend: int | None = None
    noise: int | None = Field(default=None, ge=1, le=4)
    filtered: float | None = None
    unfiltered: float | None = None
    rssi: float | None = None
    delta: float | None = None
    utcOffset: int | None = Field(default=None, ge=-1440, le=1440)
    slope: float | None = None
    intercept: float | None = None
    scale: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        # The hot path of every source: one dict copy, no datetime objects, the common case
        # (an int date and a Nightscout direction) tested first.
        if not isinstance(data, dict):
            return data
        raw_date = data["date"] if "date" in data else data.get("dateString")
        if type(raw_date) is not int or raw_date < MIN_VALID_MS:
            raw_date = parse_any(raw_date, "date")
        date = check_plausible(raw_date, "date")
        iso = iso_utc(date)
        data = {**data, "date": date, "dateString": iso, "sysTime": iso}
        direction = data.get("direction")
        if direction is not None and direction not in _NIGHTSCOUT_DIRECTIONS:
            try:
                mapped, original = parse_direction(direction)
            except (ValueError, TypeError):
                return data  # field validation rejects it and names the field
            data["direction"] = mapped
            if original is not None:
                data.setdefault("trendOriginal", original)
        sgv, mbg = data.get("sgv"), data.get("mbg")
        if sgv is not None and mbg is not None:
            raise SkippableError("entries: sgv and mbg are exclusive", field="mbg")
        kind = data.get("type", "sgv")
        if kind in _NEEDS and (sgv if kind == "sgv" else mbg) is None:
            raise SkippableError(f"entries: a {kind} entry needs a {kind} value", field=kind)
        return data


_NIGHTSCOUT_DIRECTIONS = frozenset(d.value for d in Direction)
_NEEDS = frozenset({"sgv", "mbg"})
