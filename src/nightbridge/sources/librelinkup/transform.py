"""LibreLinkUp wire records → Nightscout documents. Pure functions, no I/O.

- Every glucose item becomes an ``sgv`` entry at its ``FactoryTimestamp`` (UTC; ``Timestamp`` is
  phone-local and only gives ``utcOffset``), sgv from ``ValueInMgPerDl``, else from ``Value`` in
  the item's unit (``GlucoseUnits`` 0 = mmol/L).
- ``TrendArrow`` 1..5 → SingleDown, FortyFiveDown, Flat, FortyFiveUp, SingleUp. Graph points carry
  no arrow and get no ``direction`` (as nightscout-librelink-up uploads them); an unknown arrow
  value is ``NOT COMPUTABLE``.
- Entries are de-duplicated by time; an item with an arrow wins over one without.
- Logbook scans (type 1) are sgv entries; alarm events (type 3) become ``Note`` treatments.
- The worn sensor becomes one devicestatus per current reading and a ``Sensor Start`` treatment
  at its activation time (same time → same identifier, so re-sending is a no-op).
Malformed items are counted in ``Batch.skipped`` and left out; the rest go through.
"""

from __future__ import annotations

from collections.abc import Iterable

from nightbridge.errors import SkippableError
from nightbridge.model import DeviceStatus, Direction, Entry, EventType, Treatment
from nightbridge.model.glucose import mmol_to_mgdl
from nightbridge.model.time import iso_utc, to_ms
from nightbridge.sources.base import Batch
from nightbridge.sources.librelinkup.wire import (
    Connection,
    GlucoseMeasurement,
    GraphData,
    Item,
    Malformed,
    Sensor,
)

TREND_ARROWS: dict[int, Direction] = {
    1: Direction.SINGLE_DOWN,
    2: Direction.FORTY_FIVE_DOWN,
    3: Direction.FLAT,
    4: Direction.FORTY_FIVE_UP,
    5: Direction.SINGLE_UP,
}
#: ``GlucoseUnits`` value of an mmol/L account.
UNITS_MMOL = 0
UNITS_MGDL = 1
#: ``type`` of a logbook alarm event.
TYPE_ALARM = 3
ALARM_NAMES = {1: "low", 2: "high"}


def direction_of(arrow: int | None) -> Direction | None:
    """Nightscout direction of a ``TrendArrow``; None when the item has no arrow."""
    if arrow is None:
        return None
    return TREND_ARROWS.get(arrow, Direction.NOT_COMPUTABLE)


def mgdl_of(item: GlucoseMeasurement) -> int:
    """The reading in mg/dL: ``ValueInMgPerDl`` if present, else ``Value`` in its unit."""
    if item.ValueInMgPerDl is not None:
        return round(item.ValueInMgPerDl)
    if item.Value is None:
        raise SkippableError("librelinkup: reading without a value", field="ValueInMgPerDl")
    if item.GlucoseUnits == UNITS_MMOL:
        return mmol_to_mgdl(item.Value)
    if item.GlucoseUnits == UNITS_MGDL:
        return round(item.Value)
    raise SkippableError("librelinkup: Value without GlucoseUnits", field="GlucoseUnits")


def utc_offset_minutes(item: GlucoseMeasurement) -> int | None:
    """The wearer's UTC offset (``Timestamp - FactoryTimestamp``) to the quarter hour, or None."""
    if item.local_time is None:
        return None
    delta = item.local_time - item.factory_time.replace(tzinfo=None)
    minutes = round(delta.total_seconds() / 60 / 15) * 15
    return minutes if -1440 <= minutes <= 1440 else None


def entry_of(item: GlucoseMeasurement, device: str) -> Entry:
    """One sgv entry (SkippableError if the value or time is impossible)."""
    fields: dict[str, object] = {
        "type": "sgv",
        "date": to_ms(item.factory_time),
        "sgv": mgdl_of(item),
        "device": device,
    }
    direction = direction_of(item.TrendArrow)
    if direction is not None:
        fields["direction"] = direction.value
    offset = utc_offset_minutes(item)
    if offset is not None:
        fields["utcOffset"] = offset
    return Entry.build(fields)


def add_entries(batch: Batch, items: Iterable[Item | None], device: str) -> None:
    """Append sgv entries of ``items`` to ``batch``, de-duplicated by time, arrows preferred."""
    by_date = {entry.date: i for i, entry in enumerate(batch.entries)}
    for item in items:
        if item is None:
            continue
        if isinstance(item, Malformed):
            batch.count_skip(item.field)
            continue
        try:
            entry = entry_of(item, device)
        except SkippableError as exc:
            batch.count_skip(exc.field)
            continue
        index = by_date.get(entry.date)
        if index is None:
            by_date[entry.date] = len(batch.entries)
            batch.entries.append(entry)
        elif batch.entries[index].direction is None and entry.direction is not None:
            batch.entries[index] = entry


def alarm_treatment(item: GlucoseMeasurement, device: str) -> Treatment:
    """A logbook alarm event as a ``Note`` carrying the glucose value (mg/dL)."""
    kind = ALARM_NAMES.get(item.alarmType or 0, "glucose")
    return Treatment.build(
        eventType=EventType.NOTE.value,
        date=to_ms(item.factory_time),
        device=device,
        enteredBy=device,
        notes=f"LibreLinkUp {kind} alarm",
        glucose=mgdl_of(item),
        glucoseType="Sensor",
        units="mg/dl",
    )


def add_logbook(batch: Batch, items: Iterable[Item], device: str) -> None:
    """Logbook scans → sgv entries; alarm events → Note treatments."""
    scans: list[Item] = []
    for item in items:
        if isinstance(item, GlucoseMeasurement) and item.type == TYPE_ALARM:
            try:
                batch.treatments.append(alarm_treatment(item, device))
            except SkippableError as exc:
                batch.count_skip(exc.field)
        else:
            scans.append(item)
    add_entries(batch, scans, device)


def sensor_of(graph: GraphData) -> Sensor | None:
    """The sensor worn now: the connection's, else the newest active one."""
    if graph.connection.sensor is not None and graph.connection.sensor.a:
        return graph.connection.sensor
    active = [s.sensor for s in graph.activeSensors if s.sensor is not None and s.sensor.a]
    return max(active, key=lambda s: s.a or 0, default=None)


def sensor_documents(
    sensor: Sensor, connection: Connection, device: str
) -> tuple[Treatment, DeviceStatus | None]:
    """``Sensor Start`` at the activation time and, with a current reading, a devicestatus."""
    started_ms = int(sensor.a or 0) * 1000
    start = Treatment.build(
        eventType=EventType.SENSOR_START.value,
        date=started_ms,
        device=device,
        enteredBy=device,
        notes=f"LibreLinkUp sensor {sensor.sn}" if sensor.sn else "LibreLinkUp sensor",
    )
    current = connection.glucoseMeasurement
    if not isinstance(current, GlucoseMeasurement):
        return start, None
    status = DeviceStatus.build(
        date=to_ms(current.factory_time),
        device=device,
        sensor={
            "serial": sensor.sn,
            "activated": iso_utc(started_ms),
            "activatedMills": started_ms,
            "productType": sensor.pt,
            "warmupMinutes": sensor.w,
        },
    )
    return start, status


def graph_batch(graph: GraphData, device: str) -> Batch:
    """Everything a graph answer holds: history, current reading, sensor."""
    batch = Batch()
    connection = graph.connection
    add_entries(batch, [connection.glucoseMeasurement, *graph.graphData], device)
    sensor = sensor_of(graph)
    if sensor is not None:
        try:
            start, status = sensor_documents(sensor, connection, device)
        except SkippableError as exc:
            batch.count_skip(exc.field)
        else:
            batch.treatments.append(start)
            if status is not None:
                batch.devicestatus.append(status)
    batch.entries.sort(key=lambda e: e.date)
    return batch
