"""Time at the Nightscout boundary: UTC epoch milliseconds and ISO-8601 strings.

Inside nightbridge every instant is an ``int`` of epoch milliseconds (UTC) or a tz-aware
``datetime``. Nightscout wants ``date``/``mills`` in ms and ``dateString``/``created_at`` as
ISO-8601; we always emit UTC with milliseconds and a ``Z`` (what cgm-remote-monitor stores).
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta

from nightbridge.errors import SkippableError

#: 2000-01-01T00:00:00Z. Nightscout v3 rejects anything earlier; so do we.
MIN_VALID_MS = 946_684_800_000
#: A reading more than this far in the future is impossible (clock skew tolerance).
MAX_FUTURE = timedelta(days=1)
_MAX_FUTURE_MS = int(MAX_FUTURE.total_seconds() * 1000)
#: Below this a number is taken as epoch *seconds* (Nightscout v3 does the same).
_SECONDS_LIMIT = MIN_VALID_MS
#: 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the instants ISO-8601 text (and
#: ``datetime``) can hold. Times outside raise ``SkippableError`` (a 400 at the API).
MIN_ISO_MS = -62_135_596_800_000
MAX_ISO_MS = 253_402_300_799_999


def check_range(ms: int | float, field: str = "date") -> int:
    """``ms`` as an int if it lies in MIN_ISO_MS..MAX_ISO_MS, else ``SkippableError``.

    Also refuses NaN and infinities, so every time that passes fits a 64-bit integer.
    """
    if not MIN_ISO_MS <= ms <= MAX_ISO_MS:  # False for NaN too
        raise SkippableError(f"{field}: time out of range ({ms!r})", field=field)
    return int(ms)


def now_ms() -> int:
    """Current time as UTC epoch milliseconds."""
    return _time.time_ns() // 1_000_000


def from_ms(ms: int) -> datetime:
    """UTC datetime of epoch milliseconds; ``SkippableError`` outside years 1..9999."""
    check_range(ms)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of a tz-aware datetime (naive datetimes are refused)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: nightbridge only handles tz-aware times")
    return round(dt.timestamp() * 1000)


_DAY_MS = 86_400_000
_MINUTE_MS = 60_000
#: ``"HH:MM:"`` of every minute of a day, by minute of the day.
_HOURS_MINUTES = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
_SECONDS = tuple(f"{s:02d}." for s in range(60))
_MILLIS = tuple(f"{m:03d}Z" for m in range(1000))
#: ``"YYYY-MM-DDT"`` by day since the epoch; bounded (cleared when full).
_DAY_PREFIXES: dict[int, str] = {}
_DAY_PREFIXES_MAX = 4096


def iso_utc(ms: int, field: str = "date") -> str:
    """``2024-03-31T01:00:00.000Z`` for epoch ms (UTC, millisecond precision).

    Runs once per document on the hot path: the date part is cached per day and the time of
    day is looked up in small tables, about six times faster than ``strftime`` per call.
    ``SkippableError`` (naming ``field``) outside years 1..9999 (MIN_ISO_MS..MAX_ISO_MS).
    """
    if not MIN_ISO_MS <= ms <= MAX_ISO_MS:
        raise SkippableError(f"{field}: time out of range ({ms!r})", field=field)
    day, in_day = divmod(int(ms), _DAY_MS)
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        prefix = _day_prefix(day)
    minute, in_minute = divmod(in_day, _MINUTE_MS)
    second, millis = divmod(in_minute, 1000)
    return f"{prefix}{_HOURS_MINUTES[minute]}{_SECONDS[second]}{_MILLIS[millis]}"


def _day_prefix(day: int) -> str:
    date = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)
    prefix = f"{date.year:04d}-{date.month:02d}-{date.day:02d}T"
    if len(_DAY_PREFIXES) >= _DAY_PREFIXES_MAX:
        _DAY_PREFIXES.clear()
    _DAY_PREFIXES[day] = prefix
    return prefix


def parse_iso(text: str) -> datetime:
    """Parse ISO-8601 (``Z``, offsets, optional fraction, comma fraction); naive means UTC."""
    cleaned = text.strip().replace(",", ".")
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    dt = datetime.fromisoformat(cleaned)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def parse_any(value: object, field: str = "date") -> int:
    """Epoch ms from ms/seconds numbers, numeric strings or ISO strings.

    Raises ``SkippableError`` naming ``field`` if the value is not a time, or a time outside
    years 1..9999 (NaN, infinities and numbers past 64 bits included).
    """
    if type(value) is int and _SECONDS_LIMIT <= value <= MAX_ISO_MS:
        return value
    if isinstance(value, bool) or value is None:
        raise SkippableError(f"{field}: missing or not a time ({value!r})", field=field)
    if isinstance(value, int | float):
        ms = check_range(value, field)
    elif isinstance(value, datetime):
        ms = to_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            numeric = _looks_numeric(text)
            ms = check_range(float(text), field) if numeric else to_ms(parse_iso(text))
        except (ValueError, OverflowError) as exc:
            raise SkippableError(f"{field}: not a time ({value!r})", field=field) from exc
    else:
        raise SkippableError(f"{field}: not a time ({value!r})", field=field)
    if 0 < ms < _SECONDS_LIMIT:
        ms *= 1000
    return check_range(ms, field)


def check_plausible(ms: int, field: str = "date", now: int | None = None) -> int:
    """Return ``ms`` if it lies between 2000-01-01 and one day from now, else SkippableError."""
    limit = (now if now is not None else _time.time_ns() // 1_000_000) + _MAX_FUTURE_MS
    if ms < MIN_VALID_MS or ms > limit:
        raise SkippableError(f"{field}: impossible time {ms}", field=field)
    return ms


def _looks_numeric(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.replace(".", "", 1).isdigit()
