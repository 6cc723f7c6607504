"""Query languages of the fake Nightscout: v1 ``find[...]`` and v3 ``field$op=value`` filters.

v1 (cgm-remote-monitor lib/server/query.js): typed fields are ``parseInt``-ed, the date field
(``date`` for entries, ``created_at`` otherwise) gets non-numeric values turned into UTC ISO,
and without a date filter only the last 4 days are searched. Comparisons follow MongoDB type
bracketing: a number never compares with a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nightbridge.model.time import iso_utc

FOUR_DAYS_MS = 4 * 24 * 3600 * 1000
_FIND_KEY = re.compile(r"^find((?:\[[^\]]*\])+)$")
_INT_PREFIX = re.compile(r"^\s*[+-]?\d+")
_INT_FIELDS = {
    "entries": {"date", "sgv", "filtered", "unfiltered", "rssi", "noise", "mbg"},
    "treatments": {"insulin", "carbs", "glucose"},
}
_DEFAULT_INT_FIELDS = {"date", "sgv"}
DATE_FIELD = {"entries": "date"}


class QueryError(ValueError):
    """A value the real server would fail on (answered 500 or 400 by the fake)."""


@dataclass(frozen=True, slots=True)
class Cond:
    field: str
    op: str  # "$eq", "$gte", ...
    value: Any


def parse_time(text: str) -> tuple[int, int]:
    """(epoch ms, utcOffset minutes) of an ISO-8601 string; raises QueryError if not one."""
    cleaned = text.strip().replace(",", ".")
    if len(cleaned) > 10 and cleaned[10] == " ":
        cleaned = cleaned[:10] + "T" + cleaned[11:]
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(cleaned)
    except ValueError:
        raise QueryError(f"Cannot parse {text} as a valid ISO-8601 date") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    offset = dt.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return round(dt.timestamp() * 1000), minutes


def js_parse_int(text: str) -> int | None:
    """JavaScript ``parseInt``: the leading integer, None for NaN."""
    match = _INT_PREFIX.match(text)
    return int(match.group()) if match else None


def _numeric(text: str) -> bool:
    return re.fullmatch(r"\s*[+-]?\d+(\.\d+)?\s*", text) is not None


def v1_conditions(
    collection: str, items: Iterable[tuple[str, str]], now_ms: int, window: bool = True
) -> tuple[list[Cond], bool]:
    """Conditions of a v1 query string and whether it had any ``find``."""
    date_field = DATE_FIELD.get(collection, "created_at")
    int_fields = _INT_FIELDS.get(collection, _DEFAULT_INT_FIELDS)
    conds: list[Cond] = []
    lists: dict[tuple[str, str], list[Any]] = {}
    for key, raw in items:
        match = _FIND_KEY.match(key)
        if not match:
            continue
        parts = match.group(1)[1:-1].split("][")
        field, op = parts[0], (parts[1] if len(parts) > 1 else "$eq")
        value: Any = raw
        if field in int_fields:
            value = js_parse_int(raw)
        elif field == date_field and not _numeric(raw):
            value = iso_utc(parse_time(raw.replace(" ", "+"))[0])
        elif isinstance(value, str) and len(value) > 2 and value[0] == "/" and "/" in value[1:]:
            body, _, flags = value[1:].rpartition("/")
            value = re.compile(body, re.IGNORECASE if "i" in flags else 0)
        if op in ("$in", "$nin"):
            lists.setdefault((field, op), []).append(value)
            continue
        conds.append(Cond(field, op, value))
    conds.extend(Cond(f, op, vals) for (f, op), vals in lists.items())
    had_find = bool(conds)
    fields = {c.field for c in conds}
    if window and date_field not in fields and "dateString" not in fields and "_id" not in fields:
        floor = now_ms - FOUR_DAYS_MS
        conds.append(Cond(date_field, "$gte", floor if date_field == "date" else iso_utc(floor)))
    return conds, had_find


def _same_kind(a: Any, b: Any) -> bool:
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, num) and isinstance(b, num)) or (
        isinstance(a, str) and isinstance(b, str)
    )


def _eq(a: Any, b: Any) -> bool:
    if isinstance(b, re.Pattern):
        return isinstance(a, str) and b.search(a) is not None
    if a is None or b is None:
        return a is None and b is None  # {field: null} matches a missing field, as in MongoDB
    return _same_kind(a, b) and a == b


def matches(doc: dict[str, Any], conds: Iterable[Cond]) -> bool:
    """True when ``doc`` satisfies every condition (MongoDB semantics for the supported ops)."""
    for c in conds:
        have = doc.get(c.field)
        op = c.op
        if op == "$eq":
            ok = _eq(have, c.value)
        elif op == "$ne":
            ok = not _eq(have, c.value)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = have is not None and c.value is not None and _same_kind(have, c.value)
            if ok:
                ok = {
                    "$gt": have > c.value,
                    "$gte": have >= c.value,
                    "$lt": have < c.value,
                    "$lte": have <= c.value,
                }[op]
        elif op == "$in":
            ok = any(_eq(have, v) for v in c.value)
        elif op == "$nin":
            ok = not any(_eq(have, v) for v in c.value)
        elif op == "$exists":
            ok = (c.field in doc) == (str(c.value).lower() in ("true", "1"))
        elif op == "$regex":
            ok = isinstance(have, str) and re.search(str(c.value), have) is not None
        else:
            raise QueryError(f"unknown operator {op}")
        if not ok:
            return False
    return True


# --- API v3 -------------------------------------------------------------------------------

V3_RESERVED = {"token", "sort", "sort$desc", "limit", "skip", "fields", "now"}
V3_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "re"}
_V3_DATE_FIELDS = {"date", "srvModified", "srvCreated"}


def _v3_value(field: str, raw: str) -> Any:
    if field in _V3_DATE_FIELDS:
        if _numeric(raw):
            number = int(float(raw))
            return number * 1000 if number < 946_684_800_000 else number
        return parse_time(raw)[0]
    if field == "created_at":
        return iso_utc(int(raw)) if _numeric(raw) else iso_utc(parse_time(raw)[0])
    if raw in ("true", "false"):
        return raw == "true"
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if _numeric(raw):
        real = float(raw)
        return int(real) if real.is_integer() else real
    return raw


def v3_conditions(items: Iterable[tuple[str, str]]) -> list[Cond]:
    """Filters of a v3 SEARCH; raises QueryError("Unsupported filter operator X")."""
    conds: list[Cond] = []
    for key, raw in items:
        if key in V3_RESERVED:
            continue
        field, _, op = key.partition("$")
        op = op or "eq"
        if op not in V3_OPS:
            raise QueryError(f"Unsupported filter operator {op}")
        if op in ("in", "nin"):
            conds.append(Cond(field, "$" + op, raw.split("|")))
        elif op == "re":
            conds.append(Cond(field, "$regex", raw))
        else:
            conds.append(Cond(field, "$" + op, _v3_value(field, raw)))
    return conds
