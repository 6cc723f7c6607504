"""Document queries: ``DocQuery`` and its translation to SQL for SQLite and PostgreSQL.

A ``Filter`` works on any document field, dotted for nested objects (``pump.reservoir``).
Comparison is **type-aware, like MongoDB**: the value's Python type picks the JSON type that
can match. An ``int``/``float`` compares numerically with JSON numbers only, a ``str``
compares as text (byte order) with JSON strings only, a ``bool`` matches JSON true/false, and
``None`` matches a missing field or JSON null. So ``Filter("sgv", "gt", 100)`` never matches a
document that stored ``"sgv": "199"``. ``ne`` and ``nin`` are the negation of ``eq``/``in`` and
so also match documents where the field is missing or of another type. ``in``/``nin`` take a
sequence, mixing types is fine. ``re`` takes a pattern string (Python ``re`` syntax on SQLite,
POSIX ARE on PostgreSQL; ``(?i)`` at the start works on both) and matches string fields.

Fields with their own column (``identifier, date, device, type, eventType, created_at,
srvCreated, srvModified``) are answered from indexed columns; the others from the JSON
(``json_extract`` / ``jsonb #>``). Sorting on mixed JSON types follows each database's type
order; missing values sort first ascending and last descending. Ties are broken by insertion
order in the direction of the last sort key; without ``sort`` the order is insertion order.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Numeric,
    Text,
    and_,
    bindparam,
    case,
    cast,
    collate,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.sql.elements import UnaryExpression

from nightbridge.store.docquery import OPS, DocQuery, Filter, Op, project
from nightbridge.store.tables import documents

_INT_COLUMNS = {
    "date": documents.c.date,
    "srvCreated": documents.c.srv_created,
    "srvModified": documents.c.srv_modified,
}
_TEXT_COLUMNS = {
    "identifier": documents.c.identifier,
    "device": documents.c.device,
    "type": documents.c.type,
    "eventType": documents.c.event_type,
    "created_at": documents.c.created_at,
}
#: Fields that never appear inside the stored JSON (server fields).
_SERVER_ONLY = frozenset({"identifier", "srvCreated", "srvModified"})

_OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

_Kind = Literal["number", "text", "bool", "null"]


def _kind(value: Any) -> _Kind:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    raise ValueError(f"cannot filter on a {type(value).__name__} value")


class QueryCompiler:
    """Turns ``DocQuery`` parts into SQLAlchemy expressions for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def where(self, collection: str, query: DocQuery) -> ColumnElement[bool]:
        """The WHERE clause of ``query`` in ``collection``."""
        clauses: list[ColumnElement[bool]] = [documents.c.collection == collection]
        if not query.include_invalid:
            clauses.append(documents.c.is_valid == true())
        if query.modified_since is not None:
            clauses.append(documents.c.srv_modified > query.modified_since)
        clauses.extend(self.condition(f) for f in query.filters)
        return and_(*clauses)

    def order_by(self, query: DocQuery) -> list[UnaryExpression[Any]]:
        """ORDER BY expressions; missing values first ascending, last descending."""
        result: list[UnaryExpression[Any]] = []
        for field, descending in query.sort:
            expr = self._sort_expr(field)
            result.append(expr.desc().nulls_last() if descending else expr.asc().nulls_first())
        last_desc = bool(query.sort) and query.sort[-1][1]
        result.append(documents.c.id.desc() if last_desc else documents.c.id.asc())
        return result

    def condition(self, flt: Filter) -> ColumnElement[bool]:
        """The SQL condition of one filter."""
        if flt.op in ("in", "nin"):
            values: Sequence[Any] = list(flt.value)
            hit = or_(false(), *(self._compare(flt.field, "eq", v) for v in values))
            return hit if flt.op == "in" else not_(func.coalesce(hit, false()))
        if flt.op == "ne":
            return not_(func.coalesce(self._compare(flt.field, "eq", flt.value), false()))
        if flt.op == "re":
            text = self._typed(flt.field, "text")
            if self.dialect == "postgresql":
                return text.op("~")(literal(flt.value, Text)).self_group()
            return text.op("REGEXP")(literal(flt.value, Text))
        return self._compare(flt.field, flt.op, flt.value)

    def _compare(self, field: str, op: str, value: Any) -> ColumnElement[bool]:
        kind = _kind(value)
        if kind == "null":
            if op != "eq":
                raise ValueError(f"{op} with None is not supported")
            return self._is_missing(field)
        if kind == "bool":
            if op != "eq":
                raise ValueError(f"{op} with a boolean is not supported")
            return self._typed(field, "bool") == ("true" if value else "false")
        if field in _SERVER_ONLY and (kind == "text") != (field == "identifier"):
            return false()  # server fields have one type: no value of another type matches
        expr = self._typed(field, kind)
        return _OPERATORS[op](expr, self._param(field, kind, value))

    def _param(self, field: str, kind: _Kind, value: Any) -> Any:
        if kind == "text":
            return literal(value, Text)
        if self.dialect != "postgresql" or (field in _INT_COLUMNS and isinstance(value, int)):
            return value
        # asyncpg types a parameter from its context: make it NUMERIC for JSON numbers.
        return cast(literal(value, Numeric), Numeric)

    def _typed(self, field: str, kind: _Kind) -> ColumnElement[Any]:
        """The field's value when its JSON type is ``kind``, else NULL."""
        if kind == "number" and field in _INT_COLUMNS:
            return _INT_COLUMNS[field]
        if kind == "text" and field in _TEXT_COLUMNS:
            return _TEXT_COLUMNS[field]
        if self.dialect == "postgresql":
            return self._pg_typed(field, kind)
        return self._sqlite_typed(field, kind)

    def _sqlite_typed(self, field: str, kind: _Kind) -> ColumnElement[Any]:
        path = literal(_sqlite_path(field), Text)
        json_type = func.json_type(documents.c.doc, path)
        if kind == "bool":
            return case((json_type.in_(["true", "false"]), json_type))
        wanted = ["integer", "real"] if kind == "number" else ["text"]
        return case((json_type.in_(wanted), func.json_extract(documents.c.doc, path)))

    def _pg_typed(self, field: str, kind: _Kind) -> ColumnElement[Any]:
        path = bindparam(None, field.split("."), type_=ARRAY(Text))
        node = documents.c.doc.op("#>")(path)
        node_text = documents.c.doc.op("#>>", return_type=Text)(path)
        json_type = func.jsonb_typeof(node)
        if kind == "number":
            return case((json_type == "number", cast(node_text, Numeric)))
        if kind == "bool":
            return case((json_type == "boolean", node_text))
        return collate(case((json_type == "string", node_text)), "C")

    def _is_missing(self, field: str) -> ColumnElement[bool]:
        if field in _SERVER_ONLY:
            column = {**_INT_COLUMNS, **_TEXT_COLUMNS}[field]
            return column.is_(None)
        if self.dialect == "postgresql":
            path = bindparam(None, field.split("."), type_=ARRAY(Text))
            node = documents.c.doc.op("#>")(path)
            return or_(node.is_(None), func.jsonb_typeof(node) == "null")
        json_type = func.json_type(documents.c.doc, literal(_sqlite_path(field), Text))
        return or_(json_type.is_(None), json_type == "null")

    def _sort_expr(self, field: str) -> ColumnElement[Any]:
        if field in _INT_COLUMNS:
            return _INT_COLUMNS[field]
        if field in _TEXT_COLUMNS:
            return _TEXT_COLUMNS[field]
        if self.dialect == "postgresql":
            path = bindparam(None, field.split("."), type_=ARRAY(Text))
            return documents.c.doc.op("#>")(path)
        return func.json_extract(documents.c.doc, literal(_sqlite_path(field), Text))


def _sqlite_path(field: str) -> str:
    """``$."a"."b"`` for ``a.b`` (quoted so any key text works)."""
    parts = (part.replace('"', '\\"') for part in field.split("."))
    return "$" + "".join(f'."{part}"' for part in parts)


__all__ = ["OPS", "DocQuery", "Filter", "Op", "QueryCompiler", "project"]
