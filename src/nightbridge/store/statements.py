"""The document statements built with SQLAlchemy Core (imported on first use).

Everything the connector path runs (bulk upsert, newest date, engine state) is plain SQL
elsewhere; these are the server's queries and single-document writes, and PostgreSQL's
upsert classification. Each function returns a statement for ``Database`` to execute.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ARRAY,
    Delete,
    Insert,
    Select,
    Text,
    Update,
    any_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import ReturningDelete

from nightbridge.store.docquery import DocQuery
from nightbridge.store.queries import QueryCompiler
from nightbridge.store.tables import documents

c = documents.c

#: The columns ``documents.doc_from_row`` decodes.
DOC_COLUMNS = (c.doc, c.identifier, c.srv_created, c.srv_modified, c.is_valid)


def existing(collection: str, identifiers: list[str], *, pg: bool) -> Select[Any]:
    """identifier, digest, is_valid, srv_created of the stored ``identifiers``."""
    match = (
        c.identifier == any_(bindparam("ids", identifiers, type_=ARRAY(Text)))
        if pg
        else c.identifier.in_(identifiers)
    )
    cols = (c.identifier, c.digest, c.is_valid, c.srv_created)
    return select(*cols).where(c.collection == collection, match)


def insert_new(dialect: str, row: dict[str, Any]) -> Insert:
    """Insert ``row`` unless its (collection, identifier) exists, returning the new id."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(documents)
        .values(row)
        .on_conflict_do_nothing(index_elements=["collection", "identifier"])
        .returning(c.id)
    )


def remove_returning_created(collection: str, identifier: str) -> ReturningDelete[Any]:
    """Delete one document, returning its ``srv_created``."""
    where = (c.collection == collection) & (c.identifier == identifier)
    return delete(documents).where(where).returning(c.srv_created)


def get(collection: str, identifier: str) -> Select[Any]:
    """The ``DOC_COLUMNS`` of one document."""
    stmt = select(*DOC_COLUMNS).where(c.collection == collection, c.identifier == identifier)
    return stmt.limit(1)


def find(dialect: str, collection: str, query: DocQuery, *columns: Any) -> Select[Any]:
    """``columns`` of the documents matching ``query``, sorted and paged."""
    compiler = QueryCompiler(dialect)
    return (
        select(*columns)
        .where(compiler.where(collection, query))
        .order_by(*compiler.order_by(query))
        .offset(query.skip or None)
        .limit(query.limit)
    )


def find_raw_columns(dialect: str) -> tuple[Any, ...]:
    """The columns of ``documents.RawDoc`` (the body as JSON text on both databases)."""
    body = c.doc if dialect == "sqlite" else cast(c.doc, Text)
    return (body, c.identifier, c.srv_created, c.srv_modified, c.is_valid, c.date)


def count(dialect: str, collection: str, query: DocQuery) -> Select[Any]:
    """How many documents match ``query``'s filters."""
    stmt = select(func.count()).select_from(documents)
    return stmt.where(QueryCompiler(dialect).where(collection, query))


def find_natural(collection: str, key: str, *, assigned_only: bool) -> Select[Any]:
    """The ``DOC_COLUMNS`` of the best document with natural key ``key``."""
    stmt = select(*DOC_COLUMNS).where(c.collection == collection, c.natural_key == key)
    if assigned_only:
        stmt = stmt.where(c.assigned_identifier == true())
    return stmt.order_by(c.is_valid.desc(), c.srv_modified.desc()).limit(1)


def remove(collection: str, identifier: str, *, soft_at_ms: int | None) -> Delete | Update:
    """Delete one document, or with ``soft_at_ms`` mark it deleted at that time."""
    where = (c.collection == collection) & (c.identifier == identifier)
    if soft_at_ms is None:
        return delete(documents).where(where)
    return update(documents).where(where).values(is_valid=False, srv_modified=soft_at_ms)


def remove_matching(dialect: str, collection: str, query: DocQuery) -> Delete:
    """Delete the documents matching ``query``'s filters."""
    return delete(documents).where(QueryCompiler(dialect).where(collection, query))


def natural_load(collection: str, idents: list[str], keys: list[str]) -> Select[Any]:
    """What ``upsert_natural`` needs of the documents with these identifiers or natural
    keys, deleted and oldest first."""
    cols = (c.identifier, c.doc, c.digest, c.is_valid, c.srv_created, c.srv_modified)
    return (
        select(*cols, c.assigned_identifier, c.natural_key)
        .where(c.collection == collection)
        .where(or_(c.identifier.in_(idents), c.natural_key.in_(keys)))
        .order_by(c.is_valid.asc(), c.srv_modified.asc())
    )
