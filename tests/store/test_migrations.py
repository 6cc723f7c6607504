"""Opening: URLs, migrations applied once, the schema matching tables.py, closed stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

from nightbridge.errors import ConfigError, RetriableError
from nightbridge.store import Store
from nightbridge.store.db import normalise_url
from nightbridge.store.migrations import latest_version
from nightbridge.store.tables import metadata


async def test_reopen_is_idempotent_and_keeps_data(db_url: str) -> None:
    first = await Store.open(db_url)
    version = await first.schema_version()
    assert version == latest_version(first.dialect) >= 1
    await first.upsert("entries", [{"identifier": "x", "date": 1}])
    await first.close()
    again, third = await asyncio.gather(Store.open(db_url), Store.open(db_url))
    try:
        assert await again.schema_version() == version
        assert await third.count("entries") == 1
        assert await again.ping()
    finally:
        await again.close()
        await third.close()


async def test_migrated_schema_matches_tables(store: Store) -> None:
    def columns(sync_conn: object) -> dict[str, set[str]]:
        inspector = inspect(sync_conn)
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in metadata.tables}

    async with store._read() as conn:
        found = await conn.run_sync(columns)
    assert found == {name: set(t.columns.keys()) for name, t in metadata.tables.items()}


async def test_closed_store_raises_retriable(store: Store) -> None:
    await store.close()
    with pytest.raises(RetriableError):
        await store.upsert("entries", [{"identifier": "x", "date": 1}])
    assert not await store.ping()


async def test_unreachable_postgres_is_retriable() -> None:
    with pytest.raises(RetriableError) as info:
        await Store.open("postgresql://user:s3cretpw@127.0.0.1:1/none")
    assert "s3cretpw" not in str(info.value)


def test_url_forms(tmp_path: Path) -> None:
    plain = normalise_url(str(tmp_path / "a.db"))
    assert plain.drivername == "sqlite+aiosqlite" and plain.database == str(tmp_path / "a.db")
    assert normalise_url("sqlite:////x/y.db").database == "/x/y.db"
    assert normalise_url("sqlite+aiosqlite:////x/y.db").drivername == "sqlite+aiosqlite"
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        assert normalise_url(url).drivername == "postgresql+asyncpg"
    for bad in ("", "mysql://u@h/db", "sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ConfigError) as info:
            normalise_url(bad)
        assert info.value.variable == "NIGHTBRIDGE_DATABASE_URL"


async def test_sqlite_file_uses_wal(sqlite_url: str) -> None:
    opened = await Store.open(sqlite_url)
    try:
        async with opened._read() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        assert mode == "wal"
    finally:
        await opened.close()
