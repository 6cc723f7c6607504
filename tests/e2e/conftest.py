"""End-to-end harness: the real ``nightbridge`` process against vendor fakes and a fake Nightscout.

Every fake runs in this test process on 127.0.0.1 (``tests.fakes.loopback.serve``), so a test
can read what the fakes stored and counted while the CLI runs as a subprocess. The vendor fakes
run on a frozen clock set a little in the past (``VendorClock``): the readings a fake serves are
then fixed for the whole test and never lie in the CLI's future, so "every reading exactly once"
is an exact set comparison.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.dexcom_share import FakeDexcomShare
from tests.fakes.librelinkup import FakeLibreLinkUp, default_account
from tests.fakes.loopback import serve
from tests.fakes.nightscout import FakeNightscout

#: share2nightscout-bridge refuses an API_SECRET shorter than 12 characters.
API_SECRET = "e2e-nightscout-api-secret"
#: An access token of the fake Nightscout with the admin role (cgm-remote-monitor's shape).
ACCESS_TOKEN = "bridge-0123456789abcdef"
#: nightscout-librelink-up's NIGHTSCOUT_API_TOKEN: the SHA-1 hex of an access token.
HASHED_TOKEN = hashlib.sha1(ACCESS_TOKEN.encode()).hexdigest()
#: Readings the Dexcom fake keeps (< 24 h, so none sits on the edge of a 24 h window).
DEXCOM_HISTORY_MINUTES = 1400
_SHARE_DATE = re.compile(r"Date\((\d+)")


class VendorClock:
    """A wall clock (epoch ms) that stands still unless a test moves it."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class PostFaults:
    """ASGI wrapper of the fake Nightscout: answers ``POST`` with HTTP 500 (a Nightscout error
    body) while ``down`` is set or for the next ``remaining`` POSTs; every other request (and
    every POST after that) reaches the fake. ``failed`` counts the POSTs refused."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.down = False
        self.remaining = 0
        self.failed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        refuse = self.down or self.remaining > 0
        if scope["type"] == "http" and scope["method"] == "POST" and refuse:
            self.remaining = max(0, self.remaining - 1)
            self.failed += 1
            body = b'{"status":500,"message":"Mongo Error"}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


@dataclass
class Site:
    """The fake Nightscout, its base URL and the POST fault switch in front of it."""

    fake: FakeNightscout
    url: str
    faults: PostFaults

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: what nightscout-librelink-up's NIGHTSCOUT_URL holds."""
        return self.url.removeprefix("http://")

    def entry_dates(self, device: str | None = None) -> list[int]:
        return [
            int(e["date"]) for e in self.fake.entries if device is None or e.get("device") == device
        ]


@dataclass
class Dexcom:
    fake: FakeDexcomShare
    url: str
    clock: VendorClock

    def reading_dates(self) -> set[int]:
        """Epoch ms of every reading the fake serves (its full history)."""
        return {share_ms(r["WT"]) for r in self.fake.readings(1440, 288)}


@dataclass
class Libre:
    fake: FakeLibreLinkUp
    url: str
    #: The fake's frozen wall clock, epoch seconds.
    now_s: int

    @property
    def email(self) -> str:
        return self.fake.account.email

    @property
    def password(self) -> str:
        return self.fake.account.password


def share_ms(text: str) -> int:
    """Epoch ms of a Share ``Date(ms±HHMM)`` or ``/Date(ms)/`` value."""
    found = _SHARE_DATE.search(text)
    assert found, text
    return int(found.group(1))


def libre_ms(text: str) -> int:
    """Epoch ms of a LibreLinkUp ``FactoryTimestamp`` (UTC, ``M/D/YYYY h:mm:ss AM``)."""
    moment = datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def libre_answers(libre: Libre) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(graph data, logbook) of the first connection, read over plain HTTP the way any
    LibreLinkUp client would (login, connections, graph, logbook); not through nightbridge."""
    headers = {"product": "llu.ios", "version": "4.16.0"}
    with httpx.Client(base_url=libre.url, headers=headers, timeout=10) as client:
        login = client.post(
            "/llu/auth/login", json={"email": libre.email, "password": libre.password}
        ).json()["data"]
        auth = {
            "Authorization": f"Bearer {login['authTicket']['token']}",
            "Account-Id": hashlib.sha256(login["user"]["id"].encode()).hexdigest(),
        }
        patient = client.get("/llu/connections", headers=auth).json()["data"][0]["patientId"]
        graph = client.get(f"/llu/connections/{patient}/graph", headers=auth).json()["data"]
        logbook = client.get(f"/llu/connections/{patient}/logbook", headers=auth).json()["data"]
    return graph, logbook


def libre_vendor_view(libre: Libre) -> tuple[set[int], set[int]]:
    """(sgv reading times, alarm event times) the fake serves: graph points, the current
    reading and logbook scans; logbook alarms (type 3)."""
    graph, logbook = libre_answers(libre)
    readings = {libre_ms(p["FactoryTimestamp"]) for p in graph["graphData"]}
    readings.add(libre_ms(graph["connection"]["glucoseMeasurement"]["FactoryTimestamp"]))
    readings |= {libre_ms(i["FactoryTimestamp"]) for i in logbook if i["type"] != 3}
    alarms = {libre_ms(i["FactoryTimestamp"]) for i in logbook if i["type"] == 3}
    return readings, alarms


@pytest.fixture
def site() -> Iterator[Site]:
    fake = FakeNightscout(api_secret=API_SECRET, tokens={ACCESS_TOKEN: "admin"})
    faults = PostFaults(fake.app)
    with serve(faults) as url:
        yield Site(fake, url, faults)


@pytest.fixture
def dexcom() -> Iterator[Dexcom]:
    clock = VendorClock(int(time.time() * 1000) - 60_000)
    fake = FakeDexcomShare(now_ms=clock, history_minutes=DEXCOM_HISTORY_MINUTES)
    with serve(fake.app) as url:
        yield Dexcom(fake, url, clock)


@pytest.fixture
def libre() -> Iterator[Libre]:
    # Frozen at t ≡ 150 s (mod 300): graph points fall at ≡ 40 s and logbook items at ≡ 280 s,
    # so none lies within seconds of the source's "12 h back" edge, whenever the CLI starts.
    now = int(time.time())
    frozen = now - (now - 150) % 300
    fake = FakeLibreLinkUp([default_account()], clock=lambda: frozen)
    with serve(fake) as url:
        yield Libre(fake, url, frozen)


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """Nothing inherited but PATH; the data directory (cursors, pending) under ``tmp_path``."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "NIGHTBRIDGE_DATA_DIR": str(tmp_path / "data"),
    }


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll ``condition`` every 50 ms; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"not reached within {timeout} s: {what}\n{tail}")
        time.sleep(0.05)


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The counts of ``sync``'s last stdout line ``summary fetched=N created=N ...``."""
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("summary "), done.stdout
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}


def doubled(values: list[Any]) -> list[Any]:
    """Values that occur more than once."""
    counts = Counter(values)
    return sorted(value for value, n in counts.items() if n > 1)
