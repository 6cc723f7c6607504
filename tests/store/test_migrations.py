"""Opening: URLs, migrations applied once, the schema matching tables.py, closed stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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
    if store.dialect == "postgresql":
        sql = (
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1"
        )
    else:
        sql = "SELECT name FROM pragma_table_info(?)"
    found: dict[str, set[str]] = {}
    async with store._read() as conn:
        for table in metadata.tables:
            found[table] = {row[0] for row in (await conn.exec_driver_sql(sql, (table,))).all()}
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
    assert plain.get_backend_name() == "sqlite" and plain.database == str(tmp_path / "a.db")
    assert normalise_url("sqlite:////x/y.db").database == "/x/y.db"
    assert normalise_url("sqlite:///rel/y.db?mode=rwc").database == "rel/y.db"
    aio = normalise_url("sqlite+aiosqlite:////x/a%20b.db")
    assert aio.get_backend_name() == "sqlite" and aio.database == "/x/a b.db"
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        pg = normalise_url(url)
        assert pg.drivername == "postgresql+asyncpg" and pg.get_backend_name() == "postgresql"
    assert normalise_url("postgresql://u:pw@h/db").password == "pw"
    for bad in ("", "mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "no scheme://x"):
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
