"""Care events: Nightscout ``treatments`` (boluses, carbs, temp basals, site changes ...)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from nightbridge.model.document import Collection, EventDocument


class EventType(StrEnum):
    """The Nightscout event types nightbridge writes. Clients may send any other string."""

    BG_CHECK = "BG Check"
    SNACK_BOLUS = "Snack Bolus"
    MEAL_BOLUS = "Meal Bolus"
    CORRECTION_BOLUS = "Correction Bolus"
    CARB_CORRECTION = "Carb Correction"
    COMBO_BOLUS = "Combo Bolus"
    BOLUS = "Bolus"
    TEMP_BASAL = "Temp Basal"
    PROFILE_SWITCH = "Profile Switch"
    SITE_CHANGE = "Site Change"
    SENSOR_START = "Sensor Start"
    SENSOR_CHANGE = "Sensor Change"
    INSULIN_CHANGE = "Insulin Change"
    PUMP_BATTERY_CHANGE = "Pump Battery Change"
    EXERCISE = "Exercise"
    NOTE = "Note"
    ANNOUNCEMENT = "Announcement"
    SUSPEND_PUMP = "Suspend Pump"
    RESUME_PUMP = "Resume Pump"


class Treatment(EventDocument):
    """One event. ``created_at`` is the UTC ISO form of ``date`` (epoch ms); both always set.

    Insulin is in units, carbs/protein/fat in grams, ``duration`` in minutes.
    """

    collection: ClassVar[Collection] = Collection.TREATMENTS

    eventType: str = Field(min_length=1)
    insulin: float | None = Field(default=None, ge=0)
    carbs: float | None = Field(default=None, ge=0)
    protein: float | None = Field(default=None, ge=0)
    fat: float | None = Field(default=None, ge=0)
    duration: float | None = Field(default=None, ge=0)
    absolute: float | None = Field(default=None, ge=0)
    rate: float | None = Field(default=None, ge=0)
    percent: float | None = None
    glucose: float | None = None
    glucoseType: str | None = None
    units: str | None = None
    notes: str | None = None
    enteredBy: str | None = None
    utcOffset: int | None = Field(default=None, ge=-1440, le=1440)

    @property
    def event_type_key(self) -> str | None:
        return self.eventType
