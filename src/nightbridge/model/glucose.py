"""Glucose units and trend arrows: the closed vocabularies of a CGM reading.

Inside nightbridge glucose is always mg/dL (what Nightscout stores); mmol/L is converted at the
edges with the factor Nightscout uses for display (18.01559).
"""

from __future__ import annotations

from enum import StrEnum

MGDL_PER_MMOL = 18.01559


class Units(StrEnum):
    MGDL = "mg/dl"
    MMOL = "mmol"


def mmol_to_mgdl(mmol: float) -> int:
    """mmol/L → mg/dL, rounded to the integer Nightscout stores."""
    return round(mmol * MGDL_PER_MMOL)


def mgdl_to_mmol(mgdl: float) -> float:
    """mg/dL → mmol/L, one decimal as displayed."""
    return round(mgdl / MGDL_PER_MMOL, 1)


class Direction(StrEnum):
    """Every trend string Nightscout knows."""

    NONE = "NONE"
    DOUBLE_UP = "DoubleUp"
    SINGLE_UP = "SingleUp"
    FORTY_FIVE_UP = "FortyFiveUp"
    FLAT = "Flat"
    FORTY_FIVE_DOWN = "FortyFiveDown"
    SINGLE_DOWN = "SingleDown"
    DOUBLE_DOWN = "DoubleDown"
    NOT_COMPUTABLE = "NOT COMPUTABLE"
    RATE_OUT_OF_RANGE = "RATE OUT OF RANGE"


#: Vendor arrows Nightscout has no symbol for, mapped to the nearest one it has.
VENDOR_DIRECTIONS: dict[str, Direction] = {
    "TripleUp": Direction.DOUBLE_UP,
    "TripleDown": Direction.DOUBLE_DOWN,
    "None": Direction.NONE,
    "NotComputable": Direction.NOT_COMPUTABLE,
    "RateOutOfRange": Direction.RATE_OUT_OF_RANGE,
}

ARROWS: dict[Direction, str] = {
    Direction.DOUBLE_UP: "⇈",
    Direction.SINGLE_UP: "↑",
    Direction.FORTY_FIVE_UP: "↗",
    Direction.FLAT: "→",
    Direction.FORTY_FIVE_DOWN: "↘",
    Direction.SINGLE_DOWN: "↓",
    Direction.DOUBLE_DOWN: "⇊",
    Direction.NONE: "⇼",
    Direction.NOT_COMPUTABLE: "-",
    Direction.RATE_OUT_OF_RANGE: "⇕",
}


def parse_direction(text: str) -> tuple[Direction, str | None]:
    """Return (direction, original vendor text if it was mapped). ValueError if unknown."""
    try:
        return Direction(text), None
    except ValueError:
        pass
    mapped = VENDOR_DIRECTIONS.get(text)
    if mapped is None:
        raise ValueError(f"unknown direction {text!r}")
    return mapped, text
