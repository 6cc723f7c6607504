"""Shared fixtures: a fake Nightscout on loopback and a clean environment for the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.loopback import free_port, serve
from tests.fakes.nightscout import FakeNightscout

API_SECRET = "nightbridge-cli-test-secret"


@dataclass
class Site:
    fake: FakeNightscout
    url: str


@pytest.fixture
def site() -> Iterator[Site]:
    fake = FakeNightscout(api_secret=API_SECRET)
    with serve(fake.app) as url:
        yield Site(fake, url)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A minimal environment: no inherited NIGHTBRIDGE_/peer variables, data in tmp_path."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "NIGHTBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "NIGHTBRIDGE_SOURCES": "simulator",
    }


def nightscout_env(env: dict[str, str], url: str, secret: str = API_SECRET) -> dict[str, str]:
    return {**env, "NIGHTBRIDGE_NIGHTSCOUT_URL": url, "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET": secret}


def unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"
