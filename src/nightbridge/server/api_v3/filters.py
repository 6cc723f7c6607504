"""SEARCH query-string parsing (cgm-remote-monitor lib/api3/generic/search/input.js).

Every parameter that is not reserved is a filter ``field[$op]=value`` (op defaults to ``eq``).
Values are typed as Nightscout does: ``'quoted'`` stays a string, numeric text becomes a number,
``true``/``false`` booleans; ``date``/``srvModified``/``srvCreated`` accept any time and become
epoch ms; ``created_at`` becomes the UTC ISO text; ``in``/``nin`` split on ``|`` and compare as
strings; ``re`` is a regular expression. A time outside years 1..9999 or an integer past 64
bits (what the databases store) is 400, as is a regular expression Python cannot compile and
a NUL character in a filter's name or value (PostgreSQL text cannot hold one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nightbridge.errors import SkippableError
from nightbridge.model.time import check_range, iso_utc
from nightbridge.server.api_v3.documents import parse_fields, parse_moment
from nightbridge.server.api_v3.responses import (
    MSG_BAD_LIMIT,
    MSG_BAD_OPERATOR,
    MSG_BAD_SKIP,
    MSG_SORT_CONFLICT,
    V3Error,
)

#: Query parameters that are never filters.
RESERVED = frozenset({"token", "sort", "sort$desc", "limit", "skip", "fields", "now"})
OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "re"})
#: API3_MAX_LIMIT: the default and the largest ``limit``.
MAX_LIMIT = 1000
_DATE_FIELDS = frozenset({"date", "srvModified", "srvCreated"})
_OPERATOR = re.compile(r"^(.+)\$([a-zA-Z]+)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One parsed filter; ``value`` is typed, a tuple of strings for ``in``/``nin``."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """A parsed SEARCH request. ``sort`` always ends with identifier, created_at, date."""

    filters: tuple[FilterSpec, ...]
    sort: tuple[tuple[str, bool], ...]
    limit: int
    skip: int
    fields: tuple[str, ...] | None


def parse_value(field: str, raw: str) -> Any:
    """Type one filter value as cgm-remote-monitor does; 400 when out of range."""
    if field in _DATE_FIELDS or field == "created_at":
        moment = parse_moment(raw)
        if moment is not None:
            try:
                ms = check_range(moment[0], field)
            except SkippableError as exc:
                raise V3Error(400, f"Bad filter value: {exc}") from None
            return ms if field in _DATE_FIELDS else iso_utc(ms)
    if len(raw) >= 2 and raw.startswith("'") and raw.endswith("'"):
        return raw[1:-1]
    if _NUMBER.match(raw):
        number = float(raw)
        if not number.is_integer() or "." in raw or "e" in raw.lower():
            return number
        integer = int(raw)
        if not INT64_MIN <= integer <= INT64_MAX:
            raise V3Error(400, f"Bad filter value: {field} is beyond the 64-bit integer range")
        return integer
    if raw == "true":
        return True
    if raw == "false":
        return False
    return raw


def parse_filters(params: list[tuple[str, str]]) -> tuple[FilterSpec, ...]:
    """Filters from the query pairs; 400 "Unsupported filter operator X" on an unknown op."""
    out: list[FilterSpec] = []
    for name, raw in params:
        if name in RESERVED:
            continue
        if "\x00" in name or "\x00" in raw:
            raise V3Error(400, "Bad filter: NUL character")
        field, op = name, "eq"
        match = _OPERATOR.match(name)
        if match:
            field, op = match.group(1), match.group(2)
            if op not in OPERATORS:
                raise V3Error(400, MSG_BAD_OPERATOR.format(op))
        if op in ("in", "nin"):
            out.append(FilterSpec(field, op, tuple(raw.split("|"))))
        elif op == "re":
            _check_regex(raw)
            out.append(FilterSpec(field, op, raw))
        else:
            out.append(FilterSpec(field, op, parse_value(field, raw)))
    return tuple(out)


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error:
        raise V3Error(400, f"Bad regular expression in filter: {pattern}") from None


def parse_limit(raw: str | None) -> int:
    """``limit``: default MAX_LIMIT; 400 unless an integer in 1..MAX_LIMIT."""
    if raw is None or raw == "":
        return MAX_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise V3Error(400, MSG_BAD_LIMIT) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise V3Error(400, MSG_BAD_LIMIT)
    return limit


def parse_skip(raw: str | None) -> int:
    """``skip``: default 0; 400 unless a non-negative integer."""
    if raw is None or raw == "":
        return 0
    try:
        skip = int(raw)
    except ValueError:
        raise V3Error(400, MSG_BAD_SKIP) from None
    if skip < 0:
        raise V3Error(400, MSG_BAD_SKIP)
    return skip


def parse_sort(asc: str | None, desc: str | None) -> tuple[tuple[str, bool], ...]:
    """``sort``/``sort$desc`` then identifier, created_at, date in the same direction."""
    if asc and desc:
        raise V3Error(400, MSG_SORT_CONFLICT)
    field, descending = (desc, True) if desc else (asc, False)
    keys = [field] if field else []
    keys += [k for k in ("identifier", "created_at", "date") if k not in keys]
    return tuple((k, descending) for k in keys)


def parse_search(params: list[tuple[str, str]]) -> SearchSpec:
    """The whole SEARCH request from its query pairs (the last of a repeated name wins)."""
    last = dict(params)
    return SearchSpec(
        filters=parse_filters(params),
        sort=parse_sort(last.get("sort"), last.get("sort$desc")),
        limit=parse_limit(last.get("limit")),
        skip=parse_skip(last.get("skip")),
        fields=parse_fields(last.get("fields")),
    )
