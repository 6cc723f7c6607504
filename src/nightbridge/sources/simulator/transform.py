"""Generator values → Nightscout model documents (the only place that knows both)."""

from __future__ import annotations

from nightbridge.model import DeviceStatus, Direction, Entry, EventType, Treatment
from nightbridge.sources.simulator.generator import Dose, Reading, Status

#: (lower bound of the 15-min rate in mg/dL/min, direction, Dexcom trend number), steepest first.
_ARROWS: tuple[tuple[float, Direction, int], ...] = (
    (3.0, Direction.DOUBLE_UP, 1),
    (2.0, Direction.SINGLE_UP, 2),
    (1.0, Direction.FORTY_FIVE_UP, 3),
    (-1.0, Direction.FLAT, 4),
    (-2.0, Direction.FORTY_FIVE_DOWN, 5),
    (-3.0, Direction.SINGLE_DOWN, 6),
)

_EVENTS = {
    "meal": EventType.MEAL_BOLUS,
    "correction": EventType.CORRECTION_BOLUS,
    "rescue": EventType.CARB_CORRECTION,
    "site": EventType.SITE_CHANGE,
}


def direction_of(rate: float) -> tuple[Direction, int]:
    """The Nightscout arrow and Dexcom trend number for a rate of change in mg/dL/min."""
    for bound, direction, trend in _ARROWS:
        if rate > bound:
            return direction, trend
    return Direction.DOUBLE_DOWN, 7


def to_entry(reading: Reading, device: str) -> Entry:
    direction, trend = direction_of(reading.rate)
    return Entry.build(
        {
            "type": "sgv",
            "date": reading.date_ms,
            "sgv": reading.sgv,
            "delta": float(reading.delta),
            "direction": direction,
            "trend": trend,
            "noise": 1,
            "device": device,
        }
    )


def to_treatment(dose: Dose, device: str) -> Treatment:
    fields: dict[str, object] = {
        "eventType": _EVENTS[dose.kind],
        "date": dose.date_ms,
        "device": device,
        "enteredBy": device,
    }
    if dose.insulin is not None:
        fields["insulin"] = dose.insulin
    if dose.carbs is not None:
        fields["carbs"] = dose.carbs
    return Treatment.build(fields)


def to_devicestatus(status: Status, device: str) -> DeviceStatus:
    return DeviceStatus.build(
        {
            "date": status.date_ms,
            "device": device,
            "uploaderBattery": status.uploader_battery,
            "uploader": {"battery": status.uploader_battery},
            "pump": {"reservoir": status.reservoir, "battery": {"percent": status.pump_battery}},
        }
    )
