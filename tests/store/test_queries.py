"""DocQuery on both databases: every operator on indexed and JSON fields, typing, paging."""

from __future__ import annotations

from typing import Any

import pytest

from nightbridge.store import DocQuery, Filter, Store

T0 = 1_700_000_000_000

DOCS: list[dict[str, Any]] = [
    {
        "identifier": "d1",
        "type": "sgv",
        "date": T0 + 1,
        "sgv": 100,
        "device": "a",
        "direction": "Flat",
        "pump": {"reservoir": 50.5},
        "flag": True,
        "created_at": "2023-11-14T22:13:20.001Z",
    },
    {
        "identifier": "d2",
        "type": "sgv",
        "date": T0 + 2,
        "sgv": "199",
        "device": "b",
        "direction": "FortyFiveUp",
        "flag": False,
    },
    {
        "identifier": "d3",
        "type": "mbg",
        "date": T0 + 3,
        "mbg": 90,
        "device": "a",
        "note": None,
        "eventType": "BG Check",
    },
    {
        "identifier": "d4",
        "type": "sgv",
        "date": T0 + 4,
        "sgv": 250.5,
        "device": "c",
        "direction": "DoubleUp",
        "pump": {"reservoir": 10},
    },
    {"identifier": "d5", "type": "cal", "date": "2024-01-01", "slope": 800},
]

# (filter, expected identifiers) — indexed columns and JSON fields, every operator.
CASES: list[tuple[Filter, set[str]]] = [
    (Filter("type", "eq", "sgv"), {"d1", "d2", "d4"}),
    (Filter("type", "ne", "sgv"), {"d3", "d5"}),
    (Filter("type", "in", ["mbg", "cal"]), {"d3", "d5"}),
    (Filter("type", "nin", ["mbg", "cal"]), {"d1", "d2", "d4"}),
    (Filter("type", "re", "^(s|m)"), {"d1", "d2", "d3", "d4"}),
    (Filter("type", "gt", "mbg"), {"d1", "d2", "d4"}),
    (Filter("date", "gt", T0 + 2), {"d3", "d4"}),
    (Filter("date", "gte", T0 + 2), {"d2", "d3", "d4"}),
    (Filter("date", "lt", T0 + 2), {"d1"}),
    (Filter("date", "lte", T0 + 2), {"d1", "d2"}),
    (Filter("date", "eq", T0 + 3), {"d3"}),
    (Filter("date", "ne", T0 + 3), {"d1", "d2", "d4", "d5"}),
    (Filter("date", "in", [T0 + 1, T0 + 4, 5]), {"d1", "d4"}),
    (Filter("date", "nin", [T0 + 1, T0 + 4]), {"d2", "d3", "d5"}),
    (Filter("date", "gte", 1.5), {"d1", "d2", "d3", "d4"}),
    (Filter("date", "eq", "2024-01-01"), {"d5"}),  # a string date only matches a string
    (Filter("device", "eq", "a"), {"d1", "d3"}),
    (Filter("device", "ne", "a"), {"d2", "d4", "d5"}),
    (Filter("eventType", "eq", "BG Check"), {"d3"}),
    (Filter("identifier", "in", ["d2", "d5", "zz"]), {"d2", "d5"}),
    (Filter("identifier", "eq", 5), set()),
    (Filter("created_at", "gte", "2023-11-14"), {"d1"}),
    # JSON fields: numbers compare numerically, never with strings
    (Filter("sgv", "gt", 150), {"d4"}),
    (Filter("sgv", "gte", 100), {"d1", "d4"}),
    (Filter("sgv", "lt", 200), {"d1"}),
    (Filter("sgv", "lte", 100), {"d1"}),
    (Filter("sgv", "eq", 250.5), {"d4"}),
    (Filter("sgv", "eq", 199), set()),
    (Filter("sgv", "eq", "199"), {"d2"}),
    (Filter("sgv", "ne", 100), {"d2", "d3", "d4", "d5"}),
    (Filter("sgv", "in", [100, "199"]), {"d1", "d2"}),
    (Filter("sgv", "nin", [100, 250.5]), {"d2", "d3", "d5"}),
    (Filter("sgv", "gt", "1"), {"d2"}),
    (Filter("direction", "re", "Up$"), {"d2", "d4"}),
    (Filter("direction", "re", "(?i)^flat"), {"d1"}),
    (Filter("direction", "lt", "Fo"), {"d1", "d4"}),
    (Filter("pump.reservoir", "gt", 20), {"d1"}),
    (Filter("pump.reservoir", "lte", 50.5), {"d1", "d4"}),
    (Filter("flag", "eq", True), {"d1"}),
    (Filter("flag", "eq", False), {"d2"}),
    (Filter("flag", "ne", True), {"d2", "d3", "d4", "d5"}),
    (Filter("note", "eq", None), {"d1", "d2", "d3", "d4", "d5"}),
    (Filter("mbg", "eq", None), {"d1", "d2", "d4", "d5"}),
    (Filter("mbg", "ne", None), {"d3"}),
    (Filter("slope", "in", []), set()),
    (Filter("slope", "nin", []), {"d1", "d2", "d3", "d4", "d5"}),
    (Filter("srvModified", "gt", T0), {"d1", "d2", "d3", "d4", "d5"}),
    (Filter("srvModified", "eq", "x"), set()),
]


@pytest.fixture
async def loaded(store: Store) -> Store:
    await store.upsert("entries", DOCS, now_ms=T0 + 10)
    await store.upsert("treatments", [{**DOCS[0], "identifier": "t1"}], now_ms=T0 + 10)
    return store


async def test_every_operator(loaded: Store) -> None:
    wrong = []
    for flt, expected in CASES:
        found = {d["identifier"] for d in await loaded.find("entries", DocQuery(filters=(flt,)))}
        counted = await loaded.count("entries", DocQuery(filters=(flt,)))
        if found != expected or counted != len(expected):
            wrong.append((flt, expected, found, counted))
    assert wrong == []


async def test_filters_are_anded(loaded: Store) -> None:
    query = DocQuery(filters=(Filter("device", "eq", "a"), Filter("type", "eq", "sgv")))
    assert [d["identifier"] for d in await loaded.find("entries", query)] == ["d1"]


async def test_sort_limit_skip(loaded: Store) -> None:
    by_date = DocQuery(sort=(("date", True),), filters=(Filter("date", "gt", 0),))
    assert [d["identifier"] for d in await loaded.find("entries", by_date)] == [
        "d4",
        "d3",
        "d2",
        "d1",
    ]
    page = DocQuery(sort=(("date", False),), filters=by_date.filters, limit=2, skip=1)
    assert [d["identifier"] for d in await loaded.find("entries", page)] == ["d2", "d3"]
    json_sort = DocQuery(sort=(("pump.reservoir", True),), limit=2)
    assert [d["identifier"] for d in await loaded.find("entries", json_sort)] == ["d1", "d4"]
    missing_first = DocQuery(sort=(("pump.reservoir", False),))
    ids = [d["identifier"] for d in await loaded.find("entries", missing_first)]
    assert ids[-2:] == ["d4", "d1"] and set(ids[:3]) == {"d2", "d3", "d5"}
    two_keys = DocQuery(sort=(("device", False), ("date", True)))
    assert [d["identifier"] for d in await loaded.find("entries", two_keys)] == [
        "d5",
        "d3",
        "d1",
        "d2",
        "d4",
    ]


async def test_default_order_is_insertion_order(loaded: Store) -> None:
    assert [d["identifier"] for d in await loaded.find("entries")] == ["d1", "d2", "d3", "d4", "d5"]


async def test_projection(loaded: Store) -> None:
    query = DocQuery(filters=(Filter("identifier", "eq", "d1"),), fields=("sgv", "date", "nope"))
    assert await loaded.find("entries", query) == [{"sgv": 100, "date": T0 + 1}]
    everything = DocQuery(filters=query.filters, fields=("_all",))
    assert (await loaded.find("entries", everything))[0]["pump"] == {"reservoir": 50.5}


async def test_soft_deleted_hidden_unless_asked_and_history(loaded: Store) -> None:
    assert await loaded.delete("entries", "d2", now_ms=T0 + 50)
    assert await loaded.count("entries") == 4
    everything = await loaded.find("entries", DocQuery(include_invalid=True))
    assert [d.get("isValid", True) for d in everything] == [True, False, True, True, True]
    history = DocQuery(include_invalid=True, modified_since=T0 + 10, sort=(("srvModified", False),))
    assert [(d["identifier"], d["isValid"]) for d in await loaded.find("entries", history)] == [
        ("d2", False)
    ]
    got = await loaded.get("entries", "d2")
    assert got is not None and got["isValid"] is False and got["srvModified"] == T0 + 50


async def test_delete_permanent_and_matching(loaded: Store) -> None:
    assert await loaded.delete("entries", "d1", permanent=True)
    assert await loaded.get("entries", "d1") is None
    assert not await loaded.delete("entries", "d1", permanent=True)
    assert not await loaded.delete("entries", "nope")
    removed = await loaded.delete_matching(
        "entries", DocQuery(filters=(Filter("type", "eq", "sgv"),))
    )
    assert removed == 2
    assert {d["identifier"] for d in await loaded.find("entries")} == {"d3", "d5"}
    assert await loaded.count("treatments") == 1


async def test_newest_and_last_modified(loaded: Store) -> None:
    assert await loaded.newest_date("entries") == T0 + 4
    assert await loaded.newest_date("entries", device="a") == T0 + 3
    assert await loaded.newest_date("entries", device="zz") is None
    assert await loaded.newest_date("food") is None
    await loaded.delete("entries", "d4", now_ms=T0 + 99)
    assert await loaded.newest_date("entries") == T0 + 3
    assert await loaded.last_modified("entries") == T0 + 99
    assert await loaded.last_modified("food") is None


def test_bad_filters_are_refused() -> None:
    with pytest.raises(ValueError):
        Filter("sgv", "like", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Filter("sgv", "in", "abc")
    with pytest.raises(ValueError):
        Filter("a..b", "eq", 1)
    with pytest.raises(ValueError):
        Filter("sgv", "re", 5)


async def test_unsupported_value_types_are_refused(loaded: Store) -> None:
    with pytest.raises(ValueError):
        await loaded.find("entries", DocQuery(filters=(Filter("sgv", "gt", None),)))
    with pytest.raises(ValueError):
        await loaded.find("entries", DocQuery(filters=(Filter("sgv", "eq", {"a": 1}),)))
