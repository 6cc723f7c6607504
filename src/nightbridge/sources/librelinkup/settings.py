"""Settings of one LibreLinkUp account, and the region → host table.

``server`` takes a region keyword in any case (``eu``, ``EU2``, ``gb``), a bare host name
(``api-de.libreview.io``) or a full base URL with scheme and optional port
(``http://127.0.0.1:8081``, for proxies and fakes); ``base_url`` is the resolved form.
The env-var alias layer builds this model from a plain dict.
"""

from __future__ import annotations

from enum import StrEnum

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Region(StrEnum):
    """Every LibreLinkUp region (protocols-cgm §2.1). The value is the vendor's region key."""

    AE = "ae"
    AP = "ap"
    AU = "au"
    CA = "ca"
    CN = "cn"
    DE = "de"
    EU = "eu"
    EU2 = "eu2"
    FR = "fr"
    JP = "jp"
    LA = "la"
    RU = "ru"
    US = "us"


#: Hosts that do not follow ``api-<region>.libreview.io``.
_SPECIAL_HOSTS = {Region.CN: "api-cn.myfreestyle.cn", Region.RU: "api.libreview.ru"}
#: Keywords other tools accept for a region (nightscout-connect: GB/UK = EU2).
REGION_ALIASES = {"gb": Region.EU2, "uk": Region.EU2}

#: Defaults shared with nightscout-librelink-up 3.2 (the most used peer; peer-config §3, §6):
#: readings keep its ``device`` marker so switching tools doubles nothing.
DEFAULT_SERVER = "eu"
DEFAULT_VERSION = "4.16.0"
DEFAULT_PRODUCT = "llu.ios"
DEFAULT_DEVICE = "nightscout-librelink-up"


def region_host(region: Region) -> str:
    """The API host of ``region`` (no scheme)."""
    return _SPECIAL_HOSTS.get(region, f"api-{region.value}.libreview.io")


def parse_region(text: str) -> Region | None:
    """The region named by ``text`` (any case, aliases included), or None."""
    key = text.strip().lower()
    if key in REGION_ALIASES:
        return REGION_ALIASES[key]
    try:
        return Region(key)
    except ValueError:
        return None


def region_base_url(region: str) -> str:
    """``https://<host>`` of a region key as the vendor sends it in a login redirect.

    ValueError for a region nightbridge does not know.
    """
    known = parse_region(region)
    if known is None:
        raise ValueError(f"unknown LibreLinkUp region {region!r}")
    return f"https://{region_host(known)}"


def resolve_server(value: str) -> str:
    """Base URL (scheme://host[:port], no trailing slash) for a region, host or URL.

    ValueError when ``value`` is none of these.
    """
    text = value.strip()
    region = parse_region(text)
    if region is not None:
        return f"https://{region_host(region)}"
    if "://" not in text:
        if not text or "/" in text or ("." not in text and not text.startswith("localhost")):
            raise ValueError(
                f"LibreLinkUp server {value!r} is not a region "
                f"({', '.join(r.name for r in Region)}), a host name or a URL"
            )
        text = f"https://{text}"
    url = httpx.URL(text)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"LibreLinkUp server {value!r} is not an http(s) URL")
    return str(url.copy_with(query=None, fragment=None)).rstrip("/")


class LibreSettings(BaseModel):
    """One LibreLinkUp follower account (the e-mail and password of the LibreLinkUp app)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(min_length=1, description="LibreLinkUp e-mail")
    password: SecretStr
    server: str = Field(default=DEFAULT_SERVER, description="region keyword, host or base URL")
    patient_id: str | None = Field(
        default=None, description="connection patientId to follow; None: the first connection"
    )
    device: str = Field(default=DEFAULT_DEVICE, min_length=1, description="Nightscout device")
    version: str = Field(default=DEFAULT_VERSION, min_length=1, description="'version' header")
    product: str = Field(default=DEFAULT_PRODUCT, min_length=1, description="'product' header")

    @field_validator("server")
    @classmethod
    def _check_server(cls, value: str) -> str:
        resolve_server(value)
        return value.strip()

    @field_validator("patient_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def base_url(self) -> str:
        """The resolved ``scheme://host[:port]`` all API paths hang off."""
        return resolve_server(self.server)
