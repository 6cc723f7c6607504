"""Treatments, device status and glucose units."""

from __future__ import annotations

from typing import Any

import pytest

from nightbridge.errors import SkippableError
from nightbridge.model import DeviceStatus, Treatment
from nightbridge.model.glucose import ARROWS, Direction, mgdl_to_mmol, mmol_to_mgdl
from nightbridge.model.time import iso_utc

DATE = 1613057404186


@pytest.mark.parametrize(
    ("mmol", "mgdl"),
    [(2.2, 40), (3.9, 70), (5.5, 99), (10.0, 180), (13.9, 250), (22.2, 400)],
)
def test_mmol_to_mgdl(mmol: float, mgdl: int) -> None:
    assert mmol_to_mgdl(mmol) == mgdl
    assert mgdl_to_mmol(mgdl) == pytest.approx(mmol, abs=0.05)


def test_every_direction_has_an_arrow() -> None:
    assert set(ARROWS) == set(Direction)


@pytest.mark.parametrize(
    ("raw", "date"),
    [
        ({"date": DATE}, DATE),
        ({"created_at": "2021-02-11T15:30:04.186Z"}, DATE),
        ({"created_at": "2021-02-11T10:30:04.186-05:00"}, DATE),
        ({"mills": DATE}, DATE),
    ],
)
def test_treatment_times(raw: dict[str, Any], date: int) -> None:
    doc = Treatment.build({"eventType": "Meal Bolus", "insulin": 4.5, "carbs": 45, **raw})
    assert doc.date == date
    assert doc.created_at == iso_utc(date) == "2021-02-11T15:30:04.186Z"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"eventType": ""}, "eventType"),
        ({"eventType": "Correction Bolus", "insulin": -1}, "insulin"),
        ({"eventType": "Carb Correction", "carbs": -10}, "carbs"),
        ({"eventType": "Temp Basal", "duration": -30}, "duration"),
        ({"eventType": "Note", "utcOffset": 5000}, "utcOffset"),
        ({"eventType": "Note", "date": "yesterday-ish"}, "date"),
    ],
)
def test_treatment_validation_names_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(SkippableError) as caught:
        Treatment.build({"date": DATE, **fields})
    assert caught.value.field == field


def test_treatment_keeps_unknown_fields() -> None:
    doc = Treatment.build(date=DATE, eventType="Meal Bolus", foodType="pizza", absorptionTime=180)
    out = doc.to_nightscout()
    assert (out["foodType"], out["absorptionTime"]) == ("pizza", 180)


def test_devicestatus_keeps_free_form_objects() -> None:
    raw = {
        "created_at": "2021-02-11T15:30:04.186Z",
        "pump": {"reservoir": 120.5, "battery": {"percent": 80}},
        "openaps": {"iob": {"iob": 1.2}},
    }
    out = DeviceStatus.build(raw).to_nightscout()
    assert out["date"] == DATE
    assert out["pump"]["reservoir"] == 120.5 and out["openaps"] == {"iob": {"iob": 1.2}}


def test_devicestatus_impossible_time_names_the_field() -> None:
    with pytest.raises(SkippableError) as caught:
        DeviceStatus.build({"created_at": "1999-12-31T23:59:59Z"})
    assert caught.value.field == "created_at"
