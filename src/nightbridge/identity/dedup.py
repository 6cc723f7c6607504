"""In-batch de-duplication: one document per identifier, the last one seen wins.

A vendor window often overlaps itself (the current reading repeated in the graph, the same bolus
in two pages); the output must see each identifier once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from nightbridge.identity.keys import identify
from nightbridge.model.document import NSDocument

D = TypeVar("D", bound=NSDocument)


def unique_by_identifier(docs: Iterable[D]) -> list[D]:
    """Identify every document and keep one per identifier (the last), in first-seen order."""
    seen: dict[str, D] = {}
    for doc in docs:
        ident = doc.identifier
        if ident is None:
            ident = identify(doc).identifier
            assert ident is not None
        seen[ident] = doc
    return list(seen.values())


def newest_date(docs: Sequence[NSDocument]) -> int | None:
    """Largest ``date`` (epoch ms) of ``docs``, or None when empty."""
    return max((d.date for d in docs), default=None)
