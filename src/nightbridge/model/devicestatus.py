"""Device state snapshots: Nightscout ``devicestatus`` (pump reservoir, battery, sensor, loop)."""

from __future__ import annotations

from typing import Any, ClassVar

from nightbridge.model.document import Collection, EventDocument


class DeviceStatus(EventDocument):
    """One snapshot. ``pump``, ``uploader``, ``openaps``, ``loop`` ... stay free-form objects."""

    collection: ClassVar[Collection] = Collection.DEVICESTATUS

    pump: dict[str, Any] | None = None
    uploader: dict[str, Any] | None = None
    uploaderBattery: float | None = None
    utcOffset: int | None = None
