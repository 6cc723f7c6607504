"""Connecting: database URLs, the connections per dialect, transactions and error mapping.

Accepted URLs (``NIGHTBRIDGE_DATABASE_URL``):

- a plain file path or ``sqlite:///abs/path.db`` (``sqlite+aiosqlite:///`` also accepted)
  -> SQLite through the ``sqlite3`` module (``store.sqlite``: WAL, ``synchronous=NORMAL``,
  10 s busy timeout, ``REGEXP``; writes on one thread with ``BEGIN IMMEDIATE``);
- ``postgresql://``, ``postgres://``, ``postgresql+asyncpg://`` or ``postgresql+psycopg://``
  -> PostgreSQL through SQLAlchemy and asyncpg (``store.postgres``).

SQLAlchemy is imported only for PostgreSQL or for statements built with it: a SQLite store
used by the connectors runs plain SQL (``dialect_sql`` adapts its ``?`` placeholders to
PostgreSQL's ``$n``). Every database failure surfaces as ``RetriableError`` with the URL's
password redacted.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from nightbridge.errors import ConfigError, RetriableError, redact
from nightbridge.store.sqlite import SqliteFile

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

_URL_VARIABLE = "NIGHTBRIDGE_DATABASE_URL"
_PG_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg")
_SQLITE_SCHEMES = ("sqlite", "sqlite+aiosqlite", "sqlite+pysqlite")
_URL = re.compile(r"^([\w+]+)://(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DatabaseURL:
    """A usable database URL: SQLite (``database`` is the file path) or PostgreSQL (``pg``
    is the SQLAlchemy URL). ``drivername``/``database``/``password``/``get_backend_name``
    read as on a SQLAlchemy URL."""

    drivername: str
    database: str | None
    password: str | None = None
    pg: Any = None

    def get_backend_name(self) -> str:
        """ "sqlite" or "postgresql"."""
        return "postgresql" if self.pg is not None else "sqlite"


def normalise_url(url: str) -> DatabaseURL:
    """The database of ``url``; ConfigError names the variable when unusable."""
    text = url.strip()
    if not text:
        raise ConfigError("database URL is empty", variable=_URL_VARIABLE)
    if "://" not in text:
        return DatabaseURL("sqlite", str(Path(text).expanduser().resolve()))
    match = _URL.match(text)
    if match is None:
        raise ConfigError("database URL is not a URL", variable=_URL_VARIABLE)
    scheme, rest = match.groups()
    if scheme in _SQLITE_SCHEMES:
        # As SQLAlchemy reads it: [host]/database[?query]; the query is not used.
        database = unquote(rest.partition("/")[2].partition("?")[0])
        if not database or database == ":memory:":
            raise ConfigError("SQLite needs a file path, not memory", variable=_URL_VARIABLE)
        return DatabaseURL("sqlite", database)
    if scheme in _PG_SCHEMES:
        from nightbridge.store.postgres import parse

        parsed = parse(text)
        if parsed is None:
            raise ConfigError("database URL is not a URL", variable=_URL_VARIABLE)
        return DatabaseURL(parsed.drivername, parsed.database, parsed.password, parsed)
    raise ConfigError(
        f"unsupported database scheme {scheme!r} (sqlite or postgresql)",
        variable=_URL_VARIABLE,
    )


@cache
def dialect_sql(sql: str, dialect: str) -> str:
    """``sql`` written with ``?`` placeholders, in ``dialect``'s style (``$1``, ``$2`` ... on
    PostgreSQL). The SQL must have no ``?`` other than placeholders."""
    if dialect != "postgresql":
        return sql
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


class Connection(Protocol):
    """A connection in a transaction: plain SQL and SQLAlchemy Core statements."""

    async def exec_driver_sql(self, sql: str, parameters: Any = ...) -> Any: ...
    async def execute(self, stmt: Any) -> Any: ...


class Database:
    """An open database with transaction helpers; the Store's mixins build on it."""

    def __init__(self, url: DatabaseURL) -> None:
        #: "sqlite" or "postgresql".
        self.dialect = url.get_backend_name()
        self._secrets = (url.password,) if url.password else ()
        self._closed = False
        self._file: SqliteFile | None = None
        self._engine: AsyncEngine | None = None
        self._errors: tuple[type[BaseException], ...]
        self._integrity_errors: tuple[type[BaseException], ...]
        if url.pg is None:
            assert url.database is not None
            self._file = SqliteFile(url.database)
            self._errors = (sqlite3.Error, OSError)
            self._integrity_errors = (sqlite3.IntegrityError,)
        else:
            from nightbridge.store import postgres

            self._engine = postgres.create_engine(url.pg)
            self._errors = postgres.ERRORS
            self._integrity_errors = postgres.INTEGRITY_ERRORS

    def _sql(self, sql: str) -> str:
        """``sql`` with ``?`` placeholders for this database (``dialect_sql``)."""
        return dialect_sql(sql, self.dialect)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Connection]:
        """A write transaction (committed when the block ends, rolled back on error)."""
        async with self._connection(write=True) as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[Connection]:
        """A read connection (on PostgreSQL a read transaction)."""
        async with self._connection(write=False) as conn:
            yield conn

    @asynccontextmanager
    async def _connection(self, *, write: bool) -> AsyncIterator[Connection]:
        if self._closed:
            raise RetriableError("the store is closed")
        try:
            if self._file is not None:
                async with self._file.transaction(write=write) as conn:
                    yield conn
            else:
                from nightbridge.store.postgres import transaction

                assert self._engine is not None
                async with transaction(self._engine) as pg_conn:
                    yield pg_conn
        except self._errors as exc:
            raise RetriableError(self._describe(exc)) from exc

    def _describe(self, exc: BaseException) -> str:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return redact(f"database error: {first_line[:300]}", self._secrets)

    async def ping(self) -> bool:
        """True when the database answers a trivial query (readiness probe); never raises."""
        try:
            async with self._read() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except RetriableError:
            return False
        return True

    async def close(self) -> None:
        """Close every connection; any later call raises RetriableError."""
        self._closed = True
        if self._file is not None:
            await self._file.close()
        if self._engine is not None:
            await self._engine.dispose()
