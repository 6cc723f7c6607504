"""API v3 document rules: date parsing, validation, immutable fields, output normalisation."""

from __future__ import annotations

from typing import Any

import pytest

from nightbridge.server.api_v3.documents import (
    check_identifier,
    check_modifiable,
    normalise,
    parse_date,
    parse_fields,
    parse_moment,
    project,
    validate_common,
    validate_patch,
)
from nightbridge.server.api_v3.responses import V3Error


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1560146828576, (1560146828576, 0)),
        ("1560146828576", (1560146828576, 0)),
        (1560146828, (1560146828000, 0)),  # Unix seconds
        ("2019-06-10T08:07:08,576+02:00", (1560146828576, 120)),
        ("2019-06-10T06:07:08.576Z", (1560146828576, 0)),
        ("Mon, 10 Jun 2019 08:07:08 +0200", (1560146828000, 120)),
        ("not a date", None),
        ("", None),
        (None, None),
        (True, None),
        ([1], None),
    ],
)
def test_parse_moment(value: object, expected: tuple[int, int] | None) -> None:
    assert parse_moment(value) == expected


def test_parse_date_iso_sets_offset_and_utc_created_at() -> None:
    doc: dict[str, Any] = {"date": "2019-06-10T08:07:08,576+02:00"}
    parse_date(doc)
    assert doc == {
        "date": 1560146828576,
        "utcOffset": 120,
        "created_at": "2019-06-10T06:07:08.576Z",
    }


def test_parse_date_keeps_client_utc_offset_and_falls_back_to_created_at() -> None:
    doc: dict[str, Any] = {"created_at": "2019-06-10T08:07:08.576+02:00", "utcOffset": -300}
    parse_date(doc)
    assert doc["date"] == 1560146828576
    assert doc["utcOffset"] == -300
    assert doc["created_at"] == "2019-06-10T06:07:08.576Z"


def test_parse_date_without_created_at_fallback_ignores_created_at() -> None:
    doc: dict[str, Any] = {"created_at": "2019-06-10T08:07:08.576+02:00"}
    parse_date(doc, created_at_fallback=False)
    assert "date" not in doc


def test_validate_common_messages() -> None:
    good = {"date": 1560146828576, "utcOffset": 0, "app": "x"}
    validate_common(good)
    cases = [
        ({**good, "date": 946684800000}, "Bad or missing date field"),
        ({**good, "date": "1560146828576"}, "Bad or missing date field"),
        ({**good, "utcOffset": 1441}, "Bad or missing utcOffset field"),
        ({**good, "utcOffset": True}, "Bad or missing utcOffset field"),
        ({**good, "app": "  "}, "Bad or missing app field"),
        ({k: v for k, v in good.items() if k != "app"}, "Bad or missing app field"),
    ]
    for doc, message in cases:
        with pytest.raises(V3Error) as caught:
            validate_common(doc)
        assert (caught.value.status, caught.value.message) == (400, message)


def test_validate_patch_checks_only_carried_fields() -> None:
    validate_patch({"carbs": 5})
    with pytest.raises(V3Error, match="app"):
        validate_patch({"app": ""})


def test_immutable_fields_and_read_only() -> None:
    stored = {"identifier": "a", "date": 1, "app": "x", "device": "d", "carbs": 1}
    check_modifiable({"carbs": 2, "app": "x"}, stored)
    with pytest.raises(V3Error) as caught:
        check_modifiable({"app": "y"}, stored)
    assert caught.value.message == "Field app cannot be modified by the client"
    with pytest.raises(V3Error, match="Field identifier"):
        check_modifiable({"identifier": "b"}, stored)
    check_modifiable({"identifier": "b"}, stored, deduplication=True)
    # A field the stored document lacks may be set (a v1 document without ``app``).
    check_modifiable({"eventType": "Note", "utcOffset": 60}, stored)
    check_modifiable({"app": "y"}, {**stored, "isValid": False})
    with pytest.raises(V3Error) as caught:
        check_modifiable({"carbs": 3}, {**stored, "readOnly": True})
    assert (caught.value.status, caught.value.message) == (
        422,
        "Trying to modify read-only document",
    )


def test_normalise_drops_id_and_fills_server_times() -> None:
    entry = normalise({"_id": "abc", "date": 1560146828576}, "entries")
    assert entry == {
        "identifier": "abc",
        "date": 1560146828576,
        "srvModified": 1560146828576,
        "srvCreated": 1560146828576,
    }
    treatment = normalise(
        {"identifier": "t", "created_at": "2019-06-10T06:07:08.576Z", "srvModified": 5},
        "treatments",
    )
    assert treatment["srvModified"] == 5
    assert treatment["srvCreated"] == 1560146828576


def test_fields_projection() -> None:
    assert parse_fields(None) is None
    assert parse_fields("") is None
    assert parse_fields("_all") is None
    assert parse_fields("date, sgv") == ("date", "sgv")
    assert project({"date": 1, "sgv": 2, "identifier": "x"}, ("date", "sgv", "no")) == {
        "date": 1,
        "sgv": 2,
    }


@pytest.mark.parametrize("bad", ["", "   ", "x" * 257, "a\nb", 5, None])
def test_bad_identifiers(bad: object) -> None:
    with pytest.raises(V3Error, match="identifier"):
        check_identifier(bad)


def test_good_identifier() -> None:
    assert check_identifier("5b0f7124-475f-5db0-824c-a73c5eea0975") == (
        "5b0f7124-475f-5db0-824c-a73c5eea0975"
    )
