"""Secrets never appear in logs, error bodies or output.

The app runs with an API_SECRET, a subject's access token and a JWT; requests carry them in
every place Nightscout clients put them (``?secret=``, ``?token=``, the ``api-secret`` header
plain, as SHA-1 and SHA-512, ``Authorization: Bearer``, body fields), plus failed logins and
requests that fail. Every log record at DEBUG (nightbridge, uvicorn, fastapi, starlette,
sqlalchemy and the root logger) and every response body is then searched for the plain secret,
its SHA-1/SHA-512 hex, the access token and the JWT. The only bodies allowed to hold a
credential are the ones whose job is to hand it out: the JWT from
``/api/v2/authorization/request`` and ``status.json?token=`` (``authorized``) and the access
tokens in the admin's subject listing; those still never hold API_SECRET or its hashes.

``nightbridge serve`` is also run as a real process with the secret set: its startup line and
everything it writes while answering secret-bearing requests must not contain the secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from tests.fakes.loopback import free_port
from tests.server.conftest import NOW_MS, FrozenClock, RecordingSleep, sgv

from nightbridge.server.app import create_app
from nightbridge.server.auth import authenticate
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.config import ServerConfig
from nightbridge.store import Store

PLAIN = "Plain-Secret-Never-Logged-7f3a"
SHA1 = hashlib.sha1(PLAIN.encode()).hexdigest()
SHA512 = hashlib.sha512(PLAIN.encode()).hexdigest()
LOGGERS = (
    "",
    "nightbridge",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "asyncio",
)
#: The test's own HTTP client logs the URLs it requests (with ``?secret=``): not the server.
CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass
class Session:
    """The client, the credentials it holds and every response it received."""

    client: httpx.AsyncClient
    token: str = ""
    jwt: str = ""
    #: (method, url, status, body text) of every response; ``issued`` ones may hold credentials.
    seen: list[tuple[str, str, int, str]] = field(default_factory=list)
    issued: list[tuple[str, str, int, str]] = field(default_factory=list)

    async def call(
        self, method: str, url: str, *, issues: bool = False, **kwargs: object
    ) -> httpx.Response:
        res = await self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
        entry = (method, url, res.status_code, res.text)
        (self.issued if issues else self.seen).append(entry)
        return res

    def secrets(self) -> dict[str, str]:
        """Every credential by name (the hashes in both cases, as clients send either)."""
        found = {
            "plain": PLAIN,
            "sha1": SHA1,
            "sha512": SHA512,
            "token": self.token,
            "jwt": self.jwt,
        }
        found |= {"SHA1": SHA1.upper(), "SHA512": SHA512.upper()}
        found["token-hex"] = self.token.rsplit("-", 1)[-1]
        found["jwt-signature"] = self.jwt.rsplit(".", 1)[-1]
        return {k: v for k, v in found.items() if v}


def _near(value: str) -> str:
    """``value`` with its fifth-last character changed (a hex digit, or a base64 character
    carrying no padding bits): a near miss that never equals it or decodes like it."""
    swapped = "1" if value[-5] == "0" else "0"
    return value[:-5] + swapped + value[-4:]


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


async def _failing_route(request: Request) -> None:
    """A route that fails after authenticating: the server's 500 path logs a traceback."""
    await authenticate(request)
    raise RuntimeError("a bug deep inside a route")


@pytest.fixture
async def session(store: Store, tmp_path: Path) -> AsyncIterator[Session]:
    clock = FrozenClock()
    config = ServerConfig.from_env({"API_SECRET": PLAIN, "NIGHTBRIDGE_DATA_DIR": str(tmp_path)})
    # no penalty: every request of the sweep reaches the route instead of an early 429
    delays = FailureDelays(0.0, clock=clock.seconds, sleep=RecordingSleep())
    app: FastAPI = create_app(config, store=store, clock=clock, delays=delays)
    app.add_api_route("/api/v1/test-failure", _failing_route, methods=["GET", "POST"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, client=("10.0.0.8", 3333), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://ns.test") as client:
            s = Session(client)
            made = await s.call(
                "POST",
                "/api/v2/authorization/subjects",
                issues=True,
                json={"name": "watch", "roles": ["admin"]},
                headers={"api-secret": SHA1},
            )
            s.token = made.json()["accessToken"]
            issued = await s.call("GET", f"/api/v2/authorization/request/{s.token}", issues=True)
            s.jwt = issued.json()["token"]
            yield s


async def _use_every_credential(s: Session) -> None:
    """Requests that succeed, fail authentication and fail on bad input, each with a credential."""
    body = [sgv(NOW_MS)]
    bearer = {"authorization": f"Bearer {s.jwt}"}
    for value in (PLAIN, SHA1, SHA512, SHA1.upper(), s.token, f"token={s.token}"):
        await s.call("GET", f"/api/v1/entries.json?secret={value}")
        await s.call("GET", "/api/v1/treatments", headers={"api-secret": value})
        await s.call("POST", "/api/v1/entries", json=body, headers={"api-secret": value})
        await s.call("GET", f"/api/v1/verifyauth?secret={value}")
    for value in (s.token, s.jwt):
        await s.call("GET", f"/api/v1/entries?token={value}")
        await s.call("POST", f"/api/v1/entries?token={value}", json=body)
        # status.json answers a token with ``authorized`` holding a JWT, as Nightscout does
        await s.call("GET", f"/api/v1/status.json?token={value}", issues=True)
    await s.call("GET", "/api/v1/entries", headers=bearer)
    await s.call("GET", "/api/v3/entries", headers=bearer)
    await s.call("GET", "/api/v3/status", headers=bearer)
    await s.call("GET", "/api/v3/entries", headers={"authorization": f"Bearer {s.token}"})
    await s.call("GET", f"/api/v3/entries?token={s.jwt}")
    await s.call(
        "POST",
        "/api/v3/treatments",
        headers=bearer,
        json={"eventType": "Note", "date": NOW_MS, "app": "t", "notes": "n"},
    )
    # credentials in the body, as xDrip+ and the careportal send them
    await s.call(
        "POST",
        "/api/v1/treatments",
        json={"eventType": "Note", "created_at": "2024-06-01T11:00:00Z", "secret": SHA1},
    )
    await s.call(
        "POST",
        "/api/v1/treatments",
        json=[{"eventType": "Note", "created_at": "2024-06-01T11:05:00Z", "token": s.token}],
    )
    await s.call(
        "POST",
        "/api/v1/devicestatus",
        content=f"secret={SHA1}&device=x".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    # failed logins: near misses, the plain secret where a hash is wanted, forged tokens
    for wrong in (PLAIN + "x", _near(SHA1), SHA512[:-1], _near(s.token)):
        await s.call("POST", "/api/v1/entries", json=body, headers={"api-secret": wrong})
        await s.call("GET", f"/api/v2/authorization/request/{wrong}")
    for forged in (_near(s.jwt), s.jwt + "x", PLAIN, SHA1):
        await s.call("GET", "/api/v3/entries", headers={"authorization": f"Bearer {forged}"})
        await s.call("GET", f"/api/v2/authorization/request/{forged}")
    # bad input and failing requests while holding the credential
    await s.call(
        "POST",
        "/api/v1/entries",
        content=b'[{"date": ',
        headers={"api-secret": SHA1, "content-type": "application/json"},
    )
    await s.call("GET", f"/api/v1/entries?secret={SHA1}&count=abc")
    await s.call("GET", f"/api/v1/entries?secret={SHA1}&find[date][$gte]=not-a-date")
    await s.call("GET", f"/api/v3/entries?secret={SHA1}&date$re=(", headers=bearer)
    await s.call("GET", f"/api/v3/entries?token={s.jwt}&limit=-5", headers=bearer)
    await s.call("GET", f"/api/v1/nosuchthing?secret={SHA1}")
    await s.call("PATCH", f"/api/v1/entries?secret={SHA1}", json={})
    # a request that fails inside the server (500, traceback logged) while holding each credential
    await s.call("GET", f"/api/v1/test-failure?secret={SHA1}")
    await s.call("GET", f"/api/v1/test-failure?token={s.jwt}", headers={"api-secret": SHA512})
    await s.call("POST", "/api/v1/test-failure", json={"secret": PLAIN}, headers=bearer)
    # what dashboards and monitors read afterwards
    for url in (
        "/api/v1/status.json",
        "/api/v2/properties",
        "/api/versions",
        "/pebble",
        "/healthz",
        "/readyz",
        "/metrics",
        "/",
    ):
        await s.call("GET", url)
    await s.call("GET", f"/api/v1/entries.json?count=50&secret={SHA1}")
    await s.call("GET", f"/api/v1/treatments.json?count=50&secret={SHA1}")
    await s.call("GET", f"/api/v1/devicestatus.json?count=50&secret={SHA1}")
    await s.call("GET", "/api/v3/treatments", headers=bearer)


async def test_no_credential_in_logs_or_bodies(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    await _use_every_credential(session)
    secrets = session.secrets()
    assert len(session.seen) > 60
    assert any(status == 401 for _, _, status, _ in session.seen), "failed logins were tried"
    assert any(status == 200 for _, url, status, _ in session.seen if "secret=" in url)
    for method, url, status, text in session.seen:
        assert not leaks(text, secrets), f"{method} {url} -> {status} leaks {leaks(text, secrets)}"
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    failures = [r for r in records if r.exc_info and "a bug deep inside" in str(r.exc_info[1])]
    assert len(failures) == 3, "each failing request logged its traceback"
    hashes = {
        k: v for k, v in secrets.items() if k in ("plain", "sha1", "sha512", "SHA1", "SHA512")
    }
    for method, url, status, text in session.issued:
        assert not leaks(text, hashes), f"{method} {url} -> {status} leaks {leaks(text, hashes)}"
    for record in records:
        rendered = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        found = leaks(rendered + repr(record.__dict__), secrets)
        assert not found, f"log record {record.name}:{record.levelname} leaks {found}"


async def test_credentials_in_bodies_are_not_stored(session: Session) -> None:
    """A ``secret``/``token`` field sent in a document is consumed, not stored or echoed."""
    await _use_every_credential(session)
    stored = await session.call("GET", f"/api/v1/treatments.json?count=50&secret={SHA1}")
    assert stored.status_code == 200 and len(stored.json()) >= 2
    status = await session.call("GET", f"/api/v1/devicestatus.json?secret={SHA1}")
    assert status.json() and all("secret" not in doc for doc in status.json())
    assert not any("secret" in d or "token" in d for d in stored.json())


async def test_the_check_sees_a_leak(session: Session) -> None:
    """The search is real: a body that echoes the token is caught."""
    assert leaks(json.dumps({"x": f"a{session.jwt}b"}), session.secrets()) == [
        "jwt",
        "jwt-signature",
    ]
    assert leaks(SHA1.upper(), session.secrets()) == ["SHA1"]


@pytest.mark.e2e
def test_serve_startup_and_output_hold_no_secret(tmp_path: Path) -> None:
    """``nightbridge serve`` with API_SECRET set: its output never shows the secret."""
    port = free_port()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "SYSTEMROOT")}
    env = {
        **keep,
        "HOME": str(tmp_path),
        "NIGHTBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "API_SECRET": PLAIN,
        "NIGHTBRIDGE_LOG_LEVEL": "DEBUG",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nightbridge.cli.main",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/versions", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        statuses = [
            httpx.get(f"{base}/api/v1/entries.json?secret={SHA1}", timeout=5).status_code,
            httpx.get(f"{base}/api/v1/entries.json?secret={PLAIN}", timeout=5).status_code,
            httpx.post(
                f"{base}/api/v1/entries",
                json=[{"date": "x"}],
                headers={"api-secret": SHA512},
                timeout=5,
            ).status_code,
            httpx.get(f"{base}/api/v2/authorization/request/{PLAIN}", timeout=5).status_code,
            httpx.get(
                f"{base}/api/v1/entries?find[date][$gte]=nope&secret={SHA1}", timeout=5
            ).status_code,
        ]
        assert statuses[0] == 200 and 401 in statuses and 400 in statuses
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    text = (out + err).decode("utf-8", "replace")
    assert f"127.0.0.1:{port}" in text, "the startup line was written"
    secrets = {"plain": PLAIN, "sha1": SHA1, "sha512": SHA512}
    assert not leaks(text, secrets), text
