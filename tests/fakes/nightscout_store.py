"""In-memory collections of the fake Nightscout, indexed by the keys the real server upserts on.

One ``Collection`` per Mongo collection, shared by v1 and v3 as in cgm-remote-monitor. Stored
documents are plain dicts with a 24-hex ``_id``; tests read them through ``FakeNightscout``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

Key = tuple[Any, ...]

#: v3 fallback de-dup fields per collection, matched only against documents without identifier.
FALLBACK_FIELDS: dict[str, tuple[str, ...]] = {
    "devicestatus": ("created_at", "device"),
    "entries": ("date", "type"),
    "food": ("created_at",),
    "profile": ("created_at",),
    "treatments": ("created_at", "eventType"),
}

_ids = itertools.count(0x65F000000000000000000000)


def new_object_id() -> str:
    """A fresh 24-hex id, like a MongoDB ObjectId."""
    return f"{next(_ids):024x}"


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


class Collection:
    """Documents in insertion order plus a key index (verified on lookup, so it never lies)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.docs: list[dict[str, Any]] = []
        self._index: dict[Key, dict[str, Any]] = {}

    def keys(self, doc: dict[str, Any]) -> list[Key]:
        """Every index key ``doc`` answers to."""
        out: list[Key] = []
        if "_id" in doc:
            out.append(("_id", doc["_id"]))
        if doc.get("identifier") is not None:
            out.append(("identifier", _hashable(doc["identifier"])))
        elif (fields := FALLBACK_FIELDS.get(self.name)) and all(f in doc for f in fields):
            out.append(("fallback", *(_hashable(doc[f]) for f in fields)))
        if self.name == "entries" and "sysTime" in doc and "type" in doc:
            out.append(("sysTime", _hashable(doc["sysTime"]), _hashable(doc["type"])))
        if self.name == "treatments" and "created_at" in doc and "eventType" in doc:
            out.append(("ce", _hashable(doc["created_at"]), _hashable(doc["eventType"])))
        return out

    def find(self, key: Key) -> dict[str, Any] | None:
        """The stored document answering to ``key``, or None."""
        doc = self._index.get(key)
        if doc is not None and key in self.keys(doc):
            return doc
        if doc is not None:
            del self._index[key]
        return None

    def insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Store ``doc`` (giving it an ``_id`` if it has none) and return it."""
        doc.setdefault("_id", new_object_id())
        self.docs.append(doc)
        self._reindex(doc)
        return doc

    def replace(self, stored: dict[str, Any], new: dict[str, Any], merge: bool = False) -> None:
        """Replace (or ``$set``-merge) the stored document in place; ``_id`` is kept."""
        keep = stored["_id"]
        if not merge:
            stored.clear()
        stored.update(new)
        stored["_id"] = keep
        self._reindex(stored)

    def remove(self, doc: dict[str, Any]) -> None:
        self.docs = [d for d in self.docs if d is not doc]
        for key in self.keys(doc):
            if self._index.get(key) is doc:
                del self._index[key]

    def clear(self) -> None:
        self.docs.clear()
        self._index.clear()

    def _reindex(self, doc: dict[str, Any]) -> None:
        for key in self.keys(doc):
            self._index.setdefault(key, doc)
            if self.find(key) is None:
                self._index[key] = doc

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.docs)

    def __len__(self) -> int:
        return len(self.docs)
