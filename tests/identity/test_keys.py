"""The Nightscout v3 identifier, computed exactly as cgm-remote-monitor does."""

from __future__ import annotations

import uuid

import pytest

from nightbridge.identity import NAMESPACE, calculate_identifier, identify, unique_by_identifier
from nightbridge.identity.keys import identifier_key
from nightbridge.model import DeviceStatus, Entry, Treatment


def test_documented_example_from_the_nightscout_tutorial() -> None:
    # shared/reference/nightscout-api.md §4.4 (crm:lib/api3/doc/tutorial.md)
    assert (
        calculate_identifier("Samsung XCover 4-861536030196001", 1613057404186, "Correction Bolus")
        == "5b0f7124-475f-5db0-824c-a73c5eea0975"
    )


def test_documented_example_through_the_model() -> None:
    doc = Treatment.build(
        device="Samsung XCover 4-861536030196001", date=1613057404186, eventType="Correction Bolus"
    )
    assert identify(doc).identifier == "5b0f7124-475f-5db0-824c-a73c5eea0975"


def test_namespace_is_nightscout_rocks() -> None:
    assert str(NAMESPACE) == "4e696768-7473-636f-7574-526f636b7321"


@pytest.mark.parametrize(
    ("device", "date", "event_type", "key"),
    [
        ("dexcom", 1613057404186, None, "dexcom_1613057404186"),
        (None, 1613057404186, None, "undefined_1613057404186"),
        ("pump", 1613057404186, "Meal Bolus", "pump_1613057404186_Meal Bolus"),
        ("pump", 1613057404186, "", "pump_1613057404186"),
        ("xDrip-DexcomG6 ✓", 1700000000000, "Note", "xDrip-DexcomG6 ✓_1700000000000_Note"),
    ],
)
def test_key_and_uuid5_match_the_standard_library(
    device: str | None, date: int, event_type: str | None, key: str
) -> None:
    assert identifier_key(device, date, event_type) == key
    assert calculate_identifier(device, date, event_type) == str(uuid.uuid5(NAMESPACE, key))


@pytest.mark.parametrize(
    ("doc", "event_type"),
    [
        (Entry.build(date=1613057404186, sgv=120, device="d"), None),
        (DeviceStatus.build(date=1613057404186, device="d"), None),
        (Treatment.build(date=1613057404186, eventType="Meal Bolus", device="d"), "Meal Bolus"),
    ],
)
def test_each_collection_keys_on_device_date_and_event_type(
    doc: Entry | DeviceStatus | Treatment, event_type: str | None
) -> None:
    assert identify(doc).identifier == calculate_identifier("d", 1613057404186, event_type)


def test_client_identifier_is_kept() -> None:
    doc = Entry.build(date=1613057404186, sgv=120, identifier="client-chosen")
    assert identify(doc).identifier == "client-chosen"


def test_in_batch_duplicates_keep_the_last_in_first_seen_order() -> None:
    a1 = Entry.build(date=1613057404186, sgv=100, device="d")
    b = Entry.build(date=1613057704186, sgv=110, device="d")
    a2 = Entry.build(date=1613057404186, sgv=101, device="d")
    unique = unique_by_identifier([a1, b, a2])
    assert [d.sgv for d in unique] == [101, 110]
    assert all(d.identifier for d in unique)
