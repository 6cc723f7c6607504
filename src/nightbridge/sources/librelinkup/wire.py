"""LibreLinkUp JSON bodies as pydantic models, parsed at the edge (protocols-cgm §2.3-2.8).

Every body is an envelope ``{"status": int, "data": ..., "error": {...}, "ticket": {...}}``.
Glucose items in lists are parsed one by one: a malformed item becomes ``Malformed`` (counted
and skipped by the transform) instead of failing the whole response.

Times: ``FactoryTimestamp`` is UTC, ``Timestamp`` the wearer's phone local time without a zone,
both as ``M/D/YYYY h:mm:ss AM|PM``. Sensor ``a`` (activation) and ticket ``expires`` are epoch
seconds; ticket ``duration`` is milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nightbridge.model.time import parse_iso

_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")


def parse_llu_time(text: str) -> datetime:
    """A LibreLinkUp time text as a *naive* datetime (the caller knows its zone).

    Accepts the US form of every fixture (``12/30/2022 4:47:40 PM``), its 24-hour variant and
    ISO-8601. ValueError otherwise.
    """
    cleaned = " ".join(text.split())
    for fmt in _FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    return parse_iso(cleaned).astimezone(UTC).replace(tzinfo=None)


class Wire(BaseModel):
    """Base of every vendor model: unknown fields ignored (the vendor adds them freely)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Ticket(Wire):
    """``authTicket`` / top-level ``ticket``: bearer token, expiry (epoch s), duration (ms)."""

    token: str = Field(min_length=1)
    expires: int | None = None
    duration: int | None = None


class User(Wire):
    id: str | None = None
    country: str | None = None
    uom: str | None = None


class Step(Wire):
    """An action the person must take in the app (``tou``, ``pp``, ``verifyEmail`` ...)."""

    type: str
    componentName: str | None = None


class Lockout(Wire):
    failures: int | None = None
    interval: int | None = None
    lockout: int | None = None


class LoginData(Wire):
    """``data`` of a login answer: a ticket, a redirect, a pending step, or a lockout."""

    user: User | None = None
    authTicket: Ticket | None = None
    redirect: bool = False
    region: str | None = None
    step: Step | None = None
    code: int | None = None
    message: str | None = None
    data: Lockout | None = None
    minimumVersion: str | None = None


class VendorError(Wire):
    message: str | None = None


class LoginEnvelope(Wire):
    status: int
    data: LoginData | None = None
    error: VendorError | None = None


class GlucoseMeasurement(Wire):
    """One reading (graph point, current measurement or logbook event).

    ``factory_time`` is UTC (tz-aware); ``local_time`` is naive phone-local time.
    ``ValueInMgPerDl`` is mg/dL; ``Value`` is in the account's unit (``GlucoseUnits`` 0 =
    mmol/L, 1 = mg/dL). ``TrendArrow`` 1..5 (absent on graph points).
    """

    factory_time: datetime = Field(alias="FactoryTimestamp")
    local_time: datetime | None = Field(default=None, alias="Timestamp")
    type: int | None = None
    ValueInMgPerDl: float | None = None
    Value: float | None = None
    GlucoseUnits: int | None = None
    TrendArrow: int | None = None
    MeasurementColor: int | None = None
    isHigh: bool = False
    isLow: bool = False
    alarmType: int | None = None

    @field_validator("factory_time", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_llu_time(value).replace(tzinfo=UTC)
        return value

    @field_validator("local_time", mode="before")
    @classmethod
    def _local(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_llu_time(value)
            except ValueError:
                return None  # informational only: never lose a reading over it
        return value


class Malformed(Wire):
    """A list item that did not parse; ``field`` names the first offending field."""

    field: str
    reason: str


Item = GlucoseMeasurement | Malformed


def parse_item(raw: Any) -> Item:
    """One glucose item, or ``Malformed`` describing why it is not one."""
    if isinstance(raw, GlucoseMeasurement | Malformed):
        return raw
    try:
        return GlucoseMeasurement.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        return Malformed(field=field, reason=first["msg"])


def _items(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list):
        return [parse_item(raw) for raw in value]
    return value


class Sensor(Wire):
    """The sensor worn: serial ``sn``, activation ``a`` (epoch s), warm-up ``w`` (min), ``pt``."""

    deviceId: str | None = None
    sn: str | None = None
    a: int | None = None
    w: int | None = None
    pt: int | None = None


class PatientDevice(Wire):
    did: str | None = None
    dtid: int | None = None
    v: str | None = None
    u: int | None = None


class Connection(Wire):
    """One person the account follows. ``patientId`` is used in every per-patient path."""

    id: str | None = None
    patientId: str
    targetLow: float | None = None
    targetHigh: float | None = None
    uom: int | None = None
    sensor: Sensor | None = None
    patientDevice: PatientDevice | None = None
    glucoseMeasurement: Item | None = None
    glucoseItem: Item | None = None

    @field_validator("glucoseMeasurement", "glucoseItem", mode="before")
    @classmethod
    def _item(cls, value: Any) -> Any:
        return None if value is None else parse_item(value)


class ActiveSensor(Wire):
    sensor: Sensor | None = None
    device: PatientDevice | None = None


class GraphData(Wire):
    connection: Connection
    activeSensors: list[ActiveSensor] = Field(default_factory=list)
    graphData: list[Item] = Field(default_factory=list)

    @field_validator("graphData", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _items(value)


class DataEnvelope(Wire):
    """Any authenticated answer before its ``data`` is typed."""

    status: int
    data: Any = None
    error: VendorError | None = None
    ticket: Ticket | None = None


class ConnectionsResponse(Wire):
    data: list[Connection] = Field(default_factory=list)

    @field_validator("data", mode="before")
    @classmethod
    def _none(cls, value: Any) -> Any:
        return [] if value is None else value


class GraphResponse(Wire):
    data: GraphData


class LogbookResponse(Wire):
    data: list[Item] = Field(default_factory=list)

    @field_validator("data", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _items(value)
