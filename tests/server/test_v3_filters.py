"""API v3 SEARCH query-string parsing, typed as cgm-remote-monitor does."""

from __future__ import annotations

import pytest

from nightbridge.server.api_v3.filters import (
    MAX_LIMIT,
    FilterSpec,
    parse_filters,
    parse_search,
    parse_value,
)
from nightbridge.server.api_v3.responses import V3Error


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("sgv", "180", 180),
        ("insulin", "1.5", 1.5),
        ("isSMB", "true", True),
        ("isSMB", "false", False),
        ("device", "'123'", "123"),
        ("device", "xDrip", "xDrip"),
        ("date", "2024-01-15T12:00:00Z", 1705320000000),
        ("date", "1705320000000", 1705320000000),
        ("date", "1705320000", 1705320000000),
        ("srvModified", "2024-01-15T12:00:00Z", 1705320000000),
        ("created_at", "2024-01-15T13:00:00+01:00", "2024-01-15T12:00:00.000Z"),
        ("created_at", "1705320000000", "2024-01-15T12:00:00.000Z"),
        ("type", "", ""),
    ],
)
def test_parse_value(field: str, raw: str, expected: object) -> None:
    value = parse_value(field, raw)
    assert value == expected
    assert type(value) is type(expected)


def test_filters_skip_reserved_and_default_to_eq() -> None:
    params = [("token", "abc"), ("limit", "10"), ("type", "sgv"), ("sgv$gte", "180")]
    assert parse_filters(params) == (
        FilterSpec("type", "eq", "sgv"),
        FilterSpec("sgv", "gte", 180),
    )


def test_in_and_nin_split_on_pipe_as_strings() -> None:
    params = [("type$in", "sgv|mbg|cal"), ("sgv$nin", "100|120")]
    assert parse_filters(params) == (
        FilterSpec("type", "in", ("sgv", "mbg", "cal")),
        FilterSpec("sgv", "nin", ("100", "120")),
    )


def test_unsupported_operator() -> None:
    with pytest.raises(V3Error) as caught:
        parse_filters([("sgv$like", "180")])
    assert (caught.value.status, caught.value.message) == (400, "Unsupported filter operator like")


def test_bad_regex_is_400() -> None:
    with pytest.raises(V3Error) as caught:
        parse_filters([("device$re", "([")])
    assert caught.value.status == 400


def test_search_defaults() -> None:
    spec = parse_search([])
    assert spec.limit == MAX_LIMIT == 1000
    assert spec.skip == 0
    assert spec.fields is None
    assert spec.sort == (("identifier", False), ("created_at", False), ("date", False))


def test_sort_desc_appends_tiebreakers_in_same_direction() -> None:
    spec = parse_search([("sort$desc", "date")])
    assert spec.sort == (("date", True), ("identifier", True), ("created_at", True))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([("limit", "0")], "Parameter limit out of tolerance"),
        ([("limit", "-5")], "Parameter limit out of tolerance"),
        ([("limit", "2000")], "Parameter limit out of tolerance"),
        ([("limit", "ten")], "Parameter limit out of tolerance"),
        ([("skip", "-10")], "Parameter skip out of tolerance"),
        (
            [("sort", "date"), ("sort$desc", "date")],
            "Parameters sort and sort_desc cannot be combined",
        ),
    ],
)
def test_search_parameter_errors(params: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(V3Error) as caught:
        parse_search(params)
    assert (caught.value.status, caught.value.message) == (400, message)
