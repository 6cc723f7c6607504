"""Therapy settings (``profile``) and the food database (``food``)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import model_validator

from nightbridge.model.document import Collection, NSDocument
from nightbridge.model.time import check_plausible, iso_utc, now_ms, parse_any


class _Dated(NSDocument):
    """A document dated by ``created_at``/``startDate``; ``date`` defaults to now."""

    created_at: str = ""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("date", data.get("created_at", data.get("startDate", data.get("mills"))))
        date = now_ms() if raw is None else check_plausible(parse_any(raw, "date"), "date")
        return {**data, "date": date, "created_at": iso_utc(date)}


class Profile(_Dated):
    """A Nightscout profile document: named profiles in ``store``, one of them the default."""

    collection: ClassVar[Collection] = Collection.PROFILE

    defaultProfile: str | None = None
    store: dict[str, Any] = {}
    startDate: str | None = None
    units: str | None = None


class Food(_Dated):
    """An entry of the food database: carbs/fat/protein in grams per ``portion`` ``unit``."""

    collection: ClassVar[Collection] = Collection.FOOD

    type: str = "food"
    name: str = ""
    category: str | None = None
    subcategory: str | None = None
    portion: float | None = None
    unit: str | None = None
    carbs: float | None = None
    fat: float | None = None
    protein: float | None = None
    energy: float | None = None
    gi: float | None = None
