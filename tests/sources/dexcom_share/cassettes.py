"""The recorded pydexcom cassettes (shared/fixtures/dexcom-share), read as (request, response)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

CASSETTES = Path(__file__).resolve().parents[4] / "shared/fixtures/dexcom-share/pydexcom-cassettes"


@dataclass(frozen=True)
class Interaction:
    cassette: str
    uri: str
    request_body: str | None
    status: int
    body: str


@cache
def interactions() -> tuple[Interaction, ...]:
    """Every recorded interaction of every cassette, in file order."""
    found: list[Interaction] = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        data: dict[str, Any] = yaml.safe_load(path.read_text())
        for item in data["interactions"]:
            req, resp = item["request"], item["response"]
            found.append(
                Interaction(
                    path.name,
                    req["uri"],
                    req.get("body"),
                    int(resp["status"]["code"]),
                    resp["body"]["string"],
                )
            )
    return tuple(found)


def by_path(suffix: str) -> list[Interaction]:
    return [i for i in interactions() if i.uri.split("?")[0].endswith(suffix)]
