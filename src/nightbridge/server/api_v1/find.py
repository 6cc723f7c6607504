"""The v1 ``find[...]`` query language turned into a store ``DocQuery`` (cgm-remote-monitor
lib/server/query.js, reproduced rule by rule; nightscout-api.md §2.3).

- Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $regex``; a plain value is ``$eq`` (a list is
  ``$in``); ``$exists`` true/false.
- Typed fields: values of the collection's numeric fields go through JavaScript ``parseInt``
  (so ``find[date][$gte]=2024-01-01`` is 2024 — use epoch ms, or ``find[dateString]``);
  treatments' ``notes``/``eventType``/``enteredBy`` values written ``/pattern/flags`` are regexes;
  every other value stays a string.
- The date field (``date`` for entries, ``created_at`` otherwise): non-numeric operator values
  are parsed as ISO-8601 (a space standing for ``+``) and compared as UTC ISO text.
- Without a date-field or ``dateString`` constraint (and not by ``_id``) the 4-day default window
  is added: ``date >= now - 4 d`` (epoch ms for entries, ISO text for the others).

Where Nightscout answers 500 (unparsable date, non-numeric count) we raise a 400 ``ApiError``;
so we do for what the store cannot take: integers past 64 bits, field names with empty parts
(``find[a..b]``) and regular expressions Python's ``re`` cannot compile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightbridge.errors import SkippableError
from nightbridge.model.time import iso_utc, parse_any
from nightbridge.server.errors import ApiError
from nightbridge.store.queries import DocQuery, Filter, Op

FOUR_DAYS_MS = 4 * 24 * 3600 * 1000
_OPS: dict[str, Op] = {
    "$eq": "eq",
    "$ne": "ne",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
    "$in": "in",
    "$nin": "nin",
    "$regex": "re",
}
_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")
_REGEX_LITERAL = re.compile(r"^/(.*)/([a-z]*)$", re.DOTALL)
_HEX24 = re.compile(r"^[0-9a-fA-F]{24}$")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class CollectionRules:
    """How one collection's v1 queries are typed and defaulted."""

    date_field: str
    epoch_dates: bool
    int_fields: frozenset[str]
    regex_fields: frozenset[str] = frozenset()
    default_count: int = 10
    find_count: int | None = None  # default count when ``find`` is given (treatments: 1000)
    sort: tuple[tuple[str, bool], ...] = ()


ENTRIES = CollectionRules(
    "date",
    True,
    frozenset({"date", "sgv", "filtered", "unfiltered", "rssi", "noise", "mbg"}),
    sort=(("date", True),),
)
TREATMENTS = CollectionRules(
    "created_at",
    False,
    frozenset({"insulin", "carbs", "glucose"}),
    frozenset({"notes", "eventType", "enteredBy"}),
    default_count=100,
    find_count=1000,
    sort=(("created_at", True),),
)
DEVICESTATUS = CollectionRules(
    "created_at", False, frozenset({"date", "sgv"}), sort=(("created_at", True),)
)
GENERIC = CollectionRules("created_at", False, frozenset({"date", "sgv"}))


def js_parse_int(value: str, field: str) -> int:
    """JavaScript ``parseInt``: the leading integer of the text; 400 when there is none or it
    does not fit a 64-bit signed integer (what the databases store)."""
    match = _LEADING_INT.match(value)
    if match is None:
        raise ApiError(400, "Bad Request", f"find[{field}]: {value!r} is not a number")
    number = int(match.group(1))
    if not INT64_MIN <= number <= INT64_MAX:
        raise ApiError(
            400, "Bad Request", f"find[{field}]: {value[:40]!r} is beyond the 64-bit integer range"
        )
    return number


def is_object_id(value: str) -> bool:
    return bool(_HEX24.match(value))


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def _regex(field: str, pattern: str, flags: str = "") -> str:
    """The pattern with its flags inlined; 400 when Python's ``re`` cannot compile it."""
    prefix = "".join(f for f in flags if f in "ims")
    full = f"(?{prefix}){pattern}" if prefix else pattern
    try:
        re.compile(full)
    except (re.error, RecursionError, OverflowError):
        raise ApiError(
            400, "Bad Request", f"find[{field}]: invalid regular expression {pattern[:80]!r}"
        ) from None
    return full


def _iso(value: str, field: str) -> str:
    try:
        return iso_utc(parse_any(value.replace(" ", "+"), field))
    except SkippableError:
        raise ApiError(
            400, "Bad Request", f"Cannot parse {value!r} as a valid ISO-8601 date"
        ) from None


def _typed(field: str, value: Any, rules: CollectionRules) -> Any:
    if isinstance(value, list):
        return [_typed(field, v, rules) for v in value]
    if not isinstance(value, str):
        raise ApiError(400, "Bad Request", f"find[{field}]: unsupported value")
    if field in rules.int_fields:
        return js_parse_int(value, field)
    if field == rules.date_field and not value.strip().lstrip("-").isdigit():
        return _iso(value, field)
    return value


def _leaf_filters(field: str, value: Any, rules: CollectionRules) -> list[Filter]:
    if field == "_id" and isinstance(value, str):
        if is_uuid(value):
            return [Filter("identifier", "eq", value)]
        return [Filter("_id", "eq", value)]
    if isinstance(value, dict):
        filters: list[Filter] = []
        for op, operand in value.items():
            if op == "$exists":
                present = str(operand).lower() not in ("false", "0", "")
                filters.append(Filter(field, "ne" if present else "eq", None))
            elif op == "$regex":
                flags = value.get("$options", "")
                filters.append(Filter(field, "re", _regex(field, str(operand), str(flags))))
            elif op == "$options":
                continue
            elif op in _OPS:
                typed = _typed(field, operand, rules)
                if _OPS[op] in ("in", "nin") and not isinstance(typed, list):
                    typed = [typed]
                if _OPS[op] not in ("in", "nin") and isinstance(typed, list):
                    raise ApiError(400, "Bad Request", f"find[{field}][{op}]: one value expected")
                filters.append(Filter(field, _OPS[op], typed))
            elif op.startswith("$"):
                raise ApiError(400, "Bad Request", f"find[{field}]: unsupported operator {op}")
            else:
                filters.extend(_leaf_filters(f"{field}.{op}", operand, rules))
        return filters
    if isinstance(value, str) and field in rules.regex_fields:
        match = _REGEX_LITERAL.match(value)
        if match:
            return [Filter(field, "re", _regex(field, match.group(1), match.group(2)))]
    typed = _typed(field, value, rules)
    return [Filter(field, "in" if isinstance(typed, list) else "eq", typed)]


def find_filters(find: Any, rules: CollectionRules) -> tuple[Filter, ...]:
    """Filters of a parsed ``find`` parameter (a dict from ``parse_query``)."""
    if find is None:
        return ()
    if not isinstance(find, dict):
        raise ApiError(400, "Bad Request", "find must be written find[field]=value")
    filters: list[Filter] = []
    for field, value in find.items():
        try:
            filters.extend(_leaf_filters(field, value, rules))
        except ValueError as exc:  # the store's Filter refuses it (bad field name, ...)
            raise ApiError(400, "Bad Request", f"find[{field}]: {exc}") from None
    return tuple(filters)


def parse_count(params: Mapping[str, Any], default: int) -> int:
    raw = params.get("count")
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or not raw.strip().isdigit():
        raise ApiError(400, "Bad Request", "count must be a non-negative integer")
    return int(raw)


def build_query(
    params: Mapping[str, Any],
    rules: CollectionRules,
    now_ms: int,
    *,
    extra: tuple[Filter, ...] = (),
    for_delete: bool = False,
) -> DocQuery | None:
    """The DocQuery of a v1 GET/DELETE; None when the answer is known to be empty (count=0)."""
    find = params.get("find")
    filters = find_filters(find, rules) + extra
    fields = {f.field for f in filters}
    if not ({rules.date_field, "dateString", "_id", "identifier"} & fields):
        since = now_ms - FOUR_DAYS_MS
        filters += (
            Filter(rules.date_field, "gte", since if rules.epoch_dates else iso_utc(since)),
        )
    if for_delete:
        return DocQuery(filters=filters)
    default = rules.find_count if (find and rules.find_count) else rules.default_count
    count = parse_count(params, default)
    if count == 0 and not find:
        return None
    return DocQuery(filters=filters, sort=rules.sort, limit=count or None)
