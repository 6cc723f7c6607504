"""ISO formatting of epoch ms: the cached fast path agrees with strftime everywhere."""

from __future__ import annotations

import random
import time

import pytest

from nightbridge.model.time import iso_utc, now_ms


def strftime_iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_613_057_404_186, "2021-02-11T15:30:04.186Z"),
        (1_711_843_199_999, "2024-03-30T23:59:59.999Z"),
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
    ],
)
def test_known_instants(ms: int, text: str) -> None:
    assert iso_utc(ms) == text


def test_agrees_with_strftime_on_random_instants() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        ms = rng.randrange(-(10**12), 4 * 10**12)
        assert iso_utc(ms) == strftime_iso(ms)


def test_now_ms_is_the_wall_clock_in_ms() -> None:
    before = int(time.time() * 1000)
    assert before - 5 <= now_ms() <= int(time.time() * 1000) + 5
