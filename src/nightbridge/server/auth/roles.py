"""Roles, subjects and access tokens, as cgm-remote-monitor defines them.

Built-in roles (added when the store has no role of that name): ``admin`` → ``*``, ``denied`` →
nothing, ``status-only``, ``readable`` → ``*:*:read``, ``careportal``, ``devicestatus-upload``,
``activity``. An access token is ``<name>-<16 hex>``: the name lower-cased, non-word characters
removed, first 10 characters; the hex is the start of ``sha1(sha1hex(API_SECRET) + subject_id)``.
Lookup matches on the hex suffix only (the name part is decoration), as Nightscout does; tokens
therefore change when API_SECRET changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

BUILTIN_ROLES: Mapping[str, tuple[str, ...]] = {
    "admin": ("*",),
    "denied": (),
    "status-only": ("api:status:read",),
    "readable": ("*:*:read",),
    "careportal": ("api:treatments:create",),
    "devicestatus-upload": ("api:devicestatus:create",),
    "activity": ("api:activity:create",),
}

_NON_WORD = re.compile(r"\W")
_TOKEN = re.compile(r"^(?:[\w]{0,10}-)?([0-9a-f]{16})$")


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permission strings. ``id`` is the store's key (None for built-ins)."""

    name: str
    permissions: tuple[str, ...]
    id: str | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Subject:
    """Someone or something holding an access token: ``roles`` are role names."""

    id: str
    name: str
    roles: tuple[str, ...]
    notes: str = ""


def access_token(secret_sha1_hex: str, subject: Subject) -> str:
    """The subject's access token (``<abbrev>-<16 hex>``) for this API_SECRET."""
    digest = hashlib.sha1((secret_sha1_hex + subject.id).encode()).hexdigest()
    abbrev = _NON_WORD.sub("", subject.name.lower())[:10]
    return f"{abbrev}-{digest[:16]}"


def token_suffix(token: str) -> str | None:
    """The 16-hex part of something shaped like an access token, else None."""
    match = _TOKEN.match(token.strip().lower())
    return match.group(1) if match else None


def split_roles(text: str) -> tuple[str, ...]:
    """``AUTH_DEFAULT_ROLES`` is split on spaces, commas and colons."""
    return tuple(r for r in re.split(r"[\s,:]+", text.strip()) if r)
