"""Apache-Shiro style permission strings, checked as cgm-remote-monitor does (shiro-trie).

A permission is ``part:part:part``; each part is a comma list of words or ``*``. A granted
permission implies a wanted one when every wanted part is covered by the granted part at the same
position (``*`` covers everything); a granted permission with fewer parts implies everything below
it (``api`` implies ``api:entries:read``), one with more parts only if the extra parts are ``*``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache


def _split(permission: str) -> tuple[frozenset[str], ...]:
    return tuple(
        frozenset(w.strip() for w in part.split(",") if w.strip())
        for part in permission.strip().split(":")
    )


@lru_cache(maxsize=4096)
def implies(granted: str, wanted: str) -> bool:
    """True when the granted permission string covers the wanted one."""
    g_parts, w_parts = _split(granted), _split(wanted)
    for i, w in enumerate(w_parts):
        if i >= len(g_parts):
            return True
        g = g_parts[i]
        if "*" in g:
            continue
        if not w or "*" in w or not w <= g:
            return False
    return all("*" in g for g in g_parts[len(w_parts) :])


@dataclass(frozen=True, slots=True)
class PermissionSet:
    """The permissions of a principal; ``allows`` answers from a per-set memo."""

    granted: tuple[str, ...]
    _memo: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, permissions: Iterable[str]) -> PermissionSet:
        return cls(tuple(dict.fromkeys(p for p in permissions if p)))

    def allows(self, wanted: str) -> bool:
        hit = self._memo.get(wanted)
        if hit is None:
            hit = any(implies(g, wanted) for g in self.granted)
            self._memo[wanted] = hit
        return hit
