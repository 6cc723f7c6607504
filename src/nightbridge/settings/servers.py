"""Server settings: a region keyword, a host name, or a full base URL, resolved to one base URL.

Every source and output takes its server this way (DESIGN.md "Configuration"), so a proxy, a
regional mirror or a fake on loopback (``http://127.0.0.1:8081``) is one setting away.
A base URL here is ``scheme://host[:port][/path]`` with no trailing slash, query or fragment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+$")


def _shown(value: str) -> str:
    """``value`` as it may appear in an error: without a query string (tokens ride there)."""
    return repr(value.split("?", 1)[0].strip())


def parse_base_url(value: str, *, default_scheme: str = "https") -> str:
    """Normalise a host (``ns.example.org``, ``127.0.0.1:1337``) or URL to a base URL.

    A value without ``://`` is a host (optionally with port and path) and gets
    ``default_scheme``. Raises ValueError ``"not a URL or host: '<value>'"`` otherwise.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty: expected a URL or host")
    candidate = text if "://" in text else f"{default_scheme}://{text}"
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        raise ValueError(f"not a URL or host: {_shown(value)}") from None
    host = parts.hostname or ""
    is_ipv6 = "[" in parts.netloc and bool(_IPV6.match(host))
    if (
        parts.scheme.lower() not in ("http", "https")
        or not host
        or not (is_ipv6 or _HOST.match(host))
        or "@" in parts.netloc
        or " " in text
    ):
        raise ValueError(f"not a URL or host: {_shown(value)}")
    netloc = f"[{host}]" if is_ipv6 else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{netloc}{path}"


def resolve_server(value: str | None, regions: Mapping[str, str], default: str) -> str:
    """The base URL for a server setting.

    ``regions`` maps region keywords (matched case-insensitively) to base URLs; ``default`` is
    the keyword used when ``value`` is None or blank. Anything else is a host or URL
    (:func:`parse_base_url`). Raises ValueError naming the value when it is none of these;
    callers turn it into ``ConfigError`` with the variable's name.
    """
    table = {key.lower(): url for key, url in regions.items()}
    text = (value or "").strip() or default
    found = table.get(text.lower())
    if found is not None:
        return found.rstrip("/")
    if "." not in text and "://" not in text and ":" not in text and text.lower() != "localhost":
        known = ", ".join(sorted(regions))
        raise ValueError(f"not a region ({known}), host or URL: {_shown(text)}")
    return parse_base_url(text)
