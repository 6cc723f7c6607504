"""Share records → sgv entries, table-driven from the recorded cassettes plus the legacy form."""

from __future__ import annotations

import json

import pytest

from nightbridge.errors import RemoteServerError, SkippableError
from nightbridge.model import Direction, EntryType
from nightbridge.sources.dexcom_share.transform import to_entry, trend_of
from nightbridge.sources.dexcom_share.wire import (
    ShareGlucose,
    ShareTime,
    parse_readings,
    parse_share_time,
)
from tests.sources.dexcom_share.cassettes import by_path

#: Every glucose value the cassettes recorded: WT ms → (sgv, direction, trend, utcOffset).
RECORDED = {
    1745081013817: (224, Direction.FLAT, 4, -240),
    1745081913085: (216, Direction.FLAT, 4, -240),
    1750022969925: (175, Direction.FLAT, 4, -240),
}


def recorded_records() -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for item in by_path("ReadPublisherLatestGlucoseValues"):
        if item.status == 200:
            records.extend(json.loads(item.body))
    return records


def test_cassettes_hold_the_expected_readings() -> None:
    records = recorded_records()
    assert len(records) == 12  # 3 distinct readings, recorded 4 times each; 9 answers were []
    assert {int(str(r["WT"])[5:-1]) for r in records} == set(RECORDED)


@pytest.mark.parametrize("record", recorded_records(), ids=lambda r: str(r["WT"]))
def test_every_recorded_reading_becomes_an_sgv_entry(record: dict[str, object]) -> None:
    entry = to_entry(ShareGlucose.model_validate(record), "share2")
    sgv, direction, trend, offset = RECORDED[entry.date]
    assert entry.type == EntryType.SGV
    assert (entry.sgv, entry.direction, entry.trend, entry.utcOffset) == (
        sgv,
        direction,
        trend,
        offset,
    )
    assert entry.device == "share2"
    assert entry.dateString.endswith("Z")


def test_recorded_reading_date_string_is_utc() -> None:
    record = {"WT": "Date(1745081013817)", "DT": "Date(1745081013817-0400)", "Value": 224}
    entry = to_entry(ShareGlucose.model_validate({**record, "Trend": "Flat"}), "share2")
    assert entry.dateString == "2025-04-19T16:43:33.817Z"
    assert entry.to_nightscout()["direction"] == "Flat"


def test_legacy_record_with_slashes_and_integer_trend() -> None:
    # The 2015 sample quoted by ns-connect and share2ns: ST is an hour off and must be ignored.
    legacy = {
        "DT": "/Date(1426292016000-0700)/",
        "ST": "/Date(1426295616000)/",
        "Trend": 4,
        "Value": 101,
        "WT": "/Date(1426292039000)/",
    }
    entry = to_entry(ShareGlucose.model_validate(legacy), "share2")
    assert (entry.date, entry.sgv, entry.direction, entry.trend) == (
        1426292039000,
        101,
        Direction.FLAT,
        4,
    )
    assert entry.utcOffset == -420


@pytest.mark.parametrize(
    ("raw", "number", "direction"),
    [
        (0, 0, Direction.NONE),
        (1, 1, Direction.DOUBLE_UP),
        (2, 2, Direction.SINGLE_UP),
        (3, 3, Direction.FORTY_FIVE_UP),
        (4, 4, Direction.FLAT),
        (5, 5, Direction.FORTY_FIVE_DOWN),
        (6, 6, Direction.SINGLE_DOWN),
        (7, 7, Direction.DOUBLE_DOWN),
        (8, 8, Direction.NOT_COMPUTABLE),
        (9, 9, Direction.RATE_OUT_OF_RANGE),
        ("None", 0, Direction.NONE),
        ("NONE", 0, Direction.NONE),
        ("DoubleUp", 1, Direction.DOUBLE_UP),
        ("SingleUp", 2, Direction.SINGLE_UP),
        ("FortyFiveUp", 3, Direction.FORTY_FIVE_UP),
        ("Flat", 4, Direction.FLAT),
        ("FortyFiveDown", 5, Direction.FORTY_FIVE_DOWN),
        ("SingleDown", 6, Direction.SINGLE_DOWN),
        ("DoubleDown", 7, Direction.DOUBLE_DOWN),
        ("NotComputable", 8, Direction.NOT_COMPUTABLE),
        ("NOT COMPUTABLE", 8, Direction.NOT_COMPUTABLE),
        ("RateOutOfRange", 9, Direction.RATE_OUT_OF_RANGE),
        ("RATE OUT OF RANGE", 9, Direction.RATE_OUT_OF_RANGE),
        ("4", 4, Direction.FLAT),
        ("Sideways", None, Direction.NONE),
        (10, None, Direction.NONE),
        (-1, None, Direction.NONE),
        (None, None, Direction.NONE),
    ],
)
def test_trend_strings_and_integers(
    raw: int | str | None, number: int | None, direction: Direction
) -> None:
    assert trend_of(raw) == (number, direction)


def test_unknown_trend_keeps_the_reading_and_the_original_text() -> None:
    record = {"WT": "Date(1745081013817)", "Value": 120, "Trend": "Sideways"}
    entry = to_entry(ShareGlucose.model_validate(record), "share2")
    assert entry.direction == Direction.NONE and entry.trend is None
    assert entry.to_nightscout()["trendOriginal"] == "Sideways"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date(1745081013817)", ShareTime(1745081013817, None)),
        ("Date(1745081013817-0400)", ShareTime(1745081013817, -240)),
        ("/Date(1426292016000-0700)/", ShareTime(1426292016000, -420)),
        ("/Date(1426295616000)/", ShareTime(1426295616000, None)),
        ("Date(1711846800000+0530)", ShareTime(1711846800000, 330)),
        ("Date(1711846800000+0000)", ShareTime(1711846800000, 0)),
    ],
)
def test_both_date_formats(text: str, expected: ShareTime) -> None:
    assert parse_share_time(text) == expected


def test_dst_change_keeps_utc_dates_and_reports_each_offset() -> None:
    # US spring forward 2025-03-09 07:00Z: EST (-0500) before, EDT (-0400) after. The digits are
    # UTC already: consecutive readings stay 5 minutes apart, only utcOffset changes.
    before, after = 1741503300000, 1741503600000  # 06:55Z and 07:00Z
    records = [
        {"WT": f"Date({after})", "DT": f"Date({after}-0400)", "Value": 110, "Trend": "Flat"},
        {"WT": f"Date({before})", "DT": f"Date({before}-0500)", "Value": 108, "Trend": "Flat"},
    ]
    entries = [to_entry(ShareGlucose.model_validate(r), "share2") for r in records]
    assert [e.date for e in entries] == [after, before]
    assert after - before == 300_000
    assert [e.utcOffset for e in entries] == [-240, -300]
    assert [e.dateString for e in entries] == [
        "2025-03-09T07:00:00.000Z",
        "2025-03-09T06:55:00.000Z",
    ]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"WT": "yesterday", "Value": 100}, "WT"),
        ({"Value": 100}, "WT"),
        ({"WT": "Date(1745081013817)", "Value": "high"}, "Value"),
        ({"WT": "Date(1745081013817)"}, "Value"),
        ({"WT": "Date(1745081013817)", "Value": 100, "Trend": True}, "Trend"),
        ({"WT": "Date(1745081013817-0475)", "Value": 100}, "WT"),
        ("not an object", "record"),
    ],
)
def test_malformed_records_are_rejected_by_field(record: object, field: str) -> None:
    good = {"WT": "Date(1745081013817)", "Value": 224, "Trend": "Flat"}
    parsed = parse_readings([good, record])
    assert len(parsed.readings) == 1
    assert [e.field for e in parsed.rejected] == [field]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"WT": "Date(1745081013817)", "Value": 0}, "Value"),
        ({"WT": "Date(1745081013817)", "Value": -5}, "Value"),
        ({"WT": "Date(12345)", "Value": 100}, "date"),
        ({"WT": "Date(1745081013817)", "Value": 5000}, "sgv"),
    ],
)
def test_impossible_values_are_skippable(record: dict[str, object], field: str) -> None:
    with pytest.raises(SkippableError) as caught:
        to_entry(ShareGlucose.model_validate(record), "share2")
    assert caught.value.field == field


def test_a_body_that_is_not_a_list_is_an_outage() -> None:
    with pytest.raises(RemoteServerError):
        parse_readings({"Code": "Whatever"})
