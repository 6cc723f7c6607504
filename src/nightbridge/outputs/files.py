"""The ``files`` output: JSON lines, one file per collection (``entries.jsonl`` ...).

Each line is one ``NSDocument.to_nightscout()`` document. Writes are de-duplicated by
identifier: ``open`` reads the identifiers (and newest dates) already in the files, ``write``
appends only unseen ones, flushes and ``fsync``s before it acknowledges. A line torn by a crash
(no final newline) was never acknowledged and is cut off at ``open``; a failed append is
truncated back, so a file never holds half a batch. I/O failures raise ``RetriableError``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson

from nightbridge.errors import RetriableError
from nightbridge.model import Collection, NSDocument
from nightbridge.outputs.base import WriteResult


class FilesOutput:
    """Output ``kind = "files"`` writing into ``directory`` (created if missing)."""

    kind: ClassVar[str] = "files"

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.label = f"files:{self.directory}"
        self._seen: dict[str, set[str]] = {}
        #: collection -> device (None: any) -> newest date (epoch ms)
        self._newest: dict[str, dict[str | None, int]] = {}

    def path(self, collection: Collection) -> Path:
        """The file of ``collection``."""
        return self.directory / f"{collection.value}.jsonl"

    async def open(self) -> None:
        """Create the directory and index what the files already hold."""
        try:
            await asyncio.to_thread(self._load_all)
        except OSError as exc:
            raise RetriableError(f"files output: cannot read {self.directory}: {exc}") from exc

    def _load_all(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for collection in Collection:
            self._seen[collection.value] = set()
            self._newest[collection.value] = {}
            path = self.path(collection)
            if path.is_file():
                self._load(collection.value, path)

    def _load(self, collection: str, path: Path) -> None:
        data = path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            with path.open("r+b") as handle:
                handle.truncate(complete)
        for line in data[:complete].splitlines():
            if line.strip():
                self._remember(collection, orjson.loads(line))

    def _remember(self, collection: str, doc: dict[str, Any]) -> None:
        ident = doc.get("identifier")
        if isinstance(ident, str):
            self._seen[collection].add(ident)
        date = doc.get("date")
        if isinstance(date, int) and not isinstance(date, bool):
            newest = self._newest[collection]
            device = doc.get("device") if isinstance(doc.get("device"), str) else None
            for key in {None, device}:
                if date > newest.get(key, date - 1):
                    newest[key] = date

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        """Newest ``date`` written to ``collection`` (of ``device`` if given)."""
        return self._newest.get(collection.value, {}).get(device)

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        """Append the documents whose identifier the file does not hold yet."""
        seen = self._seen.setdefault(collection.value, set())
        self._newest.setdefault(collection.value, {})
        fresh: dict[str, dict[str, Any]] = {}
        for doc in docs:
            payload = doc.to_nightscout()
            ident = payload.get("identifier")
            if not isinstance(ident, str):
                raise ValueError("files output: every document needs its identifier")
            if ident not in seen and ident not in fresh:
                fresh[ident] = payload
        if fresh:
            data = b"".join(orjson.dumps(d) + b"\n" for d in fresh.values())
            path = self.path(collection)
            try:
                await asyncio.to_thread(_append, path, data)
            except OSError as exc:
                raise RetriableError(f"files output: cannot write {path.name}: {exc}") from exc
            for payload in fresh.values():
                self._remember(collection.value, payload)
        return WriteResult(created=len(fresh), duplicates=len(docs) - len(fresh))

    async def aclose(self) -> None:
        """Nothing stays open between writes."""


def _append(path: Path, data: bytes) -> None:
    """Append ``data`` durably; on failure cut the file back to its previous size."""
    with path.open("ab") as handle:
        start = handle.tell()
        try:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            handle.truncate(start)
            raise
