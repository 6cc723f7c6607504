"""Device state snapshots: Nightscout ``devicestatus`` (pump reservoir, battery, sensor, loop)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import model_validator

from nightbridge.model.document import Collection, NSDocument
from nightbridge.model.time import check_plausible, iso_utc, parse_any


class DeviceStatus(NSDocument):
    """One snapshot. ``pump``, ``uploader``, ``openaps``, ``loop`` ... stay free-form objects."""

    collection: ClassVar[Collection] = Collection.DEVICESTATUS

    created_at: str = ""
    pump: dict[str, Any] | None = None
    uploader: dict[str, Any] | None = None
    uploaderBattery: float | None = None
    utcOffset: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("date", data.get("created_at", data.get("mills")))
        field = "date" if "date" in data else "created_at"
        date = check_plausible(parse_any(raw, field), field)
        return {**data, "date": date, "created_at": iso_utc(date)}
