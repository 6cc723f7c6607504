"""Shared test values: settings for the fake, a hand-driven clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightbridge.sources.dexcom_share import DexcomSettings
from tests.fakes.dexcom_share import PASSWORD, USERNAME

#: 2025-04-19T16:45:00Z, a multiple of five minutes (the fake aligns readings to it).
NOW_MS = 1_745_081_100_000
BASE = "http://share.fake"


@dataclass
class Clocks:
    """Wall time (epoch ms) for the fake and the source, monotonic seconds for sessions."""

    wall_ms: int = NOW_MS
    mono_s: float = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall_ms += int(seconds * 1000)
        self.mono_s += seconds


def settings(**overrides: Any) -> DexcomSettings:
    """Settings pointing at the fake with the cassettes' credentials, plus ``overrides``."""
    values: dict[str, Any] = {"username": USERNAME, "password": PASSWORD, "server": BASE}
    values.update(overrides)
    return DexcomSettings.model_validate(values)
