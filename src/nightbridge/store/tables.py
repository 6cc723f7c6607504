"""The schema as SQLAlchemy Core tables, for building queries.

The DDL that creates these tables lives in ``migrations/*.sql`` (one file per version and
dialect); ``tests/store/test_migrations.py`` checks that the migrated database has exactly the
columns declared here. Differences by dialect, invisible to the query code:

- ``documents.doc`` is ``TEXT`` holding JSON on SQLite and ``JSONB`` on PostgreSQL; both take a
  JSON string on write. On read SQLite gives the string, PostgreSQL the decoded dict.
- Text key columns are ``COLLATE "C"`` on PostgreSQL so they compare and sort by bytes, as SQLite
  and MongoDB do.

All times are epoch milliseconds (UTC) in ``BIGINT`` columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Dialect, Integer, MetaData, Table, Text
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType


class _RawJSONB(UserDefinedType[str]):
    """PostgreSQL JSONB passed as JSON text (no SQLAlchemy serialisation on the way in)."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "JSONB"


class JSONText(TypeDecorator[str]):
    """A JSON document column written as JSON text (already encoded by the caller)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_RawJSONB())
        return dialect.type_descriptor(Text())


metadata = MetaData()

#: Every Nightscout document of every collection. ``doc`` is the client's JSON without the
#: server fields (``identifier``, ``srvCreated``, ``srvModified``, ``isValid``), which live in
#: their own columns and are merged back on read. The other columns copy document fields only
#: when they have the column's JSON type (``date`` a number, ``type`` a string ...), else NULL.
documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("collection", Text, nullable=False),
    Column("identifier", Text, nullable=False),
    Column("date", BigInteger),
    Column("natural_key", Text),
    Column("device", Text),
    Column("type", Text),
    Column("event_type", Text),
    Column("created_at", Text),
    Column("srv_created", BigInteger, nullable=False),
    Column("srv_modified", BigInteger, nullable=False),
    Column("is_valid", Boolean, nullable=False),
    #: True when the client sent no identifier and the server chose it (a v1 write): only such
    #: documents are candidates for the v3 fallback de-duplication (nightscout-api.md §4.5).
    Column("assigned_identifier", Boolean, nullable=False),
    #: blake2b of ``doc`` with sorted keys: "identical content" without comparing documents.
    Column("digest", Text, nullable=False),
    Column("doc", JSONText, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("account", Text, primary_key=True),
    Column("output", Text, primary_key=True),
    Column("position_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

pending = Table(
    "pending",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("account", Text, nullable=False),
    Column("output", Text, nullable=False),
    Column("collection", Text, nullable=False),
    Column("docs", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

connector_status = Table(
    "connector_status",
    metadata,
    Column("account", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("last_success_ms", BigInteger),
    Column("last_error_ms", BigInteger),
    Column("last_error_family", Text),
    Column("last_error_message", Text),
    Column("next_poll_ms", BigInteger),
    Column("newest_ms", BigInteger),
)

roles = Table(
    "roles",
    metadata,
    Column("name", Text, primary_key=True),
    Column("permissions", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("roles", Text, nullable=False),
    Column("access_token", Text, nullable=False, unique=True),
    Column("notes", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

schema_versions = Table(
    "nb_schema_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_ms", BigInteger, nullable=False),
)
