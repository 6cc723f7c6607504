"""SQLite's own connections: the connector path without SQLAlchemy, serialised writers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

from nightbridge.store import DocQuery, Store

_CONNECTOR_PATH = textwrap.dedent(
    """
    import asyncio, sys
    from nightbridge.store import Store

    def loaded():
        return sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "aiosqlite"))

    async def main(path):
        store = await Store.open(path)
        result = await store.upsert("entries", [{"identifier": "a", "date": 5, "type": "sgv"}])
        assert result.created == 1, result
        assert await store.newest_date("entries") == 5
        await store.set_cursor("acc", "out", 5)
        assert await store.get_cursor("acc", "out") == 5
        batch = await store.add_pending("acc", "out", "entries", [{"x": 1}])
        assert [b.id for b in await store.list_pending("acc", "out")] == [batch]
        await store.drop_pending(batch)
        assert await store.count_pending() == 0
        await store.record_run("acc", "simulator", ok=True, at_ms=7)
        assert (await store.connector_status())[0].last_success_ms == 7
        print("connector", loaded())
        assert len(await store.find("entries")) == 1
        print("query", bool(loaded()))
        await store.close()

    asyncio.run(main(sys.argv[1]))
    """
)


def test_connector_path_imports_no_sqlalchemy(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CONNECTOR_PATH, str(tmp_path / "n.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["connector []", "query True"]


async def test_concurrent_writers_serialise(store: Store) -> None:
    batches = [[{"identifier": f"{i}-{j}", "date": j} for j in range(50)] for i in range(8)]
    results = await asyncio.gather(
        *(store.upsert("entries", batch) for batch in batches),
        *(store.set_cursor("acc", f"out{i}", i) for i in range(8)),
    )
    assert sum(r.created for r in results[:8] if r is not None) == 400
    assert await store.count("entries") == 400
    assert [await store.get_cursor("acc", f"out{i}") for i in range(8)] == list(range(8))


async def test_cancelled_write_leaves_the_store_usable(store: Store) -> None:
    docs = [{"identifier": f"c{j}", "date": j} for j in range(2000)]
    task = asyncio.create_task(store.upsert("entries", docs))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    stored = await store.count("entries")
    assert stored in (0, 2000)  # one transaction: all or nothing
    result = await store.upsert("entries", docs)
    assert result.created == 2000 - stored
    assert await store.count("entries") == 2000


async def test_two_stores_on_one_file_both_write(sqlite_url: str) -> None:
    first, second = await asyncio.gather(Store.open(sqlite_url), Store.open(sqlite_url))
    try:
        writes = [
            (first if i % 2 else second).upsert("entries", [{"identifier": f"t{i}", "date": i}])
            for i in range(20)
        ]
        results = await asyncio.gather(*writes)
        assert sum(r.created for r in results) == 20
        assert await first.count("entries", DocQuery()) == 20
        assert await second.newest_date("entries") == 19
    finally:
        await first.close()
        await second.close()
