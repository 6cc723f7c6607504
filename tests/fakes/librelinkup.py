"""A fake LibreLinkUp server (ASGI) built from shared/fixtures/librelinkup and protocols-cgm §2.14.

Region hosts with login redirects (a request's region is its ``Host`` ``api-<r>.libreview.io``;
other hosts, e.g. 127.0.0.1, are ``loopback_region``: None accepts every account), required
headers, tickets, wrong password, lockout, pending steps, ``Account-Id``, generated
connections/graph/logbook on an injected wall clock, injected faults, request counters.
Run alone: ``python -m tests.fakes.librelinkup --port 8081`` (prints the credentials).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "librelinkup"
TICKET_DURATION_MS = 15_552_000_000
STEP_TICKET_MS = 3_600_000
READING_PHASE_S = 40  # readings fall at hh:mm:40, as in the fixtures (t % 300 == 40)
GRAPH_LAG_S = 15 * 60
HISTORY_S = 12 * 3600
HTML_OUTAGE = b"<!DOCTYPE html><html><title>Attention Required! | Cloudflare</title></html>"
STEP_FIXTURES = {
    "tou": "pylibrelinkup/terms_of_use_response.json",
    "pp": "pylibrelinkup/privacy_policy_response.json",
    "verifyEmail": "pylibrelinkup/email_verification_response.json",
}


def fixture(name: str) -> Any:
    """A recorded body, e.g. ``fixture("pylibrelinkup/graph_response.json")``."""
    return json.loads((FIXTURES / name).read_text())


def llu_time(dt: datetime) -> str:
    """``M/D/YYYY h:mm:ss AM|PM`` without leading zeros, as the vendor writes it."""
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    return f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d}:{dt.second:02d} {half}"


@dataclass
class FakePatient:
    patient_id: str
    first_name: str = "Pat"
    last_name: str = "Ient"
    sensor_serial: str | None = "0ABCDEF123"
    #: Glucose in mg/dL at epoch second t (deterministic, so re-reads agree).
    glucose: Callable[[int], int] = field(
        default=lambda t: round(140 + 60 * math.sin(2 * math.pi * t / (4 * 3600)))
    )


@dataclass
class FakeAccount:
    email: str
    password: str
    user_id: str
    region: str = "eu"
    units: int = 1  # GlucoseUnits: 1 mg/dL, 0 mmol/L
    steps: list[str] = field(default_factory=list)
    patients: list[FakePatient] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # "429" | "500" | "html" | "truncated" | "slow"
    times: int = 1
    path: str | None = None  # only requests whose path starts with this
    retry_after: int | None = None
    delay: float = 5.0


def default_account() -> FakeAccount:
    return FakeAccount(
        email="person@example.com",
        password="correct horse battery staple",
        user_id="7ad66b40-ba9b-401e-9845-4f49f998cf16",
        patients=[
            FakePatient("7ad66b40-ba9b-401e-9845-4f49f998cf16", "John", "Doe"),
            FakePatient("77179667-ba4b-11eb-ad1f-0242ac110004", "Jane", "Doe", None),
        ],
    )


class FakeLibreLinkUp:
    """The fake. ``clock()`` is wall time in epoch seconds (inject one to freeze time)."""

    def __init__(
        self,
        accounts: list[FakeAccount] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        local_tz: tzinfo | None = None,
        min_version: str = "4.16.0",
        loopback_region: str | None = None,
        ticket_duration_ms: int = TICKET_DURATION_MS,
        lockout_after: int = 3,
        lockout_s: int = 300,
    ) -> None:
        self.accounts = {a.email.lower(): a for a in accounts or [default_account()]}
        self.clock = clock
        self.local_tz = local_tz or ZoneInfo("Europe/Berlin")
        self.min_version = min_version
        self.loopback_region = loopback_region
        self.ticket_duration_ms = ticket_duration_ms
        self.lockout_after = lockout_after
        self.lockout_s = lockout_s
        self.tokens: dict[str, tuple[FakeAccount, float]] = {}
        self.failures: dict[str, list[float]] = {}
        self.locked_until: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.logins = self.successful_logins = 0
        self.requests: Counter[str] = Counter()
        self.last_headers: dict[str, str] = {}
        self.sensor_started = int(clock() // 60 * 60) - 2 * 86400
        self.app = Starlette(
            routes=[
                Route("/llu/auth/login", self._login, methods=["POST"]),
                Route("/auth/continue/{step}", self._continue, methods=["POST"]),
                Route("/llu/connections", self._connections, methods=["GET"]),
                Route("/llu/connections/{pid}/{what}", self._per_patient, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests[scope["path"]] += 1
            fault = self._take_fault(scope["path"])
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault is not None:
                return await _fault_response(fault)(scope, receive, send)
        await self.app(scope, receive, send)

    # -- test controls ------------------------------------------------------------------------

    def inject(self, kind: str, times: int = 1, **options: Any) -> None:
        """Answer the next ``times`` requests (optionally only under ``path``) with a fault."""
        self.faults.append(Fault(kind, times, **options))

    def expire_tickets(self) -> None:
        """Invalidate every issued token: the next data call answers HTTP 401."""
        self.tokens.clear()

    @property
    def account(self) -> FakeAccount:
        return next(iter(self.accounts.values()))

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path is None or path.startswith(fault.path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # -- login --------------------------------------------------------------------------------

    def _request_region(self, request: Request) -> str | None:
        host = request.headers.get("host", "").split(":")[0]
        if host == "api.libreview.io":
            return "global"
        if host.startswith("api-") and host.endswith(".libreview.io"):
            return host[4 : -len(".libreview.io")]
        return self.loopback_region

    def _header_error(self, request: Request) -> Response | None:
        self.last_headers = dict(request.headers)
        if not request.headers.get("product") or not request.headers.get("version"):
            return JSONResponse({"message": "RequiredHeaderMissing"}, status_code=400)
        return None

    def _ticket(self, account: FakeAccount, duration_ms: int) -> dict[str, Any]:
        token = f"fake.{secrets.token_hex(16)}"
        expires = self.clock() + duration_ms / 1000
        self.tokens[token] = (account, expires)
        return {"token": token, "expires": int(expires), "duration": duration_ms}

    async def _login(self, request: Request) -> Response:
        self.logins += 1
        if (error := self._header_error(request)) is not None:
            return error
        body = await request.json()
        email = str(body.get("email", "")).lower()
        now = self.clock()
        if self.locked_until.get(email, 0) > now:
            return self._locked()
        account = self.accounts.get(email)
        if account is None or body.get("password") != account.password:
            recent = [t for t in self.failures.get(email, []) if now - t < 60] + [now]
            self.failures[email] = recent
            if len(recent) >= self.lockout_after:
                self.locked_until[email] = now + self.lockout_s
            return JSONResponse(fixture("nightscout-librelink-up/login-failed.json"))
        region = self._request_region(request)
        if region is not None and region != account.region:
            return JSONResponse({"data": {"redirect": True, "region": account.region}, "status": 0})
        return self._login_answer(account)

    def _locked(self) -> Response:
        lock = {"failures": self.lockout_after, "interval": 60, "lockout": self.lockout_s}
        body = {"status": 429, "data": {"code": 60, "data": lock, "message": "locked"}}
        return JSONResponse(body, status_code=429)

    def _login_answer(self, account: FakeAccount) -> Response:
        if account.steps:  # the recorded step body, with a fresh 1-hour ticket
            step = account.steps[0]
            body = fixture(STEP_FIXTURES.get(step, STEP_FIXTURES["pp"]))
            body["data"]["step"]["type"] = step
            body["data"]["authTicket"] = self._ticket(account, STEP_TICKET_MS)
            return JSONResponse(body)
        self.successful_logins += 1
        body = fixture("nightscout-librelink-up/login.json")
        body["data"]["user"].update(id=account.user_id, email=account.email)
        body["data"]["user"]["uom"] = str(account.units)
        body["data"]["authTicket"] = self._ticket(account, self.ticket_duration_ms)
        return JSONResponse(body)

    async def _continue(self, request: Request) -> Response:
        account = self._bearer(request)
        step = request.path_params["step"]
        if account is None:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        if account.steps and account.steps[0] == step and step != "verifyEmail":
            account.steps.pop(0)
        return self._login_answer(account)

    # -- data ---------------------------------------------------------------------------------

    def _bearer(self, request: Request) -> FakeAccount | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        held = self.tokens.get(token)
        if held is None or held[1] <= self.clock():
            return None
        return held[0]

    def _authorize(self, request: Request) -> FakeAccount | Response:
        if (error := self._header_error(request)) is not None:
            return error
        if _version(request.headers["version"]) < _version(self.min_version):
            return Response("Forbidden", status_code=403)
        account = self._bearer(request)
        if account is None:
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        account_id = request.headers.get("account-id")
        if not account_id:
            return JSONResponse({"message": "RequiredHeaderMissing"}, status_code=400)
        if account_id != hashlib.sha256(account.user_id.encode()).hexdigest():
            return JSONResponse({"message": "AccountIdMismatch"}, status_code=400)
        return account

    def _envelope(self, request: Request, data: Any) -> Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        _account, expires = self.tokens[token]
        ticket = {"token": token, "expires": int(expires), "duration": self.ticket_duration_ms}
        return JSONResponse({"status": 0, "data": data, "ticket": ticket})

    async def _connections(self, request: Request) -> Response:
        account = self._authorize(request)
        if isinstance(account, Response):
            return account
        return self._envelope(request, [self._connection(account, p) for p in account.patients])

    async def _per_patient(self, request: Request) -> Response:
        account = self._authorize(request)
        if isinstance(account, Response):
            return account
        pid, what = request.path_params["pid"], request.path_params["what"]
        patient = next((p for p in account.patients if p.patient_id == pid), None)
        if what not in ("graph", "logbook"):
            return Response("Not Found", status_code=404)
        if patient is None:
            return JSONResponse(fixture("pylibrelinkup/patient_not_found.json"))
        build = self._graph_data if what == "graph" else self._logbook_data
        return self._envelope(request, build(account, patient))

    def _graph_data(self, account: FakeAccount, patient: FakePatient) -> dict[str, Any]:
        """~12 h of 5-minute points ending 15 min before the current reading, no arrows."""
        last = self._latest_reading_time() - GRAPH_LAG_S
        times = range(last - HISTORY_S, last + 1, 60)
        points = [self._measurement(account, patient, t, 0) for t in times if t % 300 == 40]
        connection = self._connection(account, patient)
        sensors = [{"sensor": connection["sensor"], "device": connection["patientDevice"]}]
        active = sensors if connection["sensor"] else []
        return {"connection": connection, "activeSensors": active, "graphData": points}

    def _logbook_data(self, account: FakeAccount, patient: FakePatient) -> list[dict[str, Any]]:
        """A scan every 3 h over the last day, newest first; out-of-range ones are alarms."""
        current, items = self._latest_reading_time(), []
        for t in range(current - 17 * 60, current - 86400, -3 * 3600):
            item, value = self._measurement(account, patient, t, 1), patient.glucose(t)
            if value > 180 or value < 85:
                item.update(type=3, alarmType=2 if value > 180 else 1)
            items.append(item)
        return items

    def _latest_reading_time(self) -> int:
        now = int(self.clock())
        return (now - READING_PHASE_S) // 60 * 60 + READING_PHASE_S

    def _measurement(
        self, account: FakeAccount, patient: FakePatient, t: int, type_: int
    ) -> dict[str, Any]:
        mgdl = patient.glucose(t)
        moment = datetime.fromtimestamp(t, UTC)
        item: dict[str, Any] = {
            "FactoryTimestamp": llu_time(moment),
            "Timestamp": llu_time(moment.astimezone(self.local_tz)),
            "type": type_,
            "ValueInMgPerDl": mgdl,
            "MeasurementColor": 1 if 70 <= mgdl <= 180 else (2 if mgdl > 180 else 3),
            "GlucoseUnits": account.units,
            "Value": round(mgdl / 18, 1) if account.units == 0 else mgdl,
            "isHigh": False,
            "isLow": False,
        }
        if type_ != 0:  # arrow from the 15-minute slope, mg/dL per minute
            slope = (mgdl - patient.glucose(t - 900)) / 15
            item["TrendArrow"] = 1 + sum((slope >= -2, slope >= -1, slope > 1, slope > 2))
            item["TrendMessage"] = None
        return item

    def _connection(self, account: FakeAccount, patient: FakePatient) -> dict[str, Any]:
        base = fixture("nightscout-librelink-up/connections.json")["data"][0]
        current = self._measurement(account, patient, self._latest_reading_time(), type_=1)
        sensor = {"deviceId": "", "sn": patient.sensor_serial, "a": self.sensor_started, "w": 60}
        sensor.update(pt=4, s=False, lj=False)
        base.update(
            patientId=patient.patient_id,
            firstName=patient.first_name,
            lastName=patient.last_name,
            uom=account.units,
            sensor=sensor if patient.sensor_serial is not None else None,
            glucoseMeasurement=current,
            glucoseItem=current,
        )
        return dict(base)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in text.split("."))


TRUNCATED = b'{"status":0,"data":{"connection":{"patientId":"'
FAULT_BODIES = {  # kind: (HTTP status, body, media type)
    "500": (500, b"Internal Server Error", "text/plain"),
    "html": (200, HTML_OUTAGE, "text/html"),
    "truncated": (200, TRUNCATED, "application/json"),
}


def _fault_response(fault: Fault) -> Response:
    if fault.kind == "429":
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response("Too Many Requests", status_code=429, headers=headers)
    status, body, media_type = FAULT_BODIES[fault.kind]
    return Response(body, status_code=status, media_type=media_type)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Fake LibreLinkUp server")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--email", default=default_account().email)
    parser.add_argument("--password", default=default_account().password)
    parser.add_argument("--mmol", action="store_true", help="account in mmol/L")
    parser.add_argument("--step", action="append", default=[], help="pending step: tou, pp ...")
    args = parser.parse_args(argv)
    account = default_account()
    account.email, account.password, account.steps = args.email, args.password, args.step
    account.units = 0 if args.mmol else 1
    fake = FakeLibreLinkUp([account])
    where = f"http://{args.host}:{args.port}"
    print(f"fake LibreLinkUp on {where}  login {account.email} / {account.password}")
    uvicorn.run(fake, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
