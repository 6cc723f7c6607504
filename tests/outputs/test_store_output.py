"""The store output passes the output contract on SQLite and PostgreSQL, and writes atomically."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nightbridge.errors import RetriableError
from nightbridge.model import Collection
from nightbridge.outputs.base import Output
from nightbridge.outputs.store import StoreOutput
from nightbridge.store import DocQuery, Store
from tests.outputs.contract import T0, Breaker, Healer, OutputContract, Stored, entries

_SQLITE_POISON = """
CREATE TRIGGER poison BEFORE INSERT ON documents WHEN NEW.device = 'poison'
BEGIN SELECT RAISE(ABORT, 'poisoned row'); END
"""
_PG_POISON = (
    """CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.device = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF;
    RETURN NEW; END $$""",
    "CREATE TRIGGER poison BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION poison()",
)


class StoreContract(OutputContract):
    """The fixtures for a store output on ``url`` (given by the subclass)."""

    @pytest.fixture
    async def store(self, url: str) -> AsyncIterator[Store]:
        opened = await Store.open(url)
        yield opened
        await opened.close()

    @pytest.fixture
    async def output(self, store: Store) -> AsyncIterator[Output]:
        out = StoreOutput(store)
        await out.open()
        yield out
        await out.aclose()

    @pytest.fixture
    async def reader(self, url: str) -> AsyncIterator[Store]:
        opened = await Store.open(url)
        yield opened
        await opened.close()

    @pytest.fixture
    def stored(self, reader: Store) -> Stored:
        async def read(collection: Collection) -> list[dict[str, object]]:
            return await reader.find(collection.value, DocQuery())

        return read

    @pytest.fixture
    def break_output(self, store: Store) -> Breaker:
        return store.close

    @pytest.fixture
    async def heal_output(self, url: str) -> AsyncIterator[Healer]:
        reopened: list[Store] = []

        async def heal() -> Output:  # as after a restart: the database is opened again
            reopened.append(await Store.open(url))
            out = StoreOutput(reopened[-1])
            await out.open()
            return out

        yield heal
        for opened in reopened:
            await opened.close()

    async def test_failure_mid_batch_writes_nothing(self, store: Store, stored: Stored) -> None:
        async with store._write() as conn:
            if store.dialect == "postgresql":
                for statement in _PG_POISON:
                    await conn.exec_driver_sql(statement)
            else:
                await conn.exec_driver_sql(_SQLITE_POISON)
        output = StoreOutput(store)
        batch = entries(5)
        batch[3].device = "poison"
        with pytest.raises(RetriableError, match="poisoned"):
            await output.write(Collection.ENTRIES, batch)
        assert await stored(Collection.ENTRIES) == []
        assert await output.newest(Collection.ENTRIES) is None
        assert (await output.write(Collection.ENTRIES, batch[:3])).created == 3
        assert await output.newest(Collection.ENTRIES) == T0 + 2 * 300_000


class TestStoreOutputSQLite(StoreContract):
    @pytest.fixture
    def url(self, sqlite_url: str) -> str:
        return sqlite_url


@pytest.mark.postgres
class TestStoreOutputPostgres(StoreContract):
    @pytest.fixture
    def url(self, pg_url: str) -> str:
        return pg_url


async def test_open_fails_on_closed_store(sqlite_url: str) -> None:
    store = await Store.open(sqlite_url)
    await store.close()
    with pytest.raises(RetriableError):
        await StoreOutput(store).open()
