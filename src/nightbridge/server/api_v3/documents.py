"""API v3 document rules: date parsing, required fields, immutable fields, output form.

Facts from cgm-remote-monitor 15.0.7 (shared/reference/nightscout-api.md §4.3):

- ``parse_date`` reads ``date`` then ``created_at`` (epoch ms, numeric strings, Unix seconds below
  946684800000, ISO-8601 with its zone, RFC 2822), writes ``date`` (epoch ms), defaults
  ``utcOffset`` (minutes) from the parsed zone only when absent, and overwrites ``created_at``
  with the UTC ISO text. Numbers carry no zone: their offset is 0 (this server runs in UTC).
- ``validate_common`` requires ``date`` > 946684800000, ``utcOffset`` in -1440..1440, ``app``.
  We also refuse (400 ``Bad or missing date field``) a time past 9999-12-31 (``date: 1e30``):
  it fits no 64-bit integer and no ISO-8601 text.
- Stored documents keep these fields: ``IMMUTABLE``.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from nightbridge.model.time import MAX_ISO_MS, MIN_ISO_MS, MIN_VALID_MS, iso_utc, parse_iso, to_ms
from nightbridge.server.api_v3.responses import (
    MSG_BAD_APP,
    MSG_BAD_DATE,
    MSG_BAD_IDENTIFIER,
    MSG_BAD_UTC,
    MSG_IMMUTABLE,
    MSG_READONLY,
    V3Error,
)

Doc = dict[str, Any]

#: Fields a client may not change once a document is stored (update/validate.js).
IMMUTABLE = (
    "identifier",
    "date",
    "utcOffset",
    "eventType",
    "device",
    "app",
    "srvCreated",
    "subject",
    "srvModified",
    "modifiedBy",
    "isValid",
)
#: Fields only the server writes; a client's values are replaced on create.
SERVER_FIELDS = ("srvCreated", "srvModified", "subject", "modifiedBy", "isValid")


#: Longest identifier accepted (UUIDs are 36; Mongo ids 24).
MAX_IDENTIFIER = 256


def check_identifier(value: object) -> str:
    """``value`` if it is a usable identifier (a non-blank string of at most 256 characters
    without control characters), else 400 ``Bad or missing identifier field``."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_IDENTIFIER
        or any(ord(c) < 32 for c in value)
    ):
        raise V3Error(400, MSG_BAD_IDENTIFIER)
    return value


def parse_moment(value: object) -> tuple[int, int] | None:
    """``(epoch ms, utcOffset minutes)`` of a date value, or None if it is not a time.

    Numbers and numeric strings are epoch ms, or Unix seconds when below 2000-01-01 in ms.
    """
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        return _from_number(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return _from_number(float(text))
    except ValueError:
        pass
    parsed: datetime | None = None
    try:
        parsed = parse_iso(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        return None
    offset = parsed.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return to_ms(parsed), minutes


def _from_number(number: float) -> tuple[int, int] | None:
    if number != number or number in (float("inf"), float("-inf")):
        return None
    ms = int(number)
    if 0 < ms < MIN_VALID_MS:
        ms *= 1000
    return ms, 0


def parse_date(doc: Doc, *, created_at_fallback: bool = True) -> None:
    """Normalise ``date``/``utcOffset``/``created_at`` of ``doc`` in place (collection.parseDate).

    Leaves the document unchanged when neither field holds a time; ``validate_common`` then
    rejects it. A time outside years 1..9999 is 400 ``Bad or missing date field``.
    """
    candidates = [doc.get("date")]
    if created_at_fallback:
        candidates.append(doc.get("created_at"))
    for candidate in candidates:
        moment = parse_moment(candidate)
        if moment is None:
            continue
        ms, offset = moment
        if not MIN_ISO_MS <= ms <= MAX_ISO_MS:
            raise V3Error(400, MSG_BAD_DATE)
        doc["date"] = ms
        if "utcOffset" not in doc:
            doc["utcOffset"] = offset
        if created_at_fallback:
            doc["created_at"] = iso_utc(ms)
        return


def validate_common(doc: Doc) -> None:
    """Raise 400 unless ``date``, ``utcOffset`` and ``app`` are valid (validateCommon)."""
    _check_date(doc.get("date"))
    _check_utc_offset(doc.get("utcOffset"))
    _check_app(doc.get("app"))


def validate_patch(doc: Doc) -> None:
    """PATCH validates only the common fields it carries."""
    if "date" in doc:
        _check_date(doc["date"])
    if "utcOffset" in doc:
        _check_utc_offset(doc["utcOffset"])
    if "app" in doc:
        _check_app(doc["app"])


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_date(value: object) -> None:
    number = _number(value)
    if number is None or not MIN_VALID_MS < number <= MAX_ISO_MS:
        raise V3Error(400, MSG_BAD_DATE)


def _check_utc_offset(value: object) -> None:
    number = _number(value)
    if number is None or not -1440 <= number <= 1440:
        raise V3Error(400, MSG_BAD_UTC)


def _check_app(value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise V3Error(400, MSG_BAD_APP)


def is_read_only(stored: Doc) -> bool:
    """True when the stored document is marked read-only in any of the three spellings."""
    return any(stored.get(key) is True for key in ("isReadOnly", "readOnly", "readonly"))


def check_modifiable(new: Doc, stored: Doc, *, deduplication: bool = False) -> None:
    """422 for read-only documents; 400 when ``new`` changes an immutable field of ``stored``.

    A soft-deleted stored document may be overwritten freely; during de-duplication the
    identifier may change (a v1 document gets the v3 identifier). A field the stored document
    does not have may be set: cgm-remote-monitor compares against ``undefined`` and so refuses
    to de-duplicate a v1 treatment (which has no ``app``) with its v3 copy (reference §4.5
    caveat); we merge instead, since nothing stored is changed.
    """
    if is_read_only(stored):
        raise V3Error(422, MSG_READONLY)
    if stored.get("isValid") is False:
        return
    for field in IMMUTABLE:
        if field == "identifier" and deduplication:
            continue
        if field in new and field in stored and not _same(new[field], stored[field]):
            raise V3Error(400, MSG_IMMUTABLE.format(field))


def _same(a: object, b: object) -> bool:
    # JavaScript ``!==``: 5 and 5.0 are equal, true and 1 are not.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def normalise(doc: Doc, collection: str) -> Doc:
    """A stored document as v3 returns it: no ``_id``; ``srvCreated``/``srvModified`` filled.

    Missing server times are derived (in the answer only) from ``date`` for entries and from
    ``created_at`` elsewhere (collection.resolveDates).
    """
    out = {k: v for k, v in doc.items() if k != "_id"}
    if "identifier" not in out and "_id" in doc:
        out["identifier"] = str(doc["_id"])
    if "srvModified" not in out or "srvCreated" not in out:
        fallback = doc.get("date") if collection == "entries" else doc.get("created_at")
        moment = parse_moment(fallback)
        if moment is not None:
            out.setdefault("srvModified", moment[0])
            out.setdefault("srvCreated", moment[0])
    return out


def project(doc: Doc, fields: tuple[str, ...] | None) -> Doc:
    """Only ``fields`` of ``doc`` (``None`` = every field)."""
    if fields is None:
        return doc
    return {k: doc[k] for k in fields if k in doc}


def parse_fields(raw: str | None) -> tuple[str, ...] | None:
    """The ``fields`` parameter: ``None`` (all) for absent, empty or ``_all``."""
    if raw is None or not raw.strip() or raw.strip() == "_all":
        return None
    return tuple(f.strip() for f in raw.split(",") if f.strip())
