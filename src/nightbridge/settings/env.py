"""Environment variables read the way the peer tools read them.

Names match case-insensitively (share2nightscout-bridge and Nightscout also read the lower-case
name), an Azure ``CUSTOMCONNSTR_<NAME>`` counts as ``<NAME>``, and an empty or blank value
counts as unset (peer-config.md §2.1, §6). Values come back with the variable that held them,
so every error can name the variable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nightbridge.errors import ConfigError

_AZURE_PREFIX = "CUSTOMCONNSTR_"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True, slots=True)
class Found:
    """A value and the environment variable (as spelled in the environment) it came from."""

    variable: str
    value: str


class EnvView:
    """Read-only, case-insensitive view of an environment mapping."""

    __slots__ = ("_values",)

    def __init__(self, environ: Mapping[str, str]) -> None:
        ranked: dict[str, tuple[int, Found]] = {}
        for name, value in environ.items():
            if not value or not value.strip():
                continue
            key = name.upper()
            rank = 0 if name == key else 1
            if key.startswith(_AZURE_PREFIX):
                key, rank = key[len(_AZURE_PREFIX) :], rank + 2
            if key not in ranked or rank < ranked[key][0]:
                ranked[key] = (rank, Found(name, value.strip()))
        self._values = {key: found for key, (_, found) in ranked.items()}

    def get(self, name: str) -> Found | None:
        """The value of ``name`` (any case), or None when unset or blank."""
        return self._values.get(name.upper())

    def first(self, names: Iterable[str]) -> Found | None:
        """The first of ``names`` that is set."""
        for name in names:
            found = self.get(name)
            if found is not None:
                return found
        return None

    def names(self) -> list[str]:
        """Upper-cased names of every set variable."""
        return list(self._values)


def parse_bool(found: Found) -> bool:
    """``true/1/yes/on`` or ``false/0/no/off`` (any case); ConfigError naming the variable."""
    text = found.value.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{found.variable}: not true or false: {found.value!r}", found.variable)


def parse_number(found: Found) -> float:
    """A positive number; ConfigError naming the variable."""
    try:
        number = float(found.value)
    except ValueError:
        raise ConfigError(
            f"{found.variable}: not a number: {found.value!r}", found.variable
        ) from None
    if not number > 0 or number == float("inf"):
        raise ConfigError(f"{found.variable}: must be positive: {found.value!r}", found.variable)
    return number
