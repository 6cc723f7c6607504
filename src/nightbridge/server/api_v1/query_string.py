"""Query strings parsed as Express's ``qs`` does: ``find[sgv][$gte]=120`` becomes nested dicts.

Bracketed keys nest (``a[b][c]=1`` → ``{"a": {"b": {"c": "1"}}}``), ``a[]=x`` and ``a[0]=x``
append to a list, ``+`` is a space (form decoding), a leading doubled ``??`` (oref0) is ignored.
Depth and parameter count are capped as qs caps them, so a hostile query cannot blow up memory.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

MAX_PARAMETERS = 1000
MAX_DEPTH = 5
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

Nested = dict[str, Any]


def _path(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    parts = [head]
    segments = _SEGMENT.findall("[" + rest)
    parts.extend(segments[:MAX_DEPTH])
    return parts


def _assign(target: Nested, path: list[str], value: str) -> None:
    node: Any = target
    for i, part in enumerate(path):
        last = i == len(path) - 1
        nxt = path[i + 1] if not last else None
        if isinstance(node, list):
            if last:
                node.append(value)
                return
            child: Any = {} if nxt and not nxt.isdigit() else []
            node.append(child)
            node = child
            continue
        if last:
            existing = node.get(part)
            if existing is None:
                node[part] = value
            elif isinstance(existing, list):
                existing.append(value)
            elif isinstance(existing, str):
                node[part] = [existing, value]
            return
        want_list = nxt == "" or (nxt is not None and nxt.isdigit())
        child = node.get(part)
        if child is None or isinstance(child, str):
            child = [] if want_list else {}
            node[part] = child
        node = child


def parse_query(raw: bytes | str) -> Nested:
    """Nested parameters of a raw query string (bytes from the ASGI scope, or text)."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    text = text.lstrip("?")
    result: Nested = {}
    for count, pair in enumerate(text.split("&")):
        if count >= MAX_PARAMETERS:
            break
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key = unquote_plus(key, encoding="utf-8", errors="replace")
        if not key:
            continue
        _assign(result, _path(key), unquote_plus(value, encoding="utf-8", errors="replace"))
    return result
