"""What a document query asks for: ``DocQuery`` of ``Filter``s, and result projection.

Plain values, no SQL: the connector path imports this without SQLAlchemy. ``queries.py``
translates a ``DocQuery`` to SQL (see its docstring for the typing rules of a filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "re"]
OPS: frozenset[str] = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "re"})


@dataclass(frozen=True, slots=True)
class Filter:
    """``field <op> value``; the typing rules are in ``queries.py``."""

    field: str
    op: Op
    value: Any

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unsupported filter operator {self.op!r}")
        if not self.field or self.field.startswith(".") or ".." in self.field:
            raise ValueError(f"bad field name {self.field!r}")
        if self.op in ("in", "nin") and isinstance(self.value, str | bytes | dict):
            raise ValueError(f"{self.op} needs a sequence of values")
        if self.op == "re" and not isinstance(self.value, str):
            raise ValueError("re needs a pattern string")


@dataclass(frozen=True, slots=True)
class DocQuery:
    """What ``Store.find``/``count``/``delete_matching`` select. All parts are ANDed.

    ``sort`` is a tuple of (field, descending). ``limit``/``skip`` page the result.
    Soft-deleted documents are left out unless ``include_invalid``. ``modified_since``
    keeps documents with ``srvModified`` strictly greater (epoch ms; v3 history).
    ``fields`` projects each result to those top-level fields (None: the whole document).
    """

    filters: tuple[Filter, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    skip: int = 0
    include_invalid: bool = False
    modified_since: int | None = None
    fields: tuple[str, ...] | None = None


def project(doc: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """``doc`` reduced to ``fields`` (top-level names; ``_all`` or None keeps everything)."""
    if fields is None or "_all" in fields:
        return doc
    return {name: doc[name] for name in fields if name in doc}


__all__ = ["OPS", "DocQuery", "Filter", "Op", "project"]
