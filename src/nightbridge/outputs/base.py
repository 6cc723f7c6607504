"""What every output is: a small Protocol and the acknowledgement it returns.

An output writes documents that already carry their ``identifier``. Writes are idempotent:
writing the same documents again changes nothing and reports them as ``duplicates``.
A write either acknowledges the whole list or raises (RetriableError / FatalError); the engine
advances a cursor only after an acknowledgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from nightbridge.model import Collection, NSDocument


@dataclass(frozen=True, slots=True)
class WriteResult:
    """Acknowledgement of one write: ``created`` new documents, ``duplicates`` already present."""

    created: int = 0
    duplicates: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.created + other.created, self.duplicates + other.duplicates)


@runtime_checkable
class Output(Protocol):
    """A destination. ``label`` identifies it in cursors and logs (no secrets in it)."""

    kind: ClassVar[str]
    label: str

    async def open(self) -> None:
        """Connect and verify credentials before the first write (e.g. v1 ``verifyauth``)."""

    async def newest(self, collection: Collection, device: str | None = None) -> int | None:
        """Epoch ms of the newest document the output holds (of ``device`` if given), or None."""

    async def write(self, collection: Collection, docs: Sequence[NSDocument]) -> WriteResult:
        """Write ``docs`` idempotently; return only once the destination acknowledged all."""

    async def aclose(self) -> None:
        """Release connections."""
