"""PostgreSQL through SQLAlchemy's async engine and asyncpg (imported only for PostgreSQL).

The libpq ``options`` query parameter of the URL is understood for ``-c name=value``
settings, e.g. ``?options=-csearch_path%3Dmyschema``. Plain SQL of the store runs through
``exec_driver_sql`` with ``$1``-style placeholders (``db.dialect_sql``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: What a failing PostgreSQL statement raises (mapped to RetriableError by the store).
ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
#: A unique or other constraint violated.
INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (IntegrityError,)


def parse(text: str) -> URL | None:
    """``text`` as a SQLAlchemy URL with the asyncpg driver, or None when it is no URL."""
    try:
        return make_url(text).set(drivername="postgresql+asyncpg")
    except ArgumentError:
        return None


def create_engine(url: URL) -> AsyncEngine:
    """An async engine for the asyncpg ``url`` (``options`` turned into server settings)."""
    settings = _server_settings(url.query.get("options"))
    url = url.difference_update_query(["options"])
    return create_async_engine(
        url,
        json_deserializer=orjson.loads,
        connect_args={"server_settings": settings} if settings else {},
        pool_size=5,
        max_overflow=10,
    )


def _server_settings(options: str | tuple[str, ...] | None) -> dict[str, str]:
    """``-c name=value`` pairs of a libpq ``options`` string as asyncpg server settings."""
    if options is None:
        return {}
    text = options if isinstance(options, str) else " ".join(options)
    pairs = re.findall(r"-c\s*([A-Za-z_.]+)=(\S+)", text)
    return dict(pairs)


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection in a transaction, committed when the block ends."""
    async with engine.connect() as conn, conn.begin():
        yield conn
