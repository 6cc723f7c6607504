"""SQLite reads: short queries inline on the event loop, long ones in a thread.

Why not a thread hop per query: a SQLAlchemy async transaction over aiosqlite cost about six
hops to aiosqlite's thread per query (checkout, BEGIN, execute, fetch, COMMIT, reset): ~1 ms
even for ``SELECT 1``, and with many clients the event loop waited on the GIL behind those
threads. ``SqliteReader`` reads with plain ``sqlite3`` connections (``query_only``; WAL, so
readers never block the writer):

- every query first runs **inline** on the event loop's own connection, under a budget of
  ``INLINE_BUDGET_S`` (SQLite's progress handler interrupts it when the budget is spent) and
  without a busy timeout. The usual indexed read (a day of entries) takes a fraction of a
  millisecond, less than a thread hop would cost;
- a query that runs out of budget or finds the database busy is run again in the reader's
  small thread pool (one connection per thread, 10 s busy timeout), so a slow query blocks
  the event loop for at most the budget.

Statements are plain SQL (``rows_sql``) or built with SQLAlchemy (queries.py) and compiled by
``compiled.SqliteCompiler``, once per shape. Each SELECT runs outside an explicit transaction
and so sees one consistent snapshot, the newest commit when it starts: a client reads its own
completed writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from nightbridge.store.sqlite import regexp

if TYPE_CHECKING:
    from nightbridge.store.compiled import SqliteCompiler

#: Worker threads (and connections) for the queries that leave the event loop.
THREADS = 2
#: Longest time (seconds) one query may hold the event loop before it moves to a thread.
INLINE_BUDGET_S = 0.003
#: SQLite virtual machine steps between two looks at the clock.
_PROGRESS_STEPS = 2000
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteReader:
    """Read connections to the SQLite file at ``path``; ``close()`` when done."""

    def __init__(
        self, path: str, compiler: Callable[[], SqliteCompiler], threads: int = THREADS
    ) -> None:
        self._path = path
        self._compiler = compiler
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="nightbridge-read")
        self._closed = False
        self._inline_conn: sqlite3.Connection | None = None
        self._deadline = 0.0
        self._interrupted = False

    def _open(self, busy_timeout_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only=1")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.create_function("regexp", 2, regexp, deterministic=True)
        with self._lock:
            self._connections.append(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open(10_000)
        return conn

    def _over_budget(self) -> int:
        if time.perf_counter() > self._deadline:
            self._interrupted = True
            return 1
        return 0

    def _inline(self, sql: str, values: Sequence[Any]) -> list[Any] | None:
        """The rows, or None when the query ran out of budget or met a busy database."""
        conn = self._inline_conn
        if conn is None:
            conn = self._inline_conn = self._open(0)
            conn.set_progress_handler(self._over_budget, _PROGRESS_STEPS)
        self._interrupted = False
        self._deadline = time.perf_counter() + INLINE_BUDGET_S
        try:
            return conn.execute(sql, values).fetchall()
        except sqlite3.OperationalError as exc:
            if self._interrupted or exc.sqlite_errorcode in _BUSY:
                return None
            raise

    def _run(self, sql: str, values: Sequence[Any]) -> list[Any]:
        return self._connection().execute(sql, values).fetchall()

    async def rows(self, stmt: Any) -> list[Any]:
        """Every row of the SQLAlchemy SELECT ``stmt`` as plain tuples; sqlite3 errors
        propagate."""
        if self._closed:
            raise sqlite3.ProgrammingError("the reader is closed")
        sql, values = self._compiler().sql(stmt)
        return await self.rows_sql(sql, values)

    async def rows_sql(self, sql: str, values: Sequence[Any] = ()) -> list[Any]:
        """Every row of the SELECT ``sql`` (``?`` placeholders) as plain tuples."""
        if self._closed:
            raise sqlite3.ProgrammingError("the reader is closed")
        rows = self._inline(sql, values)
        if rows is not None:
            return rows
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, sql, values)

    def close(self) -> None:
        """Stop the threads (waiting for running queries) and close every connection."""
        self._closed = True
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
