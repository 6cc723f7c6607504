"""The base of every Nightscout-shaped value.

Nightscout documents are schemaless: a client may send any field. ``NSDocument`` declares the
fields nightbridge reasons about and keeps every other one (``extra="allow"``) so nothing is lost.
``build`` turns pydantic's validation errors into ``SkippableError`` naming the field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from nightbridge.errors import SkippableError
from nightbridge.model.time import check_plausible, iso_utc, parse_any


class Collection(StrEnum):
    ENTRIES = "entries"
    TREATMENTS = "treatments"
    DEVICESTATUS = "devicestatus"
    PROFILE = "profile"
    FOOD = "food"
    SETTINGS = "settings"


class NSDocument(BaseModel):
    """A Nightscout document: typed known fields, unknown fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, validate_assignment=False)

    collection: ClassVar[Collection]

    identifier: str | None = None
    device: str | None = None

    @classmethod
    def build(cls, data: dict[str, Any] | None = None, /, **fields: Any) -> Self:
        """Validate ``data``/``fields`` into a document; SkippableError names the bad field."""
        # Every model's before-validator copies its input, so ``data`` is not mutated.
        payload = {**(data or {}), **fields} if fields or data is None else data
        try:
            return cls.__pydantic_validator__.validate_python(payload)  # type: ignore[no-any-return]
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or cls.__name__
            raise SkippableError(
                f"{cls.collection.value}: invalid {field}: {first['msg']}", field=field
            ) from None

    #: The instant this document is about, epoch ms (Nightscout v3 requires it everywhere).
    date: int

    @property
    def device_key(self) -> str:
        """The ``device`` part of the v3 identifier (``undefined`` when absent, as Nightscout)."""
        return "undefined" if self.device is None else self.device

    @property
    def event_type_key(self) -> str | None:
        """The ``eventType`` part of the v3 identifier, or None."""
        return None

    def to_nightscout(self) -> dict[str, Any]:
        """The JSON document as Nightscout stores it (None fields left out)."""
        # The serializer directly: ``model_dump``'s Python wrapper costs a third of the call.
        out: dict[str, Any] = self.__pydantic_serializer__.to_python(
            self, mode="json", exclude_none=True
        )
        return out


class EventDocument(NSDocument):
    """A document dated by an event time: ``date`` (epoch ms) and ``created_at`` (its UTC ISO
    form) are both set from whichever the client sent (``date``, else ``created_at``/``mills``).
    """

    created_at: str = ""

    @model_validator(mode="before")
    @classmethod
    def _dated(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("date", data.get("created_at", data.get("mills")))
        field = "date" if "date" in data else "created_at"
        date = check_plausible(parse_any(raw, field), field)
        return {**data, "date": date, "created_at": iso_utc(date)}
