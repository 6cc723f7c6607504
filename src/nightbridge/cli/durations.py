"""Durations on the command line: ``90d``, ``24h``, ``30m``, ``45s``, ``2w``, or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

import typer

_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """A positive duration; ValueError naming the text otherwise."""
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90d, 24h, 30m, 1h30m)")
    total = sum((timedelta(**{_UNITS[u]: float(n)}) for n, u in parts), timedelta())
    if total <= timedelta(0):
        raise ValueError(f"not a positive duration: {text!r}")
    return total


def duration_option(value: str) -> timedelta:
    """typer callback form: bad text is a usage error (exit 2) naming the option value."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
