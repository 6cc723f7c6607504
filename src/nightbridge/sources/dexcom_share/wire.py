"""Dexcom Share on the wire: the glucose record, parsed at the edge.

A record (protocols-cgm.md §1.5) looks like
``{"WT":"Date(1745081013817)","ST":"Date(1745081013817)","DT":"Date(1745081013817-0400)",
"Value":224,"Trend":"Flat"}``; before 2021 times were ``/Date(ms)/`` and Trend an integer 0-9.
The digits are UTC epoch ms in every form; DT's ``±HHMM`` is the uploader phone's offset and
only informational.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from nightbridge.errors import RemoteServerError, SkippableError

_DATE = re.compile(r"\((-?\d+)([+-]\d{4})?\)")


@dataclass(frozen=True, slots=True)
class ShareTime:
    """An instant as UTC epoch ms, with the ``±HHMM`` suffix as minutes east of UTC if sent."""

    ms: int
    utc_offset_minutes: int | None = None


def parse_share_time(value: Any) -> ShareTime:
    """``Date(ms)``, ``Date(ms±HHMM)``, ``/Date(ms)/`` or ``/Date(ms±HHMM)/`` → ShareTime."""
    if isinstance(value, ShareTime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a Share date: {value!r}")
    match = _DATE.search(value)
    if match is None:
        raise ValueError(f"not a Share date: {value!r}")
    offset = None
    if match.group(2):
        sign = -1 if match.group(2)[0] == "-" else 1
        hours, minutes = int(match.group(2)[1:3]), int(match.group(2)[3:5])
        if minutes >= 60 or hours > 14:
            raise ValueError(f"impossible UTC offset in {value!r}")
        offset = sign * (hours * 60 + minutes)
    return ShareTime(int(match.group(1)), offset)


def _trend(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("Trend is not a boolean")
    return value


ShareDate = Annotated[ShareTime, BeforeValidator(parse_share_time)]


class ShareGlucose(BaseModel):
    """One reading. ``Value`` in mg/dL; ``Trend`` as sent (name or legacy integer)."""

    model_config = ConfigDict(frozen=True, extra="ignore", arbitrary_types_allowed=True)

    WT: ShareDate
    ST: ShareDate | None = None
    DT: ShareDate | None = None
    Value: int
    Trend: Annotated[int | str | None, BeforeValidator(_trend)] = None


@dataclass(frozen=True, slots=True)
class ShareReadings:
    """A parsed answer: the valid records (newest first, as sent) and the rejected ones."""

    readings: list[ShareGlucose]
    rejected: list[SkippableError]


def parse_readings(body: Any) -> ShareReadings:
    """Parse ReadPublisherLatestGlucoseValues' JSON. A non-list is an outage (RemoteServerError);
    each malformed element becomes a SkippableError naming its field."""
    if not isinstance(body, list):
        raise RemoteServerError("Dexcom Share: glucose answer is not a JSON array")
    readings: list[ShareGlucose] = []
    rejected: list[SkippableError] = []
    for item in body:
        try:
            readings.append(ShareGlucose.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "record"
            rejected.append(SkippableError(f"Dexcom Share: invalid {field}", field=field))
    return ShareReadings(readings, rejected)


def parse_uuid_string(body: Any, what: str) -> str:
    """The quoted UUID the two login steps answer; anything else is an outage."""
    if not isinstance(body, str) or len(body) != 36 or body.count("-") != 4:
        raise RemoteServerError(f"Dexcom Share: {what} answer is not a UUID string")
    return body
