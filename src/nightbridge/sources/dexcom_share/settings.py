"""Settings of one Dexcom Share account, and where its server is.

``server`` accepts what the peers accept: a region keyword in any case (``us``, ``ous``, ``eu``
— BRIDGE_SERVER's ``EU`` means outside-US — ``jp``; blank means US), a host name
(``shareous1.dexcom.com``) or a full base URL with scheme and port (``http://127.0.0.1:8081``)
for proxies, mirrors and fakes. A URL without a path gets Share's ``/ShareWebServices/Services/``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator

#: Every Share path hangs off this prefix on every region's host.
SERVICES_PATH = "/ShareWebServices/Services/"
#: The marker share2nightscout-bridge puts on its entries (peer-config §6): keeping it makes a
#: switch from that bridge duplicate-free (same device → same Nightscout v3 identifier).
DEFAULT_DEVICE = "share2"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class DexcomRegion(StrEnum):
    US = "us"
    OUS = "ous"
    JP = "jp"


#: Host and applicationId per region (protocols-cgm.md §1.1).
HOSTS: dict[DexcomRegion, str] = {
    DexcomRegion.US: "share2.dexcom.com",
    DexcomRegion.OUS: "shareous1.dexcom.com",
    DexcomRegion.JP: "share.dexcom.jp",
}
APPLICATION_IDS: dict[DexcomRegion, str] = {
    DexcomRegion.US: "d89443d2-327c-4a6f-89e5-496bbb0317db",
    DexcomRegion.OUS: "d89443d2-327c-4a6f-89e5-496bbb0317db",
    DexcomRegion.JP: "d8665ade-9673-4e27-9ff6-92db4ce13d13",
}
_KEYWORDS: dict[str, DexcomRegion] = {
    "": DexcomRegion.US,
    "us": DexcomRegion.US,
    "ous": DexcomRegion.OUS,
    "eu": DexcomRegion.OUS,
    "jp": DexcomRegion.JP,
}


def region_keyword(value: str) -> DexcomRegion | None:
    """The region a keyword names (any case, surrounding blanks ignored), else None."""
    return _KEYWORDS.get(value.strip().lower())


class DexcomSettings(BaseModel):
    """One Share publisher account. Give ``username`` or ``account_id`` (the id skips step 1).

    Build from a dict with ``DexcomSettings.model_validate({...})``; unknown keys are refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str | None = None
    account_id: str | None = None
    password: SecretStr
    server: str = "us"
    #: Nightscout ``device`` marker on every entry.
    device: str = DEFAULT_DEVICE
    #: Override the region's applicationId (None: the region's, or US for an unknown host).
    application_id: str | None = None

    @field_validator("username", "account_id", "application_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("password", mode="before")
    @classmethod
    def _password_as_text(cls, value: Any) -> Any:
        # A TOML or env layer may hand over an all-digit password as a number.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("server", mode="before")
    @classmethod
    def _server_known(cls, value: Any) -> Any:
        if value is None:
            return "us"
        if isinstance(value, str):
            _resolve(value)  # raises ValueError with the accepted forms
        return value

    @model_validator(mode="after")
    def _who(self) -> DexcomSettings:
        if self.username is None and self.account_id is None:
            raise ValueError("Dexcom Share needs a username or an account id")
        if self.account_id is not None and not _UUID.match(self.account_id):
            raise ValueError(
                "Dexcom account id must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
            )
        if not self.password.get_secret_value():
            raise ValueError("Dexcom Share needs a password")
        return self

    @property
    def region(self) -> DexcomRegion | None:
        """The region the server setting names or whose host it is; None for other hosts."""
        return _resolve(self.server)[1]

    @property
    def base_url(self) -> str:
        """Base URL of the Share services, ending in ``/`` (paths like ``General/...`` join it)."""
        return _resolve(self.server)[0]

    @property
    def resolved_application_id(self) -> str:
        """The applicationId sent at login."""
        if self.application_id is not None:
            return self.application_id
        return APPLICATION_IDS[self.region or DexcomRegion.US]

    @property
    def account(self) -> str:
        """How the account is named in logs and status: the username, else the account id."""
        return self.username or self.account_id or ""


def _resolve(server: str) -> tuple[str, DexcomRegion | None]:
    """(base URL ending in ``/``, region or None) for a keyword, host or URL."""
    region = region_keyword(server)
    if region is not None:
        return f"https://{HOSTS[region]}{SERVICES_PATH}", region
    text = server.strip()
    if "://" not in text:
        if "." not in text and ":" not in text:
            raise ValueError(
                f"Dexcom server {text!r}: use us, ous (or eu), jp, a host name or a full URL"
            )
        text = f"https://{text}"
    url = httpx.URL(text)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"Dexcom server {server!r}: not an http(s) URL")
    path = url.path if url.path not in ("", "/") else SERVICES_PATH
    if not path.endswith("/"):
        path += "/"
    base = str(url.copy_with(path=path, query=None, fragment=None))
    known = {host: r for r, host in HOSTS.items()}
    return base, known.get(url.host.lower())
