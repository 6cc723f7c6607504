"""v1 documents on the way in (normalised as cgm-remote-monitor stores them) and out.

In:
- entries: the time comes from ``dateString`` (zone kept for ``utcOffset``), else ``date`` (ms),
  else now; ``sysTime`` is its UTC ISO with ms, a given ``dateString`` is rewritten to it, a
  missing ``date`` is set (epoch ms). No other coercion (``sgv:"199"`` stays a string).
- every document: a non-ObjectId string ``_id`` (a client UUID) moves to ``identifier`` (as
  15.0.7 with UUID_HANDLING); the store assigns the v3 identifier to documents without one
  (``"identifier": null`` counts as without one).
- a time outside years 1..9999 (``"date": 1e30``) is 400 naming the field: it could not be
  stored as a 64-bit integer nor written as ISO-8601.

``_id`` choice (documented contract): a client-sent 24-hex ``_id`` is kept in the document;
otherwise responses carry an ``_id`` derived from the identifier — its first 24 hex digits (dashes
removed), or those of its SHA-1 when it is not hex. Deterministic: re-posting the same reading
gives the same ``_id``, and ``/entries/<_id>`` finds the document by that prefix.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from nightbridge.errors import SkippableError
from nightbridge.model.time import iso_utc, parse_any, parse_iso, to_ms
from nightbridge.server.api_v1.find import is_object_id
from nightbridge.server.errors import ApiError

Doc = dict[str, Any]
_HEX = re.compile(r"^[0-9a-f]+$")


_DERIVED: dict[str, str] = {}
_DERIVED_MAX = 65_536


def derived_object_id(identifier: str) -> str:
    """An ObjectId-shaped ``_id`` for ``identifier`` (see module docstring); memoised."""
    hit = _DERIVED.get(identifier)
    if hit is not None:
        return hit
    if len(_DERIVED) >= _DERIVED_MAX:
        _DERIVED.clear()
    _DERIVED[identifier] = oid = _derive(identifier)
    return oid


def _derive(identifier: str) -> str:
    compact = identifier.replace("-", "").lower()
    if len(compact) >= 24 and _HEX.match(compact):
        return compact[:24]
    return hashlib.sha1(identifier.encode()).hexdigest()[:24]


def documents_of(body: Any, *, single_needs: str | None = None) -> list[Doc]:
    """The body as a list of objects: one object or an array of objects, else 400.

    ``single_needs``: a single object lacking this key is ignored (entries need ``date``).
    """
    if isinstance(body, dict):
        if single_needs is not None and single_needs not in body:
            return []
        return [dict(body)]
    if isinstance(body, list):
        if not all(isinstance(d, dict) for d in body):
            raise ApiError(400, "Bad Request", "every item of the array must be a JSON object")
        return [dict(d) for d in body]
    raise ApiError(400, "Bad Request", "the body must be a JSON object or an array of objects")


def time_with_offset(value: Any, field: str) -> tuple[int, int]:
    """(epoch ms, utcOffset minutes) of an ISO text (its zone) or a number (offset 0); 400."""
    try:
        if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "").isdigit():
            dt = parse_iso(value.strip().replace(" +", "+"))
            offset = dt.utcoffset()
            minutes = int(offset.total_seconds() // 60) if offset is not None else 0
            return to_ms(dt), minutes
        return parse_any(value, field), 0
    except (SkippableError, ValueError):
        raise ApiError(400, "Bad Request", f"{field}: {value!r} is not a valid time") from None


def drop_null_identifier(doc: Doc) -> Doc:
    """``doc`` without an ``"identifier": null`` (the server then assigns one)."""
    if "identifier" in doc and doc["identifier"] is None:
        del doc["identifier"]
    return doc


def assign_ids(doc: Doc) -> Doc:
    """Check ``_id``/``identifier``: a non-ObjectId string ``_id`` moves to ``identifier``.

    The store chooses the identifier of documents that come without one (the v3 UUID v5 for
    entries and treatments, which is why those always carry ``date``); 400 for a bad ``_id``.
    """
    drop_null_identifier(doc)
    raw_id = doc.get("_id")
    if raw_id is not None:
        if not isinstance(raw_id, str) or not raw_id:
            raise ApiError(400, "Invalid _id format", f"_id {raw_id!r} is not a string")
        if is_object_id(raw_id):
            doc["_id"] = raw_id.lower()
        else:
            doc.setdefault("identifier", raw_id)
            del doc["_id"]
    identifier = doc.get("identifier")
    if identifier is not None and (not isinstance(identifier, str) or not identifier):
        raise ApiError(400, "Bad Request", "identifier must be a non-empty string")
    return doc


def prepare_entry(doc: Doc, now_ms: int) -> Doc:
    """Normalise one posted entry (see module docstring)."""
    date = doc.get("date")
    numeric = isinstance(date, int | float) and not isinstance(date, bool)
    digits = isinstance(date, str) and date.strip().isdigit()
    if doc.get("dateString") is not None:
        ms, offset = time_with_offset(doc["dateString"], "dateString")
        if numeric or digits:
            time_with_offset(date, "date")  # 400 when out of range
    elif date is not None:
        ms, offset = time_with_offset(date, "date")
    else:
        ms, offset = now_ms, 0
    iso = iso_utc(ms)
    if isinstance(date, str) and digits:
        doc["date"] = int(date)
    elif not numeric:
        doc["date"] = ms
    doc["utcOffset"] = offset
    doc["sysTime"] = iso
    if "dateString" in doc:
        doc["dateString"] = iso
    kind = doc.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ApiError(400, "Bad Request", "type must be a string")
    return assign_ids(doc)


def prepare_created_at(doc: Doc, now_ms: int) -> int:
    """Rewrite ``created_at`` as UTC ISO (invalid or missing → now), set utcOffset; epoch ms.

    A number that is no time (out of range, NaN) is 400 rather than now: it is a client bug.
    """
    raw = doc.get("created_at")
    try:
        ms, offset = time_with_offset(raw, "created_at") if raw not in (None, "") else (now_ms, 0)
    except ApiError:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raise
        ms, offset = now_ms, 0
    doc["created_at"] = iso_utc(ms)
    doc["utcOffset"] = offset
    return ms


def with_object_id(doc: Doc) -> Doc:
    """``doc`` with an ``_id`` for v1 responses (derived when the store has none)."""
    if "_id" not in doc and isinstance(doc.get("identifier"), str):
        doc["_id"] = derived_object_id(doc["identifier"])
    return doc
