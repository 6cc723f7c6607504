"""Shared pieces for the LibreLinkUp tests: the fake, a client routed to it, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nightbridge.sources.librelinkup import LibreSettings
from nightbridge.sources.librelinkup.api import LibreLinkUpApi
from tests.fakes.librelinkup import FakeLibreLinkUp, default_account

PASSWORD = default_account().password
EMAIL = default_account().email
#: Wall time the fake answers for (2026-11-23T20:00:10Z): generated data depends only on it.
NOW_S = 1_795_464_010.0


class FakeClock:
    """Monotonic seconds the tests move by hand (no real sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeLibreLinkUp:
    return FakeLibreLinkUp(clock=lambda: NOW_S)


@pytest.fixture
async def client(fake: FakeLibreLinkUp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        yield http


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def settings(**overrides: object) -> LibreSettings:
    values: dict[str, object] = {"username": EMAIL, "password": PASSWORD, **overrides}
    return LibreSettings.model_validate(values)


@pytest.fixture
def api(client: httpx.AsyncClient, clock: FakeClock) -> LibreLinkUpApi:
    return LibreLinkUpApi(settings(), client, clock)
