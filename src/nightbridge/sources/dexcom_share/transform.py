"""Share glucose records → Nightscout sgv entries. Pure functions.

``date`` is WT's epoch ms (what every peer uses); ``utcOffset`` (minutes) comes from DT's
``±HHMM`` suffix when sent; ``trend`` is the Nightscout integer and ``direction`` its string.
Trends arrive as names (``Flat``, ``NotComputable``) since 2021 or as legacy integers 0-9.
"""

from __future__ import annotations

from nightbridge.errors import SkippableError
from nightbridge.model import Direction, Entry, EntryType
from nightbridge.sources.dexcom_share.wire import ShareGlucose

#: Dexcom's trend integers, which are also Nightscout's ``trend`` numbers (§1.6).
TREND_DIRECTIONS: tuple[Direction, ...] = (
    Direction.NONE,
    Direction.DOUBLE_UP,
    Direction.SINGLE_UP,
    Direction.FORTY_FIVE_UP,
    Direction.FLAT,
    Direction.FORTY_FIVE_DOWN,
    Direction.SINGLE_DOWN,
    Direction.DOUBLE_DOWN,
    Direction.NOT_COMPUTABLE,
    Direction.RATE_OUT_OF_RANGE,
)
#: Trend names folded (lower case, no blanks) → integer; covers ``NotComputable`` and
#: ``NOT COMPUTABLE`` alike, as nightscout-connect does.
_BY_NAME: dict[str, int] = {
    d.value.lower().replace(" ", ""): i for i, d in enumerate(TREND_DIRECTIONS)
}


def trend_of(raw: int | str | None) -> tuple[int | None, Direction]:
    """(Nightscout trend number or None, direction) for a Share trend; unknown → (None, NONE)."""
    if isinstance(raw, int):
        if 0 <= raw < len(TREND_DIRECTIONS):
            return raw, TREND_DIRECTIONS[raw]
        return None, Direction.NONE
    if isinstance(raw, str):
        text = raw.strip()
        folded = text.lower().replace(" ", "").replace("_", "")
        if folded in _BY_NAME:
            number = _BY_NAME[folded]
            return number, TREND_DIRECTIONS[number]
        if text.isdigit():
            return trend_of(int(text))
    return None, Direction.NONE


def to_entry(reading: ShareGlucose, device: str) -> Entry:
    """One sgv entry. Raises SkippableError (naming the field) for impossible values or times."""
    if reading.Value <= 0:
        raise SkippableError("Dexcom Share: Value must be positive", field="Value")
    trend, direction = trend_of(reading.Trend)
    fields: dict[str, object] = {
        "type": EntryType.SGV,
        "sgv": reading.Value,
        "date": reading.WT.ms,
        "direction": direction,
        "device": device,
    }
    if trend is not None:
        fields["trend"] = trend
    elif reading.Trend is not None:
        fields["trendOriginal"] = str(reading.Trend)
    offset = _offset(reading)
    if offset is not None:
        fields["utcOffset"] = offset
    return Entry.build(fields)


def _offset(reading: ShareGlucose) -> int | None:
    for stamp in (reading.DT, reading.WT, reading.ST):
        if stamp is not None and stamp.utc_offset_minutes is not None:
            return stamp.utc_offset_minutes
    return None
