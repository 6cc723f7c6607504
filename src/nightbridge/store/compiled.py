"""SQLAlchemy Core statements as SQLite SQL text, for the store's own ``sqlite3`` connections.

Imported on the first statement built with SQLAlchemy (the server's queries, v1 writes, the
v3 single-document operations); the connector path never needs it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

_COMPILED_MAX = 256


class SqliteCompiler:
    """Compiles statements for SQLite (``?`` placeholders), once per statement shape."""

    def __init__(self) -> None:
        self._dialect = SQLiteDialect_pysqlite(paramstyle="qmark")
        self._compiled: OrderedDict[Any, Any] = OrderedDict()

    def sql(self, stmt: Any) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and positional parameters of ``stmt``.

        This is what SQLAlchemy's own execution does with its compiled cache (cache key,
        parameters extracted from the new statement, ``IN`` lists expanded, bind
        processors applied); it uses SQLAlchemy 2's compiler internals for that.
        """
        key = stmt._generate_cache_key()
        compiled: Any
        extracted = None
        if key is None:  # an uncacheable construct: compile this one statement
            compiled = stmt.compile(dialect=self._dialect)
        else:
            compiled = self._compiled.get(key.key)
            if compiled is None:
                compiled = stmt.compile(dialect=self._dialect, cache_key=key)
                self._compiled[key.key] = compiled
                if len(self._compiled) > _COMPILED_MAX:
                    self._compiled.popitem(last=False)
            extracted = key.bindparams
        params = compiled.construct_params(extracted_parameters=extracted, _no_postcompile=True)
        sql, names, processors = compiled.string, compiled.positiontup, compiled._bind_processors
        if compiled.post_compile_params or compiled.literal_execute_params:
            state = compiled._process_parameters_for_postcompile(params)
            sql, names, params, processors = (
                state.statement,
                state.positiontup,
                state.parameters,
                state.processors,
            )
        values = tuple(
            processors[name](params[name]) if name in processors else params[name] for name in names
        )
        return sql, values
