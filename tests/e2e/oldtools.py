"""What the peer tools uploaded before the switch, posted the way each of them posts it.

Shapes from shared/reference/protocols-cgm.md §1.7 (share2nightscout-bridge, nightscout-connect)
and §2.9 (nightscout-librelink-up, API v1 and v3). The documents go through the fake
Nightscout's HTTP API like the old tool's did, so the server computes ``sysTime`` (v1) or the
``identifier`` (v3) exactly as it did for the real uploads.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from nightbridge.model.time import iso_utc
from tests.e2e.conftest import (
    ACCESS_TOKEN,
    API_SECRET,
    Dexcom,
    Libre,
    Site,
    libre_answers,
    libre_ms,
    share_ms,
)

#: Share trend names → Nightscout direction names (the two that differ).
_DIRECTIONS = {"NotComputable": "NOT COMPUTABLE", "RateOutOfRange": "RATE OUT OF RANGE"}
_TRENDS = (
    *("None", "DoubleUp", "SingleUp", "FortyFiveUp", "Flat"),
    *("FortyFiveDown", "SingleDown", "DoubleDown", "NotComputable", "RateOutOfRange"),
)


def share_uploads(dexcom: Dexcom, device: str, before_ms: int) -> list[dict[str, Any]]:
    """share2nightscout-bridge / nightscout-connect entries for the readings before a time."""
    docs = []
    for record in dexcom.fake.readings(1440, 288):
        date = share_ms(record["WT"])
        if date >= before_ms:
            continue
        trend = record["Trend"]
        number = trend if isinstance(trend, int) else _TRENDS.index(trend)
        name = _TRENDS[number]
        docs.append(
            {
                "sgv": record["Value"],
                "date": date,
                "dateString": iso_utc(date),
                "trend": number,
                "direction": _DIRECTIONS.get(name, name),
                "device": device,
                "type": "sgv",
            }
        )
    return docs


def librelink_up_uploads(
    libre: Libre, device: str, before_ms: int, *, v3: bool
) -> list[dict[str, Any]]:
    """nightscout-librelink-up's graph entries before a time (v3: no dateString, ``app``)."""
    docs = []
    graph, _ = libre_answers(libre)
    for point in graph["graphData"]:
        date, mgdl = libre_ms(point["FactoryTimestamp"]), point["ValueInMgPerDl"]
        if date >= before_ms:
            continue
        doc: dict[str, Any] = {"type": "sgv", "sgv": mgdl, "date": date, "device": device}
        if v3:
            doc["app"] = "librelinkup-to-nightscout-script"
        else:
            doc["dateString"] = iso_utc(date)
        docs.append(doc)
    return docs


def post_v1(site: Site, docs: list[dict[str, Any]]) -> None:
    """One POST /api/v1/entries with the hashed API_SECRET, as the old uploaders send it."""
    secret = hashlib.sha1(API_SECRET.encode()).hexdigest()
    answer = httpx.post(f"{site.url}/api/v1/entries", json=docs, headers={"api-secret": secret})
    answer.raise_for_status()


def post_v3(site: Site, docs: list[dict[str, Any]]) -> None:
    """One POST /api/v3/entries per document with a JWT, as nightscout-librelink-up does."""
    with httpx.Client(base_url=site.url, timeout=10) as client:
        jwt = client.get(f"/api/v2/authorization/request/{ACCESS_TOKEN}").json()["token"]
        for doc in docs:
            answer = client.post(
                "/api/v3/entries", json=doc, headers={"Authorization": f"Bearer {jwt}"}
            )
            answer.raise_for_status()
