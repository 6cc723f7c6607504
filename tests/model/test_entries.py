"""Entry values: directions, arrows, validation naming the field, extra fields, times."""

from __future__ import annotations

from typing import Any

import pytest

from nightbridge.errors import SkippableError
from nightbridge.model import Direction, Entry
from nightbridge.model.glucose import parse_direction
from nightbridge.model.time import now_ms

DATE = 1613057404186
ISO = "2021-02-11T15:30:04.186Z"

NIGHTSCOUT_DIRECTIONS = [
    "DoubleUp",
    "SingleUp",
    "FortyFiveUp",
    "Flat",
    "FortyFiveDown",
    "SingleDown",
    "DoubleDown",
    "NONE",
    "NOT COMPUTABLE",
    "RATE OUT OF RANGE",
]


def test_direction_vocabulary_is_exactly_nightscouts() -> None:
    assert sorted(d.value for d in Direction) == sorted(NIGHTSCOUT_DIRECTIONS)


@pytest.mark.parametrize("text", NIGHTSCOUT_DIRECTIONS)
def test_every_nightscout_direction_is_kept_as_is(text: str) -> None:
    entry = Entry.build(date=DATE, sgv=120, direction=text)
    assert entry.direction == Direction(text)
    assert entry.to_nightscout()["direction"] == text
    assert "trendOriginal" not in entry.to_nightscout()


@pytest.mark.parametrize(
    ("vendor", "mapped"),
    [
        ("TripleUp", Direction.DOUBLE_UP),
        ("TripleDown", Direction.DOUBLE_DOWN),
        ("NotComputable", Direction.NOT_COMPUTABLE),
        ("RateOutOfRange", Direction.RATE_OUT_OF_RANGE),
        ("None", Direction.NONE),
    ],
)
def test_vendor_arrows_map_with_the_original_kept(vendor: str, mapped: Direction) -> None:
    entry = Entry.build(date=DATE, sgv=120, direction=vendor)
    assert entry.direction is mapped
    assert entry.to_nightscout()["trendOriginal"] == vendor
    assert parse_direction(vendor) == (mapped, vendor)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sgv": 0}, "sgv"),
        ({"sgv": -5}, "sgv"),
        ({"sgv": 1001}, "sgv"),
        ({"sgv": None}, "sgv"),
        ({"sgv": 120, "mbg": 120}, "mbg"),
        ({"type": "mbg", "mbg": None}, "mbg"),
        ({"sgv": 120, "direction": "Sideways"}, "direction"),
        ({"sgv": 120, "noise": 5}, "noise"),
        ({"sgv": 120, "date": 0}, "date"),
        ({"sgv": 120, "date": 631152000000}, "date"),  # 1990: before Nightscout's 2000 limit
        ({"sgv": 120, "date": now_ms() + 3 * 86_400_000}, "date"),  # days in the future
        ({"sgv": 120, "date": "not a date"}, "date"),
        ({"sgv": 120, "date": None}, "date"),
    ],
)
def test_invalid_values_raise_skippable_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    payload = {"date": DATE, **fields}
    with pytest.raises(SkippableError) as caught:
        Entry.build(payload)
    assert caught.value.field == field
    assert field in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (DATE, DATE),
        (DATE / 1000, DATE - 186),  # epoch seconds are taken as seconds (like Nightscout v3)
        (str(DATE), DATE),
        (ISO, DATE),
        ("2021-02-11T16:30:04.186+01:00", DATE),
        ("2021-02-11T16:30:04,186+01:00", DATE),
    ],
)
def test_dates_become_epoch_ms_with_utc_strings(raw: object, expected: int) -> None:
    entry = Entry.build(date=raw, sgv=120)
    assert entry.date == expected
    assert entry.dateString == entry.sysTime
    assert entry.dateString.endswith("Z")


def test_date_string_alone_is_enough() -> None:
    entry = Entry.build({"dateString": ISO, "sgv": 99})
    assert (entry.date, entry.dateString) == (DATE, ISO)


def test_unknown_fields_are_kept() -> None:
    raw = {"date": DATE, "sgv": 120, "xDrip_filtered_calculated_value": 118.5, "nested": {"a": 1}}
    out = Entry.build(raw).to_nightscout()
    assert out["xDrip_filtered_calculated_value"] == 118.5
    assert out["nested"] == {"a": 1}
    assert out["sgv"] == 120 and out["type"] == "sgv"


def test_meter_reading() -> None:
    entry = Entry.build(date=DATE, type="mbg", mbg=140)
    assert entry.to_nightscout()["mbg"] == 140 and entry.sgv is None
