"""Between documents and rows: the JSON body, the indexed copies, the natural key.

A stored document is its client JSON *body* (every client field, server fields removed) plus the
server fields in columns. ``natural_key`` is the key Nightscout de-duplicates on when there is
no identifier (nightscout-api.md §2.4, §2.5, §4.5):

| collection   | natural key                  |
| ------------ | ---------------------------- |
| entries      | ``date|type`` (= sysTime+type) |
| treatments   | ``created_at|eventType``     |
| devicestatus | ``created_at|device``        |
| profile/food | ``created_at``               |
| settings     | none                         |

``created_at`` enters the key as UTC ISO with milliseconds (``2024-01-01T00:00:00.000Z``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from nightbridge.errors import SkippableError
from nightbridge.model.time import iso_utc, parse_any

#: Fields the server owns; never kept in the stored body.
SERVER_FIELDS = frozenset({"identifier", "srvCreated", "srvModified", "isValid"})

_CANONICAL_ISO_LEN = len("2024-01-01T00:00:00.000Z")


def body_of(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` without the server fields."""
    body = doc.copy()
    for key in _SERVER_FIELDS:
        if key in body:
            del body[key]
    return body


_SERVER_FIELDS = tuple(SERVER_FIELDS)
_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS
_blake2b = hashlib.blake2b


def encode_body(body: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON text of ``body`` (sorted keys) and its digest (blake2b, 16 bytes)."""
    raw = _dumps(body, option=_SORTED)
    return raw.decode(), _blake2b(raw, digest_size=16).hexdigest()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_INT64 = 2**63


def _number(value: Any) -> int | None:
    """An integer copy for a BIGINT column: None for non-numbers and out-of-range values."""
    if type(value) is int:
        return value if -_INT64 < value < _INT64 else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not -_INT64 < value < _INT64:
        return None
    return int(value)


def normal_iso(value: Any) -> str | None:
    """``created_at`` as canonical UTC ISO with ms, or None when it is not a time."""
    if isinstance(value, str) and len(value) == _CANONICAL_ISO_LEN and value.endswith("Z"):
        return value
    try:
        return iso_utc(parse_any(value, "created_at"))
    except SkippableError:
        return None


def natural_key(collection: str, body: dict[str, Any]) -> str | None:
    """The de-duplication key of ``body`` in ``collection``, or None when a part is missing."""
    if collection == "entries":
        date, kind = _number(body.get("date")), _text(body.get("type"))
        return None if date is None or kind is None else f"{date}|{kind}"
    if collection == "settings":
        return None
    created = normal_iso(body.get("created_at")) if "created_at" in body else None
    if created is None:
        return None
    if collection == "treatments":
        event = _text(body.get("eventType"))
        return None if event is None else f"{created}|{event}"
    if collection == "devicestatus":
        device = _text(body.get("device"))
        return None if device is None else f"{created}|{device}"
    return created


#: Column order of the tuples ``row_values`` returns (``bulk.write_rows`` inserts them).
ROW_COLUMNS = (
    "collection",
    "identifier",
    "date",
    "natural_key",
    "device",
    "type",
    "event_type",
    "created_at",
    "srv_created",
    "srv_modified",
    "is_valid",
    "assigned_identifier",
    "digest",
    "doc",
)
IDENTIFIER, DIGEST = 1, 12

Row = tuple[Any, ...]


def row_values(
    collection: str,
    identifier: str,
    body: dict[str, Any],
    *,
    srv_created: int,
    srv_modified: int,
    assigned: bool,
) -> Row:
    """Column values of one document row, in ``ROW_COLUMNS`` order.

    Runs once per written document: entries (the bulk of every sync) take a short path.
    """
    raw = _dumps(body, option=_SORTED)
    get = body.get
    date = _number(get("date"))
    kind = get("type")
    if type(kind) is not str:
        kind = _text(kind)
    if collection == "entries":
        key = None if date is None or kind is None else f"{date}|{kind}"
    else:
        key = natural_key(collection, body)
    return (
        collection,
        identifier,
        date,
        key,
        _text(get("device")),
        kind,
        _text(get("eventType")),
        _text(get("created_at")),
        srv_created,
        srv_modified,
        True,
        assigned,
        _blake2b(raw, digest_size=16).hexdigest(),
        raw.decode(),
    )


def decode(
    doc: str | dict[str, Any],
    identifier: str,
    srv_created: int,
    srv_modified: int,
    is_valid: bool,
) -> dict[str, Any]:
    """The document as the API shows it: body plus identifier and server fields.

    ``isValid`` appears only as ``false`` on soft-deleted documents.
    """
    result: dict[str, Any] = orjson.loads(doc) if isinstance(doc, str) else dict(doc)
    result["identifier"] = identifier
    result["srvCreated"] = srv_created
    result["srvModified"] = srv_modified
    if not is_valid:
        result["isValid"] = False
    return result
