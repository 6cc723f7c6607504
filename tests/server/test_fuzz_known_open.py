"""Open bugs the server fuzzing found in code owned elsewhere, and the inputs that reach them.

Each rule names one bug (OPEN-n, with its reproduction in the fuzzing report) in server/api_v1,
server/api_v3, the store or model/time. Until a bug is fixed the fuzz strategies
(test_fuzz_api.py, test_fuzz_bodies.py) leave exactly these inputs out, so that every other
input is still checked. Delete a rule when its bug is fixed: the property then covers it too.

OPEN-1 … OPEN-6 (numbers past 64 bits in ``find``, bad field names, invalid regular
expressions, out-of-range times in v3 SEARCH and in bodies, ``"identifier": null``) are fixed,
and OPEN-7 (a NUL character in a written string) is refused with 400 on every database, with
regressions in test_bad_input_regressions.py; ``test_fixed_inputs_are_fuzzed`` and
``test_nul_bodies_are_fuzzed`` keep their inputs in the fuzzers' reach.
"""

from __future__ import annotations

import json
from typing import Any

NOW_MS = 1_717_243_200_000


def known_open_query(path: str, key: str, value: str) -> bool:
    """True for a query pair that reaches an open bug (none is open)."""
    del path, key, value
    return False


def known_open_body(path: str, body: Any) -> bool:
    """True for a parsed JSON body that reaches an open bug (none is open)."""
    del path, body
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


def test_fixed_inputs_are_fuzzed() -> None:
    """The inputs of the fixed bugs OPEN-1 … OPEN-6 are no longer left out."""
    fixed_queries = [
        ("/api/v1/entries", "find[date][$gte]", "9" * 40),  # OPEN-1
        ("/api/v1/devicestatus", "find[a..b]", "1"),  # OPEN-2
        ("/api/v1/entries", "find[][$lt]", "1"),  # OPEN-2
        ("/api/v1/treatments", "find[notes]", "/(/i"),  # OPEN-3
        ("/api/v1/entries", "find[type][$regex]", "[z-a]"),  # OPEN-3
        ("/api/v3/entries", "created_at$gte", "9" * 40),  # OPEN-4
    ]
    for path, key, value in fixed_queries:
        assert without_known_open(path, [(key, value)]) == [(key, value)]
    fixed_bodies = [
        ("/api/v3/entries", b'{"date": 1e30, "app": "x"}'),  # OPEN-5
        ("/api/v1/treatments", b'{"insulin": 1e30}'),  # OPEN-5
        ("/api/v1/food", b'[{"identifier": null}]'),  # OPEN-6
    ]
    for path, body in fixed_bodies:
        assert not body_is_known_open(path, body)


def test_nul_bodies_are_fuzzed() -> None:
    """OPEN-7 (NUL in a stored string: PostgreSQL cannot hold it) is fixed: refused with 400."""
    assert not body_is_known_open("/api/v1/entries", b'{"date": 1, "x": "a\\u0000"}')
    assert not body_is_known_open("/api/v1/profile", b'[{"store": {"k\\u0000": 1}}]')
