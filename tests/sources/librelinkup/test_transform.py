"""Wire parsing and transform, table-driven from every recorded LibreLinkUp fixture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from nightbridge.model import Direction, EventType
from nightbridge.sources.base import Batch
from nightbridge.sources.librelinkup.transform import (
    add_logbook,
    direction_of,
    graph_batch,
    mgdl_of,
)
from nightbridge.sources.librelinkup.wire import (
    ConnectionsResponse,
    GlucoseMeasurement,
    GraphResponse,
    LogbookResponse,
    Malformed,
    parse_item,
    parse_llu_time,
)
from tests.fakes.librelinkup import fixture

DEVICE = "nightscout-librelink-up"


@dataclass(frozen=True)
class GraphCase:
    file: str
    entries: int
    first: tuple[int, int, str | None]  # (date ms, sgv, direction)
    last: tuple[int, int, str | None]
    sensor_start_ms: int
    serial: str


GRAPH_CASES = [
    GraphCase(
        "nightscout-librelink-up/graph.json",
        142,
        (1672375840000, 173, None),
        (1672418860000, 115, "Flat"),
        1671955478000,
        "ABCDEF1234",
    ),
    GraphCase(
        "pylibrelinkup/graph_response.json",
        9,
        (1653097190000, 117, None),
        (1653140330000, 91, "SingleDown"),  # glucoseMeasurement's arrow (1), not glucoseItem's
        1652400270000,
        "XXXXXXXXXX",
    ),
    *(
        GraphCase(
            f"pylibrelinkup/{name}",
            9,
            (1653097190000, 117, None),
            (1653140330000, 91, "Flat"),
            1652400270000,
            "XXXXXXXXXX",
        )
        for name in (
            "graph_response_no_sd.json",
            "graph_response_no_u.json",
            "graph_response_no_alarm_rules_c.json",
        )
    ),
]


def _graph(name: str) -> Any:
    return GraphResponse.model_validate(fixture(name)).data


@pytest.mark.parametrize("case", GRAPH_CASES, ids=lambda c: c.file)
def test_graph_fixture_to_entries(case: GraphCase) -> None:
    batch = graph_batch(_graph(case.file), DEVICE)
    assert batch.skipped == {}
    assert len(batch.entries) == case.entries
    first, last = batch.entries[0], batch.entries[-1]
    assert (first.date, first.sgv, first.direction) == case.first
    assert (last.date, last.sgv, last.direction) == case.last
    assert [e.date for e in batch.entries] == sorted({e.date for e in batch.entries})
    assert all(e.device == DEVICE and e.type == "sgv" for e in batch.entries)


@pytest.mark.parametrize("case", GRAPH_CASES, ids=lambda c: c.file)
def test_graph_fixture_sensor(case: GraphCase) -> None:
    batch = graph_batch(_graph(case.file), DEVICE)
    (start,) = batch.treatments
    assert start.eventType == EventType.SENSOR_START
    assert start.date == case.sensor_start_ms
    (status,) = batch.devicestatus
    assert status.date == case.last[0]  # the snapshot is taken at the current reading
    extra = status.model_extra or {}
    assert extra["sensor"]["serial"] == case.serial
    assert extra["sensor"]["activatedMills"] == case.sensor_start_ms


def test_local_timestamp_gives_the_wearers_offset_not_the_time() -> None:
    batch = graph_batch(_graph("nightscout-librelink-up/graph.json"), DEVICE)
    assert {e.utcOffset for e in batch.entries} == {60}  # Germany in December
    summer = graph_batch(_graph("pylibrelinkup/graph_response.json"), DEVICE)
    assert {e.utcOffset for e in summer.entries} == {120}


def test_graph_points_have_no_direction_only_the_current_reading() -> None:
    batch = graph_batch(_graph("nightscout-librelink-up/graph.json"), DEVICE)
    assert [e.direction for e in batch.entries if e.direction is not None] == [Direction.FLAT]


def test_mmol_logbook_uses_mgdl_value_and_keeps_arrows() -> None:
    items = LogbookResponse.model_validate(fixture("pylibrelinkup/logbook_response.json")).data
    batch = Batch()
    add_logbook(batch, items, DEVICE)
    got = sorted((e.date, e.sgv, e.direction) for e in batch.entries)
    assert got == [
        (1731165540000, 159, "Flat"),
        (1731244099000, 181, "FortyFiveUp"),
        (1731258816000, 197, "Flat"),
    ]
    assert batch.treatments == []


def test_logbook_alarm_becomes_a_note() -> None:
    item = parse_item(
        {
            "FactoryTimestamp": "11/10/2024 5:13:36 PM",
            "Timestamp": "11/10/2024 5:13:36 PM",
            "type": 3,
            "alarmType": 1,
            "ValueInMgPerDl": 62,
            "GlucoseUnits": 1,
            "Value": 62,
            "TrendArrow": 2,
        }
    )
    batch = Batch()
    add_logbook(batch, [item], DEVICE)
    (note,) = batch.treatments
    assert (note.eventType, note.date, note.glucose) == ("Note", 1731258816000, 62)
    assert note.notes == "LibreLinkUp low alarm"
    assert batch.entries == []


@pytest.mark.parametrize(
    ("fields", "mgdl"),
    [
        ({"ValueInMgPerDl": 181, "Value": 10.1, "GlucoseUnits": 0}, 181),
        ({"Value": 10.1, "GlucoseUnits": 0}, 182),  # mmol/L only: converted
        ({"Value": 140, "GlucoseUnits": 1}, 140),
        ({"ValueInMgPerDl": 99.6}, 100),
    ],
)
def test_value_units(fields: dict[str, Any], mgdl: int) -> None:
    item = GlucoseMeasurement.model_validate({"FactoryTimestamp": "1/2/2024 3:04:05 AM", **fields})
    assert mgdl_of(item) == mgdl


@pytest.mark.parametrize(
    ("arrow", "direction"),
    [
        (1, Direction.SINGLE_DOWN),
        (2, Direction.FORTY_FIVE_DOWN),
        (3, Direction.FLAT),
        (4, Direction.FORTY_FIVE_UP),
        (5, Direction.SINGLE_UP),
        (0, Direction.NOT_COMPUTABLE),
        (9, Direction.NOT_COMPUTABLE),
        (None, None),
    ],
)
def test_trend_arrows(arrow: int | None, direction: Direction | None) -> None:
    assert direction_of(arrow) == direction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12/30/2022 4:47:40 PM", datetime(2022, 12, 30, 16, 47, 40)),
        ("12/30/2022 12:05:00 AM", datetime(2022, 12, 30, 0, 5, 0)),
        ("12/30/2022 12:05:00 PM", datetime(2022, 12, 30, 12, 5, 0)),
        ("1/2/2024 3:04:05 AM", datetime(2024, 1, 2, 3, 4, 5)),
        ("3/31/2024 14:30:00", datetime(2024, 3, 31, 14, 30, 0)),
        ("2024-03-31T01:30:00Z", datetime(2024, 3, 31, 1, 30, 0)),
        ("2024-03-31T03:30:00+02:00", datetime(2024, 3, 31, 1, 30, 0)),
    ],
)
def test_timestamp_formats(text: str, expected: datetime) -> None:
    assert parse_llu_time(text) == expected


def test_factory_timestamp_is_utc() -> None:
    item = GlucoseMeasurement.model_validate(
        {"FactoryTimestamp": "12/30/2022 4:47:40 PM", "ValueInMgPerDl": 1}
    )
    assert item.factory_time == datetime(2022, 12, 30, 16, 47, 40, tzinfo=UTC)


def test_malformed_items_are_counted_and_the_rest_go_through() -> None:
    raw = fixture("pylibrelinkup/graph_response.json")
    points = raw["data"]["graphData"]
    points[0]["FactoryTimestamp"] = "not a time"
    points[1]["ValueInMgPerDl"] = 0  # impossible glucose
    points[2] = {"Value": 5}  # no time at all
    del points[3]["ValueInMgPerDl"]
    points[3]["GlucoseUnits"] = None
    batch = graph_batch(GraphResponse.model_validate(raw).data, DEVICE)
    assert sum(batch.skipped.values()) == 4
    assert set(batch.skipped) == {"FactoryTimestamp", "sgv", "GlucoseUnits"}
    assert len(batch.entries) == 9 - 4


def test_current_reading_wins_over_a_graph_point_at_the_same_time() -> None:
    raw = fixture("nightscout-librelink-up/graph.json")
    current = raw["data"]["connection"]["glucoseMeasurement"]
    point = {k: v for k, v in current.items() if k != "TrendArrow"}
    raw["data"]["graphData"].append(point)
    batch = graph_batch(GraphResponse.model_validate(raw).data, DEVICE)
    same = [e for e in batch.entries if e.date == 1672418860000]
    assert len(same) == 1
    assert same[0].direction == Direction.FLAT
    assert len(batch.entries) == 142


def test_patient_without_sensor_gives_no_sensor_documents() -> None:
    raw = fixture("nightscout-librelink-up/graph.json")
    raw["data"]["connection"]["sensor"] = None
    raw["data"]["activeSensors"] = []
    batch = graph_batch(GraphResponse.model_validate(raw).data, DEVICE)
    assert batch.treatments == [] and batch.devicestatus == []
    assert len(batch.entries) == 142


def test_connections_fixture_parses_with_a_null_sensor() -> None:
    connections = ConnectionsResponse.model_validate(
        fixture("nightscout-librelink-up/connections.json")
    ).data
    assert [c.patientId for c in connections] == [
        "7ad66b40-ba9b-401e-9845-4f49f998cf16",
        "77179667-ba4b-11eb-ad1f-0242ac110004",
    ]
    assert connections[1].sensor is None
    assert isinstance(connections[0].glucoseMeasurement, GlucoseMeasurement)


def test_parse_item_reports_malformed_instead_of_raising() -> None:
    bad = parse_item({"FactoryTimestamp": "13/45/2022 4:47:40 PM"})
    assert isinstance(bad, Malformed) and bad.field == "FactoryTimestamp"
