"""Both Nightscout outputs pass the output contract against nightbridge's OWN server.

The real app (``create_app``) runs on 127.0.0.1 (``tests.fakes.loopback.serve``) over a fresh
SQLite file. v1 writes with the API secret; v3 with an access token of an uploader subject an
admin created through ``/api/v2/authorization``. ``stored`` reads the database through a
separate ``Store``; ``break_output`` stops the server (connection refused, as when the process
is gone) and ``heal_output`` starts a new app on the same port and database (as after a
restart): the output object itself must recover.

The v1 output counts created/duplicates from the ``_id`` in the server's echo, which it does
not promise; the contract runs with ``exact_counts = False`` for it (stored copies stay exact).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from nightbridge.model import Collection
from nightbridge.outputs.base import Output
from nightbridge.outputs.nightscout_v1 import NightscoutV1Output
from nightbridge.outputs.nightscout_v3 import NightscoutV3Output
from nightbridge.server.app import create_app
from nightbridge.server.config import ServerConfig
from nightbridge.store import DocQuery, Store
from tests.fakes.loopback import free_port, serve
from tests.outputs.contract import Breaker, Healer, OutputContract, Stored

SECRET = "contract-server-secret-0123"
ADMIN = {"api-secret": hashlib.sha1(SECRET.encode()).hexdigest()}


class OurServer:
    """Our server on a fixed loopback port over one database; can be stopped and restarted."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.config = ServerConfig.from_env(
            {
                "API_SECRET": SECRET,
                "NIGHTBRIDGE_DATABASE_URL": database_url,
                "NIGHTBRIDGE_DATA_DIR": str(data_dir),
                "AUTH_DEFAULT_ROLES": "denied",
            }
        )
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._running: ExitStack | None = None

    def start(self) -> None:
        """Serve a new app (a fresh process, in effect) on the same port and database."""
        assert self._running is None
        stack = ExitStack()
        assert stack.enter_context(serve(create_app(self.config), port=self.port)) == self.base_url
        self._running = stack

    def stop(self) -> None:
        """Stop serving: every later request is refused."""
        if self._running is not None:
            self._running.close()
            self._running = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OurServer]:
    ours = OurServer(f"sqlite:///{tmp_path / 'server.db'}", tmp_path)
    ours.start()
    try:
        yield ours
    finally:
        ours.stop()


@pytest.fixture
async def reader(server: OurServer) -> AsyncIterator[Store]:
    opened = await Store.open(server.database_url)
    yield opened
    await opened.close()


async def uploader_token(base_url: str) -> str:
    """An access token of a new subject that may read, create and update (the admin's way)."""
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN, timeout=10) as client:
        role = await client.post(
            "/api/v2/authorization/roles",
            json={
                "name": "uploader",
                "permissions": ["api:*:read", "api:*:create", "api:*:update"],
            },
        )
        assert role.status_code == 200, role.text
        subject = await client.post(
            "/api/v2/authorization/subjects", json={"name": "bridge", "roles": ["uploader"]}
        )
        assert subject.status_code == 200, subject.text
        token: str = subject.json()["accessToken"]
        return token


class ServerContract(OutputContract):
    """Fixtures shared by both outputs; subclasses provide ``output``."""

    @pytest.fixture
    def stored(self, reader: Store) -> Stored:
        async def read(collection: Collection) -> list[dict[str, object]]:
            return await reader.find(collection.value, DocQuery())

        return read

    @pytest.fixture
    def break_output(self, server: OurServer) -> Breaker:
        async def break_it() -> None:
            server.stop()

        return break_it

    @pytest.fixture
    def heal_output(self, server: OurServer, output: Output) -> Healer:
        async def heal() -> Output:
            server.start()
            return output

        return heal


class TestNightscoutV1OnOurServer(ServerContract):
    exact_counts = False

    @pytest.fixture
    async def output(self, server: OurServer) -> AsyncIterator[Output]:
        out = NightscoutV1Output(server.base_url, SecretStr(SECRET))
        await out.open()
        yield out
        await out.aclose()


class TestNightscoutV3OnOurServer(ServerContract):
    @pytest.fixture
    async def output(self, server: OurServer) -> AsyncIterator[Output]:
        token = await uploader_token(server.base_url)
        out = NightscoutV3Output(server.base_url, SecretStr(token))
        await out.open()
        yield out
        await out.aclose()
