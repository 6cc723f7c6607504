"""Open bugs the server fuzzing found in code owned elsewhere, and the inputs that reach them.

Each rule names one bug (OPEN-n, with its reproduction in the fuzzing report) in server/api_v1,
server/api_v3, the store or model/time. Until a bug is fixed the fuzz strategies
(test_fuzz_api.py, test_fuzz_bodies.py) leave exactly these inputs out, so that every other
input is still checked. Delete a rule when its bug is fixed: the property then covers it too.
``test_rules_are_narrow`` keeps the rules from swallowing well-formed neighbours.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SEGMENTS = re.compile(r"\[([^\[\]]*)\]")
_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")
_REGEX_LITERAL = re.compile(r"^/(.*)/([a-z]*)$", re.DOTALL)
INT64 = 2**63
NOW_MS = 1_717_243_200_000


def _bad_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return True
    return False


def _beyond_int64(value: str) -> bool:
    match = _LEADING_INT.match(value)
    return match is not None and not -INT64 <= int(match.group(1)) < INT64


def known_open_query(path: str, key: str, value: str) -> bool:
    """True for a query pair that reaches an open bug."""
    if path.startswith("/api/v3"):
        # OPEN-4: v3 SEARCH created_at[$op]=<integer past 64 bits> -> OverflowError, 500
        return key.startswith("created_at") and _beyond_int64(value)
    if not key.startswith("find"):
        return False
    fields = []
    for segment in _SEGMENTS.findall(key[4:]):
        if segment.startswith("$"):
            break
        fields.append(segment)
    dotted = ".".join(fields)
    # OPEN-2: v1 find with an empty or dotted field name (find[][$lt]=1, find[a..b]=1) ->
    # ValueError from store.queries.Filter, 500
    if fields and (not dotted or dotted.startswith(".") or ".." in dotted):
        return True
    # OPEN-1: v1 find values past 64 bits (find[date][$gte]=99999999999999999999) ->
    # OverflowError binding the parameter in the store, 500
    if _beyond_int64(value):
        return True
    # OPEN-3: v1 find[...][$regex]=( or a regex literal /(/ that is no valid pattern ->
    # the database's REGEXP fails while scanning rows, 500
    literal = _REGEX_LITERAL.match(value)
    return ("$regex" in key and _bad_regex(value)) or (
        literal is not None and _bad_regex(literal.group(1))
    )


def _huge_number(item: Any) -> bool:
    # OPEN-5: a number of magnitude >= 2**63 ("date": 1e30 on v1 and v3, "created_at": 1e30,
    # "insulin": 1e30 on v1 treatments) -> OverflowError in model.time.iso_utc or "Integer
    # exceeds 64-bit range" in store.codec, 500
    number = isinstance(item, int | float) and not isinstance(item, bool)
    return number and item == item and abs(item) >= INT64


def known_open_body(path: str, body: Any) -> bool:
    """True for a parsed JSON body that reaches an open bug."""
    v1 = path.startswith(("/api/v1", "/api/v2"))
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            # OPEN-6: v1 POST/PUT treatments, profile, food with "identifier": null (or any
            # non-string) -> ValueError from Store.upsert, 500
            ident = item.get("identifier", "-")
            if v1 and not (isinstance(ident, str) and ident):
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif _huge_number(item):
            return True
    return False


def without_known_open(path: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` less those that reach an open bug."""
    return [(k, v) for k, v in pairs if not known_open_query(path, k, v)]


def body_is_known_open(path: str, body: bytes | None) -> bool:
    """True when ``body`` parses as JSON that reaches an open bug."""
    if not body:
        return False
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return known_open_body(path, parsed)


def test_rules_are_narrow() -> None:
    assert known_open_query("/api/v1/entries", "find[date][$gte]", "9" * 40)
    assert not known_open_query("/api/v1/entries", "find[date][$gte]", "1717243200000")
    assert known_open_query("/api/v1/entries", "find[][$lt]", "1")
    assert not known_open_query("/api/v1/entries", "find[a][b]", "1")
    assert known_open_query("/api/v1/treatments", "find[notes]", "/(/i")
    assert not known_open_query("/api/v1/treatments", "find[notes]", "/a.c/i")
    assert known_open_query("/api/v1/entries", "find[type][$regex]", "[z-a]")
    assert not known_open_query("/api/v3/entries", "date$gte", "9" * 40)
    assert not known_open_query("/api/v1/entries", "count", "9" * 40)
    assert known_open_body("/api/v3/entries", {"date": 1e30, "app": "x"})
    assert not known_open_body("/api/v3/entries", {"date": NOW_MS, "app": "x"})
    assert known_open_body("/api/v1/food", [{"identifier": None}])
    assert not known_open_body("/api/v1/food", [{"name": "apple"}])
    assert body_is_known_open("/api/v1/treatments", b'{"insulin": 1e30}')
    assert not body_is_known_open("/api/v1/treatments", b'{"insulin": 1e3')
