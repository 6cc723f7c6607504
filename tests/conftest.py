"""Shared fixtures: database URLs and an open Store on SQLite and PostgreSQL.

- ``sqlite_url``: a fresh SQLite file under ``tmp_path``.
- ``pg_url``: a fresh schema in database ``test`` on 127.0.0.1:5432 (trust auth, user
  ``postgres``), dropped after the test; the URL selects it with the libpq ``options`` parameter
  (``Store.open`` understands it). Skips with one line when nothing listens on 5432.
- ``db_url``: parametrized over both (the PostgreSQL case is marked ``postgres``).
- ``store``: an open ``Store`` on ``db_url``, closed after the test.
- every test leaves the logging set-up as it found it: CLI commands run in-process install
  their redacting handler on the root logger, and one left behind would write into a closed
  stream and strip tracebacks from records later tests inspect.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from nightbridge.store import Store

PG_HOST, PG_PORT, PG_USER, PG_DB = "127.0.0.1", 5432, "postgres", "test"
_PG_ADMIN = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "asyncio")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in named.items():
        logging.getLogger(name).setLevel(old)


@cache
def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new, empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'nightbridge.db'}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """URL of a new, empty PostgreSQL schema (dropped afterwards)."""
    if not _pg_reachable():
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(_PG_ADMIN)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    yield f"{_PG_ADMIN}?options=-csearch_path%3D{schema}"
    conn = await asyncpg.connect(_PG_ADMIN)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Both databases, one after the other."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """An open, migrated Store on each database."""
    opened = await Store.open(db_url)
    yield opened
    await opened.close()
