"""``api-secret: sha1(<access token>)``: what nightscout-librelink-up sends.

cgm-remote-monitor matches a token value against each subject's ``accessTokenDigest`` (the
SHA-1 hex of its access token) by prefix (reference §2.2), so the hashed token stands for the
token. Our server and the shared fake Nightscout must both accept it.
"""

from __future__ import annotations

import hashlib

import httpx
from fastapi import FastAPI
from tests.fakes.nightscout import FakeNightscout
from tests.server.conftest import NOW_MS, FrozenClock, sgv

from nightbridge.server.auth.roles import Subject

UPLOADER = Subject("5f0e6c1a2b3c4d5e6f708192", "LibreLinkUp", ("admin",))
READER = Subject("5f0e6c1a2b3c4d5e6f708193", "follower", ("readable",))


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


async def _token(app: FastAPI, subject: Subject) -> str:
    store = app.state.store
    token: str | None = app.state.auth.token_of(subject)
    assert token is not None
    await store.create_subject(subject.name, subject.roles, token, subject_id=subject.id)
    await app.state.auth.reload()
    return token


async def test_hashed_access_token_writes_entries(app: FastAPI, client: httpx.AsyncClient) -> None:
    token = await _token(app, UPLOADER)
    for header in (_sha1(token), _sha1(token).upper(), _sha1(token)[:16]):
        res = await client.post(
            "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": header}
        )
        assert res.status_code == 200, header
    verdict = await client.get("/api/v1/verifyauth", headers={"api-secret": _sha1(token)})
    assert verdict.json()["message"]["message"] == "OK"
    assert verdict.json()["message"]["canWrite"] is True


async def test_hashed_token_carries_only_its_subjects_roles(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token = await _token(app, READER)
    header = {"api-secret": _sha1(token)}
    assert (await client.get("/api/v1/entries.json", headers=header)).status_code == 200
    verdict = (await client.get("/api/v1/verifyauth", headers=header)).json()["message"]
    assert (verdict["message"], verdict["canWrite"]) == ("OK", False)
    res = await client.post("/api/v1/entries", json=[sgv(NOW_MS)], headers=header)
    assert res.status_code == 401


async def test_wrong_or_short_digest_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    token = await _token(app, UPLOADER)
    digest = _sha1(token)
    for value in (digest[:15], digest[1:], _sha1(token + "x"), digest[:-1] + "g"):
        res = await client.post(
            "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": value}
        )
        assert res.status_code == 401, value
        clock.advance(61_000)  # past the failed-attempt penalty of the address


async def test_fake_nightscout_accepts_the_hashed_token_too() -> None:
    token = "librelinku-0123456789abcdef"
    fake = FakeNightscout(api_secret="fake-api-secret-123", tokens={token: "admin"})
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ns") as http:
        ok = await http.post(
            "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": _sha1(token)}
        )
        assert ok.status_code == 200
        assert len(fake.entries) == 1
        bad = await http.post(
            "/api/v1/entries", json=[sgv(NOW_MS)], headers={"api-secret": _sha1(token + "x")}
        )
        assert bad.status_code == 401
        assert len(fake.entries) == 1
