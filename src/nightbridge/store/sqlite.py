"""SQLite through the ``sqlite3`` module: one write connection on its own thread, plus reads.

No SQLAlchemy here: the connector path (upsert, newest date, engine state) runs plain SQL, so
an idle ``nightbridge forever`` does not pay for importing it. Statements built with SQLAlchemy
Core (the server's queries) are compiled to SQL text by ``compiled.SqliteCompiler``, imported
on first use, and run on these same connections.

- **Writes**: one ``sqlite3`` connection, used only by one worker thread, so the event loop
  never waits on the disk. A write transaction holds an ``asyncio.Lock`` (one writer per
  store) and starts with ``BEGIN IMMEDIATE``, so a read-then-write never fails on a lock
  upgrade; other processes (or stores) on the same file wait up to the 10 s busy timeout.
- **Reads**: ``reader.SqliteReader`` (``query_only`` connections; WAL, so they never block the
  writer and see every committed write).

Every connection: WAL, ``synchronous=NORMAL``, a ``REGEXP`` function (Python ``re.search``).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from nightbridge.store.compiled import SqliteCompiler
    from nightbridge.store.reader import SqliteReader

T = TypeVar("T")

#: Milliseconds a statement waits for another process's write lock before failing.
BUSY_TIMEOUT_MS = 10_000


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regexp(pattern: str | None, value: object) -> bool | None:
    """SQLite's ``value REGEXP pattern``: NULL for NULL, else ``re.search``."""
    if pattern is None or value is None:
        return None
    return _compiled(pattern).search(str(value)) is not None


class Result:
    """The rows of one statement (plain tuples) and its ``rowcount``; the part of
    SQLAlchemy's ``Result`` interface the store uses, so mixins run on both databases."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int = -1) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise sqlite3.ProgrammingError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def _execute(conn: sqlite3.Connection, sql: str, parameters: Any) -> Result:
    """One statement; a ``list`` of parameter tuples runs it once per tuple (executemany)."""
    if isinstance(parameters, list):
        cursor = conn.executemany(sql, parameters)
    else:
        cursor = conn.execute(sql, parameters)
    rows = cursor.fetchall()
    return Result(rows, cursor.rowcount)


def _begin(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # left over by a cancelled task: never build on it
        conn.rollback()
    conn.execute("BEGIN IMMEDIATE")


def _commit(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.commit()


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.rollback()


class WriteConnection:
    """The connection of one write transaction (statements run on the writer thread)."""

    def __init__(self, file: SqliteFile) -> None:
        self._file = file

    async def exec_driver_sql(self, sql: str, parameters: Any = ()) -> Result:
        """Run ``sql`` (``?`` placeholders); ``parameters`` a tuple, or a list of tuples."""
        return await self._file.call(_execute, sql, parameters)

    async def execute(self, stmt: Any) -> Result:
        """Run a SQLAlchemy Core statement."""
        sql, values = self._file.compiler.sql(stmt)
        return await self.exec_driver_sql(sql, values)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the writer thread: several statements for one thread hop."""
        return await self._file.call(fn)


class ReadConnection:
    """Reads outside a transaction, each seeing the newest commit (``SqliteReader``)."""

    def __init__(self, reader: SqliteReader) -> None:
        self._reader = reader

    async def exec_driver_sql(self, sql: str, parameters: Any = ()) -> Result:
        return Result(await self._reader.rows_sql(sql, parameters))

    async def execute(self, stmt: Any) -> Result:
        return Result(await self._reader.rows(stmt))


def _connect(path: str) -> sqlite3.Connection:
    # The busy timeout comes first: switching to WAL needs a lock another process (or a second
    # store on the same file) may hold for a moment.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Only a new, empty file takes it (before WAL is set). Bigger pages make the random-order
    # identifier index cheaper to grow: the bulk upsert costs ~20 % less than with 4 KiB.
    conn.execute("PRAGMA page_size=16384")
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.create_function("regexp", 2, regexp, deterministic=True)
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (kept in the file). SQLite answers BUSY to that switch without
    consulting the busy handler while another connection opens the same new file, so wait here.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, None)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteFile:
    """The connections of one store to the SQLite file at ``path``; ``await close()``."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="nightbridge-write")
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._compiler: SqliteCompiler | None = None
        self._reader: SqliteReader | None = None

    @property
    def compiler(self) -> SqliteCompiler:
        """SQLAlchemy statements to SQL text (imports SQLAlchemy on first use)."""
        if self._compiler is None:
            from nightbridge.store.compiled import SqliteCompiler

            self._compiler = SqliteCompiler()
        return self._compiler

    @property
    def reader(self) -> SqliteReader:
        """The read connections, opened on the first read."""
        if self._reader is None:
            from nightbridge.store.reader import SqliteReader

            self._reader = SqliteReader(self.path, lambda: self.compiler)
        return self._reader

    def _with_connection(self, fn: Callable[..., T], *args: Any) -> T:
        if self._conn is None:
            self._conn = _connect(self.path)
        return fn(self._conn, *args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        try:
            job = loop.run_in_executor(self._thread, partial(self._with_connection, fn, *args))
        except RuntimeError:  # the thread was shut down: the store closed under this call
            raise sqlite3.ProgrammingError("the store is closed") from None
        return await job

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[WriteConnection | ReadConnection]:
        """A write transaction (committed at the end of the block, rolled back on error), or
        a read connection (no transaction)."""
        if not write:
            yield ReadConnection(self.reader)
            return
        async with self._lock:
            await self.call(_begin)
            try:
                yield WriteConnection(self)
                await asyncio.shield(self.call(_commit))
            except BaseException:
                await asyncio.shield(self.call(_rollback))
                raise

    async def close(self) -> None:
        """Close the reader and the write connection (after the statement in flight)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            await asyncio.to_thread(reader.close)
        await asyncio.to_thread(self._thread.shutdown, wait=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
